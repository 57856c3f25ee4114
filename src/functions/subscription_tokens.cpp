#include "functions/subscription_tokens.hpp"

#include "domain/email.hpp"

namespace orderflow::functions {
namespace {

constexpr std::size_t kMaxTokenBytes = 2048;

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

// "<address in hex>.<signature>", the form of the links mailed before link tokens.
std::optional<std::string> read_legacy_token(const ports::Signer& signer, std::string_view token) {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || token.find('.', dot + 1) != std::string_view::npos)
    return std::nullopt;
  const std::string who(token.substr(0, dot));
  if (!signer.verify("unsubscribe\n" + who, token.substr(dot + 1))) return std::nullopt;
  return unhex(who);
}

}  // namespace

std::string link_token_hash(const ports::Signer& signer, std::string_view token) {
  return signer.sign("link-token\n" + std::string(token));
}

std::string unsubscribe_link(const ports::Signer& signer, ports::SubscriptionStore& store,
                             std::string_view public_url, std::string_view email,
                             domain::Timestamp now) {
  const std::string token = signer.sign("unsubscribe-link\n" + domain::email_key(email));
  store.keep_link(link_token_hash(signer, token), ports::LinkPurpose::unsubscribe, email,
                  std::nullopt, now);
  return std::string(public_url) + "/subscriptions/unsubscribe?token=" + token;
}

std::optional<std::string> read_confirm_token(const ports::Signer& signer,
                                              ports::SubscriptionStore& store,
                                              std::string_view token, domain::Timestamp now) {
  return store.find_link(link_token_hash(signer, token), ports::LinkPurpose::confirm, now);
}

std::optional<std::string> read_unsubscribe_token(const ports::Signer& signer,
                                                  ports::SubscriptionStore& store,
                                                  std::string_view token, domain::Timestamp now) {
  if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
  if (token.find('.') != std::string_view::npos) return read_legacy_token(signer, token);
  return store.find_link(link_token_hash(signer, token), ports::LinkPurpose::unsubscribe, now);
}

}  // namespace orderflow::functions
