#include "runtime/static_assets.hpp"

#include <string>

#include "domain/order.hpp"

namespace orderflow::runtime {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// "q=0", "q=0.0", "q=0.000" refuse a coding; anything else accepts it.
bool refused(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    std::string_view value = param.substr(2);
    if (value.empty() || value[0] != '0') return false;
    return value.find_first_not_of("0.", 1) == std::string_view::npos;
  }
  return false;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip") || coding == "*")
      return semi == std::string_view::npos || !refused(item.substr(semi + 1));
  }
  return false;
}

const EmbeddedFile* find_embedded_file(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const EmbeddedFile& file : embedded_files())
    if (file.path == path) return &file;
  return nullptr;
}

functions::Response serve_embedded_file(const EmbeddedFile& file, const functions::Request& req) {
  const bool gzip = !file.gzip_body.empty() && accepts_gzip(req.header("Accept-Encoding"));
  // Each encoding is its own representation, so each has its own strong validator.
  std::string etag(file.etag);
  if (gzip) etag.insert(etag.size() - 1, "-gz");

  functions::Response r;
  r.content_type = std::string(file.content_type);
  r.headers.emplace_back("ETag", etag);
  // Hashed names change with their content, so browsers may keep them forever; the page that
  // names them must be revalidated every time.
  r.headers.emplace_back("Cache-Control",
                         file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (file.path == "/index.html") {
    // Everything the app loads comes from this origin; nothing is inlined or framed.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (req.has_header("If-None-Match") &&
      domain::if_none_match_names(req.header("If-None-Match"), etag)) {
    r.status = 304;
    return r;
  }
  if (gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body = std::string(file.gzip_body);
  } else {
    r.body = std::string(file.body);
  }
  return r;
}

}  // namespace orderflow::runtime
