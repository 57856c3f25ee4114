#include "functions/image_multipart.hpp"

#include <algorithm>

namespace orderflow::functions {
namespace {

constexpr std::size_t kMaxHeaderBlock = std::size_t{8} * 1024;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "type; a=1; b=\"x;y\"" into the type and its parameters (lower-case names, values
// unquoted). Quoted strings may contain ';' and backslash escapes.
struct HeaderValue {
  std::string_view type;
  std::vector<std::pair<std::string, std::string>> params;
  const std::string* param(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return &v;
    return nullptr;
  }
};

std::optional<HeaderValue> parse_header_value(std::string_view text) {
  HeaderValue out;
  const auto semi = text.find(';');
  out.type = trim(text.substr(0, semi));
  std::size_t pos = semi == std::string_view::npos ? text.size() : semi + 1;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == ';')) ++pos;
    if (pos >= text.size()) break;
    const auto eq = text.find('=', pos);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string name;
    for (char c : trim(text.substr(pos, eq - pos))) name += lower(c);
    pos = eq + 1;
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    std::string value;
    if (pos < text.size() && text[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < text.size()) {
        const char c = text[pos++];
        if (c == '\\' && pos < text.size()) {
          value += text[pos++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      const auto end = text.find(';', pos);
      value = std::string(trim(
          text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos)));
      pos = end == std::string_view::npos ? text.size() : end;
    }
    if (name.empty()) return std::nullopt;
    out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

bool valid_boundary(std::string_view b) {
  // RFC 2046: 1-70 characters from a restricted set, not ending in a space.
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  constexpr std::string_view kSpecials = "'()+_,-./:=? ";
  return std::all_of(b.begin(), b.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto value = parse_header_value(content_type);
  if (!value || !iequals(value->type, "multipart/form-data")) return std::nullopt;
  const std::string* boundary = value->param("boundary");
  if (boundary == nullptr || !valid_boundary(*boundary)) return std::nullopt;
  return *boundary;
}

domain::Result<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                      std::string_view boundary,
                                                      std::size_t max_parts) {
  const auto failed = [](const char* reason) { return domain::fail(reason); };
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;

  // The first delimiter starts the body or a line (anything before it is preamble).
  std::size_t pos;
  if (body.substr(0, delimiter.size()) == delimiter) {
    pos = delimiter.size();
  } else {
    const auto found = body.find(next_delimiter);
    if (found == std::string_view::npos) return failed("multipart body has no boundary delimiter");
    pos = found + next_delimiter.size();
  }

  std::vector<FormPart> parts;
  for (;;) {
    // After a delimiter: "--" closes the body; otherwise optional padding and CRLF.
    if (body.substr(pos, 2) == "--") return parts;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n")
      return failed("multipart delimiter is not followed by a line break");
    pos += 2;
    if (parts.size() == max_parts) return failed("multipart body has too many parts");

    const auto headers_end = body.find("\r\n\r\n", pos);
    const bool no_headers = body.substr(pos, 2) == "\r\n";
    if (!no_headers &&
        (headers_end == std::string_view::npos || headers_end - pos > kMaxHeaderBlock))
      return failed("multipart part headers do not end");
    const std::string_view headers =
        no_headers ? std::string_view() : body.substr(pos, headers_end - pos);
    pos = no_headers ? pos + 2 : headers_end + 4;

    FormPart part;
    bool disposition_seen = false;
    std::size_t line_start = 0;
    while (line_start < headers.size()) {
      auto line_end = headers.find("\r\n", line_start);
      if (line_end == std::string_view::npos) line_end = headers.size();
      const auto line = headers.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return failed("multipart part has a malformed header");
      const auto name = trim(line.substr(0, colon));
      const auto value = trim(line.substr(colon + 1));
      if (iequals(name, "Content-Disposition")) {
        const auto parsed = parse_header_value(value);
        if (!parsed || !iequals(parsed->type, "form-data"))
          return failed("multipart part is not form-data");
        if (const auto* n = parsed->param("name")) part.name = *n;
        if (const auto* f = parsed->param("filename")) {
          part.filename = *f;
          part.has_filename = true;
        }
        disposition_seen = true;
      } else if (iequals(name, "Content-Type")) {
        part.content_type = std::string(value);
      }
    }
    if (!disposition_seen || part.name.empty())
      return failed("multipart part has no form-data name");

    const auto end = body.find(next_delimiter, pos);
    if (end == std::string_view::npos)
      return failed("multipart body ends without its closing delimiter");
    part.body = body.substr(pos, end - pos);
    parts.push_back(std::move(part));
    pos = end + next_delimiter.size();
  }
}

}  // namespace orderflow::functions
