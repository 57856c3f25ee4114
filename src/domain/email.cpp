#include "domain/email.hpp"

namespace orderflow::domain {

Result<std::string> normalize_email(std::string_view raw) {
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
  if (raw.empty()) return fail("Email is required");
  if (raw.size() > 254) return fail("Invalid email format");
  const auto at = raw.find('@');
  if (at == std::string_view::npos || at == 0 || raw.find('@', at + 1) != std::string_view::npos)
    return fail("Invalid email format");
  const std::string_view local = raw.substr(0, at);
  const std::string_view domain = raw.substr(at + 1);
  if (local.size() > 64) return fail("Invalid email format");
  for (char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\')
      return fail("Invalid email format");
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return fail("Invalid email format");
  int labels = 0;
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return fail("Invalid email format");
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
        return fail("Invalid email format");
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2) return fail("Invalid email format");
  return std::string(raw);
}

std::string email_key(std::string_view email) {
  std::string key(email);
  for (char& c : key)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return key;
}

}  // namespace orderflow::domain
