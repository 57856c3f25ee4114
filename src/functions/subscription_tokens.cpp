#include "functions/subscription_tokens.hpp"

#include <charconv>

#include "domain/email.hpp"
#include "domain/encoding.hpp"

namespace orderflow::functions {
namespace {

std::string hex(std::string_view s) { return domain::to_hex(s); }

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2 != 0 || s.empty()) return std::nullopt;
  const auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// Splits "a.b.c" into its parts (expects exactly `n` parts).
bool split(std::string_view token, std::string_view* parts, int n) {
  for (int i = 0; i < n - 1; ++i) {
    const auto dot = token.find('.');
    if (dot == std::string_view::npos) return false;
    parts[i] = token.substr(0, dot);
    token.remove_prefix(dot + 1);
  }
  parts[n - 1] = token;
  return token.find('.') == std::string_view::npos;
}

}  // namespace

std::string make_confirm_token(const ports::Signer& signer, std::string_view email,
                               domain::Timestamp expires) {
  const std::string who = hex(domain::email_key(email));
  const std::string exp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count());
  return who + "." + exp + "." + signer.sign("confirm\n" + who + "\n" + exp);
}

std::optional<std::string> read_confirm_token(const ports::Signer& signer, std::string_view token,
                                              domain::Timestamp now) {
  std::string_view parts[3];
  if (token.size() > 2048 || !split(token, parts, 3)) return std::nullopt;
  const std::string who(parts[0]), exp(parts[1]);
  if (!signer.verify("confirm\n" + who + "\n" + exp, parts[2])) return std::nullopt;
  long long expires = 0;
  auto [ptr, ec] = std::from_chars(exp.data(), exp.data() + exp.size(), expires);
  if (ec != std::errc{} || ptr != exp.data() + exp.size()) return std::nullopt;
  if (std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() > expires)
    return std::nullopt;
  return unhex(who);
}

std::string make_unsubscribe_token(const ports::Signer& signer, std::string_view email) {
  const std::string who = hex(domain::email_key(email));
  return who + "." + signer.sign("unsubscribe\n" + who);
}

std::optional<std::string> read_unsubscribe_token(const ports::Signer& signer,
                                                  std::string_view token) {
  std::string_view parts[2];
  if (token.size() > 2048 || !split(token, parts, 2)) return std::nullopt;
  const std::string who(parts[0]);
  if (!signer.verify("unsubscribe\n" + who, parts[1])) return std::nullopt;
  return unhex(who);
}

std::string unsubscribe_link(const ports::Signer& signer, std::string_view public_url,
                             std::string_view email) {
  return std::string(public_url) +
         "/subscriptions/unsubscribe?token=" + make_unsubscribe_token(signer, email);
}

}  // namespace orderflow::functions
