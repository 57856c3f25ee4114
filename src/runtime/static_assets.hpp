// The web app (web/, built by Vite) embedded in the binary and served at / and /assets/*.
// The files and their gzip forms are generated at build time (web/embed_assets.cmake).
#pragma once

#include <span>
#include <string_view>

#include "functions/api.hpp"

namespace orderflow::runtime {

struct EmbeddedFile {
  std::string_view path;  // "/index.html", "/assets/index-BIqO11d2.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view gzip_body;  // gzip -9 of body
  std::string_view etag;       // strong ETag of body, quoted; the gzip form adds "-gz"
  bool immutable;              // a content-hashed file under /assets/
};

// Every embedded file (defined in the generated web_assets_data.cpp).
std::span<const EmbeddedFile> embedded_files();

// The file served at `path` ("/" means /index.html), or null.
const EmbeddedFile* find_embedded_file(std::string_view path);

// GET of one embedded file: ETag, Cache-Control (immutable for hashed assets, no-cache for the
// page), gzip when Accept-Encoding allows it, Vary: Accept-Encoding, 304 on If-None-Match.
functions::Response serve_embedded_file(const EmbeddedFile& file, const functions::Request& req);

// True when an Accept-Encoding value accepts gzip (a "gzip" or "*" coding without q=0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace orderflow::runtime
