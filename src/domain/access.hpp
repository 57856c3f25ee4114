// API keys and their scopes (issue 13): what a key may do, and the text forms of both.
//
// A key reads "ofk_<id>_<secret>": the id (16 hex digits) names the key in lists, logs and the
// revoke command; the secret (64 hex digits, 256 random bits) is shown once, when the key is
// made, and only its SHA-256 is stored.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::domain {

// One bit per scope. `admin` may do everything the others may, and manage keys and deliveries.
enum class Scope : std::uint8_t {
  orders_read = 1,
  orders_write = 2,
  reports_read = 4,
  admin = 8,
};

class Scopes {
 public:
  constexpr Scopes() = default;
  constexpr Scopes(Scope s) : bits_(static_cast<std::uint8_t>(s)) {}  // NOLINT: a set of one
  static constexpr Scopes from_bits(std::uint8_t bits) { return Scopes(bits & kAllBits); }
  static constexpr Scopes all() { return Scopes(kAllBits); }

  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint8_t bits() const { return bits_; }
  constexpr Scopes with(Scope s) const { return Scopes(bits_ | static_cast<std::uint8_t>(s)); }
  // True when a key with these scopes may do what `needed` allows.
  constexpr bool allow(Scope needed) const {
    return (bits_ &
            (static_cast<std::uint8_t>(needed) | static_cast<std::uint8_t>(Scope::admin))) != 0;
  }
  constexpr bool operator==(const Scopes&) const = default;

 private:
  static constexpr std::uint8_t kAllBits = 15;
  constexpr explicit Scopes(unsigned bits) : bits_(static_cast<std::uint8_t>(bits)) {}
  std::uint8_t bits_ = 0;
};

// "orders:read" for Scope::orders_read, and so on.
std::string_view scope_name(Scope s);
// The names of the scopes in a fixed order: {"orders:read", "orders:write"}.
std::vector<std::string_view> scope_list(Scopes scopes);
// The same, separated by `separator`: "orders:read orders:write".
std::string scope_names(Scopes scopes, std::string_view separator = " ");
// A list like "orders:read,orders:write" (commas or blanks between names). nullopt, with the
// offending name in `bad`, when a name is unknown or the list is empty.
std::optional<Scopes> parse_scopes(std::string_view list, std::string* bad = nullptr);
// One scope name; nullopt when unknown.
std::optional<Scope> parse_scope(std::string_view name);

// A lifetime like "90d", "12h", "30m" or "3600s": a positive whole number and a unit, at most
// ten years. nullopt when malformed.
std::optional<std::chrono::seconds> parse_lifetime(std::string_view text);

// The parts of a key's text.
struct KeyText {
  std::string_view id;
  std::string_view secret;
};
inline constexpr std::string_view kKeyPrefix = "ofk_";
inline constexpr std::size_t kKeyIdDigits = 16;
inline constexpr std::size_t kKeySecretDigits = 64;
// nullopt unless `key` has the form of a key (prefix, hex id, '_', hex secret).
std::optional<KeyText> parse_key_text(std::string_view key);
// True when `id` has the form of a key id (16 lower-case hex digits).
bool is_key_id(std::string_view id);

}  // namespace orderflow::domain
