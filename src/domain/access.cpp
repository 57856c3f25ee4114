#include "domain/access.hpp"

#include <array>
#include <charconv>

namespace orderflow::domain {
namespace {

struct NamedScope {
  Scope scope;
  std::string_view name;
};
constexpr std::array<NamedScope, 4> kScopes{{
    {Scope::orders_read, "orders:read"},
    {Scope::orders_write, "orders:write"},
    {Scope::reports_read, "reports:read"},
    {Scope::admin, "admin"},
}};

bool is_lower_hex(std::string_view text) {
  for (const char ch : text)
    if ((ch < '0' || ch > '9') && (ch < 'a' || ch > 'f')) return false;
  return true;
}

}  // namespace

std::string_view scope_name(Scope s) {
  for (const auto& named : kScopes)
    if (named.scope == s) return named.name;
  return "unknown";
}

std::vector<std::string_view> scope_list(Scopes scopes) {
  std::vector<std::string_view> names;
  for (const auto& named : kScopes)
    if ((scopes.bits() & static_cast<std::uint8_t>(named.scope)) != 0) names.push_back(named.name);
  return names;
}

std::string scope_names(Scopes scopes, std::string_view separator) {
  std::string out;
  for (const std::string_view name : scope_list(scopes)) {
    if (!out.empty()) out += separator;
    out += name;
  }
  return out;
}

std::optional<Scope> parse_scope(std::string_view name) {
  for (const auto& named : kScopes)
    if (named.name == name) return named.scope;
  return std::nullopt;
}

std::optional<Scopes> parse_scopes(std::string_view list, std::string* bad) {
  Scopes scopes;
  constexpr std::string_view kSeparators = ", \t";
  while (!list.empty()) {
    const auto start = list.find_first_not_of(kSeparators);
    if (start == std::string_view::npos) break;
    list.remove_prefix(start);
    const auto end = list.find_first_of(kSeparators);
    const std::string_view name = list.substr(0, end);
    const auto scope = parse_scope(name);
    if (!scope) {
      if (bad != nullptr) *bad = std::string(name);
      return std::nullopt;
    }
    scopes = scopes.with(*scope);
    list.remove_prefix(name.size());
  }
  if (scopes.empty()) {
    if (bad != nullptr) bad->clear();
    return std::nullopt;
  }
  return scopes;
}

std::optional<std::chrono::seconds> parse_lifetime(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  const std::string_view digits = text.substr(0, text.size() - 1);
  std::int64_t count = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (ec != std::errc{} || end != digits.data() + digits.size() || count < 1) return std::nullopt;
  constexpr std::int64_t kTenYears = std::int64_t{3650} * 86400;
  if (count > kTenYears / unit) return std::nullopt;
  return std::chrono::seconds(count * unit);
}

bool is_key_id(std::string_view id) { return id.size() == kKeyIdDigits && is_lower_hex(id); }

std::optional<KeyText> parse_key_text(std::string_view key) {
  if (key.size() != kKeyPrefix.size() + kKeyIdDigits + 1 + kKeySecretDigits ||
      !key.starts_with(kKeyPrefix))
    return std::nullopt;
  key.remove_prefix(kKeyPrefix.size());
  const std::string_view id = key.substr(0, kKeyIdDigits);
  if (!is_key_id(id) || key[kKeyIdDigits] != '_') return std::nullopt;
  const std::string_view secret = key.substr(kKeyIdDigits + 1);
  if (!is_lower_hex(secret)) return std::nullopt;
  return KeyText{id, secret};
}

}  // namespace orderflow::domain
