#include "domain/order.hpp"

#include <charconv>

namespace orderflow::domain {

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and code points past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += len;
  }
  return true;
}

namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

}  // namespace

Result<std::string> normalize_description(std::string_view raw) {
  if (!is_valid_utf8(raw)) return fail("description must be valid UTF-8");
  while (!raw.empty() && is_space(static_cast<unsigned char>(raw.front()))) raw.remove_prefix(1);
  while (!raw.empty() && is_space(static_cast<unsigned char>(raw.back()))) raw.remove_suffix(1);
  if (raw.empty()) return fail("description is required");
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
      return fail("description must not contain control characters");
  }
  if (count_code_points(raw) > kMaxDescriptionChars)
    return fail("description must be at most 1000 characters");
  return std::string(raw);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string etag_for(std::int64_t version) { return "\"" + std::to_string(version) + "\""; }

std::optional<std::int64_t> parse_if_match(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (h == "*") return 0;
  if (h.starts_with("W/")) h.remove_prefix(2);
  if (h.size() < 3 || h.front() != '"' || h.back() != '"') return std::nullopt;
  h = h.substr(1, h.size() - 2);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(h.data(), h.data() + h.size(), v);
  if (ec != std::errc{} || ptr != h.data() + h.size() || v <= 0) return std::nullopt;
  return v;
}

void write_order_fields(JsonWriter& w, const Order& o) {
  w.field("orderId", o.id)
      .field("description", o.description)
      .key("price")
      .raw_number(o.price.to_string())
      .field("creationDate", format_rfc3339(o.created))
      .field("lastModifiedDate", format_rfc3339(o.last_modified));
  if (!o.image_key.empty()) w.field("imageKey", o.image_key);
  if (!o.detected_labels.empty()) w.key("detectedLabels").raw(o.detected_labels);
  if (!o.validation_status.empty()) w.field("validationStatus", o.validation_status);
}

std::string order_json(const Order& o) {
  JsonWriter w;
  w.begin_object();
  write_order_fields(w, o);
  w.end_object();
  return w.take();
}

}  // namespace orderflow::domain
