#include "domain/order.hpp"

#include <algorithm>
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

std::optional<EntityTags> parse_entity_tags(std::string_view field) {
  const auto skip_blanks = [&field] {
    while (!field.empty() && (field.front() == ' ' || field.front() == '\t'))
      field.remove_prefix(1);
  };
  skip_blanks();
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  EntityTags out;
  if (field == "*") {
    out.any = true;
    return out;
  }
  bool expect_tag = true;
  while (!field.empty()) {
    if (!expect_tag) {
      if (field.front() != ',') return std::nullopt;
      field.remove_prefix(1);
      skip_blanks();
      expect_tag = true;
      continue;
    }
    if (field.front() == ',') {  // empty list elements are allowed (RFC 9110 §5.6.1)
      field.remove_prefix(1);
      skip_blanks();
      continue;
    }
    bool weak = false;
    if (field.starts_with("W/")) {
      weak = true;
      field.remove_prefix(2);
    }
    if (field.empty() || field.front() != '"') return std::nullopt;
    const auto close = field.find('"', 1);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view opaque = field.substr(1, close - 1);
    for (const char ch : opaque) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x21 || c == 0x7f) return std::nullopt;  // etagc: visible characters but DQUOTE
    }
    out.tags.emplace_back(weak, std::string(opaque));
    field.remove_prefix(close + 1);
    skip_blanks();
    expect_tag = false;
  }
  if (out.tags.empty()) return std::nullopt;
  return out;
}

namespace {

// The version an opaque tag of ours stands for ("3" -> 3), or nullopt.
std::optional<std::int64_t> version_of(std::string_view opaque) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(opaque.data(), opaque.data() + opaque.size(), v);
  if (opaque.empty() || ec != std::errc{} || ptr != opaque.data() + opaque.size() || v <= 0)
    return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::vector<std::int64_t>> if_match_versions(std::string_view field) {
  const auto tags = parse_entity_tags(field);
  if (!tags) return std::nullopt;
  std::vector<std::int64_t> versions;
  if (tags->any) {
    versions.push_back(0);
    return versions;
  }
  for (const auto& [weak, opaque] : tags->tags)
    if (const auto v = version_of(opaque); !weak && v) versions.push_back(*v);
  return versions;
}

bool if_none_match_hits(std::string_view field, std::int64_t version) {
  const auto tags = parse_entity_tags(field);
  if (!tags) return false;
  if (tags->any) return true;
  for (const auto& tag : tags->tags)
    if (version_of(tag.second) == version) return true;
  return false;
}

bool if_none_match_names(std::string_view field, std::string_view etag) {
  const auto tags = parse_entity_tags(field);
  if (!tags || etag.size() < 2) return false;
  if (tags->any) return true;
  const std::string_view opaque = etag.substr(1, etag.size() - 2);
  return std::any_of(tags->tags.begin(), tags->tags.end(),
                     [&](const auto& tag) { return tag.second == opaque; });
}

void write_order_fields(JsonWriter& w, const Order& o) {
  Rfc3339Buffer created;
  Rfc3339Buffer modified;
  w.field("orderId", o.id)
      .field("description", o.description)
      .key("price")
      .raw_number(o.price.to_string())
      .field("creationDate", format_rfc3339(o.created, created))
      .field("lastModifiedDate", format_rfc3339(o.last_modified, modified));
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
