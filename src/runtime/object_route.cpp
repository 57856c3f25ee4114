#include "runtime/object_route.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>

#include "adapters/files/file_object_store.hpp"
#include "domain/object_key.hpp"
#include "domain/order.hpp"

namespace orderflow::runtime {
namespace {

using functions::error_response;
using functions::Response;

// An encoded backslash or NUL in the path. An encoded slash is fine: clients generated from
// the OpenAPI document send the key as one path parameter, its '/' as %2F, and the decoded key
// is checked like any other (no "..", no empty segment).
bool has_encoded_separator(std::string_view raw_target) {
  const std::string_view path = raw_target.substr(0, raw_target.find('?'));
  for (std::size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] != '%') continue;
    const char a = path[i + 1], b = static_cast<char>(path[i + 2] | 0x20);
    if ((a == '5' && b == 'c') || (a == '0' && b == '0')) return true;
  }
  return false;
}

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

enum class RangeKind { none, ok, unsatisfiable };

// One "bytes=a-b", "bytes=a-" or "bytes=-n" range. Anything else (several ranges, other
// units, garbage) is ignored and the whole object is sent, as RFC 9110 allows.
RangeKind parse_range(std::string_view header, std::uint64_t size, ByteRange& out) {
  if (!header.starts_with("bytes=")) return RangeKind::none;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return RangeKind::none;
  const auto dash = header.find('-');
  if (dash == std::string_view::npos) return RangeKind::none;
  const auto a = header.substr(0, dash), b = header.substr(dash + 1);
  if (a.empty()) {
    const auto n = number(b);
    if (!n) return RangeKind::none;
    if (*n == 0 || size == 0) return RangeKind::unsatisfiable;
    out = {size - std::min(*n, size), size - 1};
    return RangeKind::ok;
  }
  const auto first = number(a);
  if (!first) return RangeKind::none;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    const auto l = number(b);
    if (!l || *l < *first) return RangeKind::none;
    last = std::min(*l, last);
  }
  if (*first >= size) return RangeKind::unsatisfiable;
  out = {*first, last};
  return RangeKind::ok;
}

}  // namespace

functions::Response serve_object(adapters::FileObjectStore* store, const functions::Request& req) {
  if (store == nullptr)
    return error_response(404, "not_found", "Objects are kept in S3; use the presigned S3 link");
  if (has_encoded_separator(req.raw_target))
    return error_response(400, "validation",
                          "object key must not contain encoded backslashes or NUL");
  const std::string_view key = req.path_param("key");
  if (!domain::is_valid_object_key(key) || key.starts_with(".tmp"))
    return error_response(400, "validation", "invalid object key");
  const std::string* expires = req.query_param("expires");
  const std::string* signature = req.query_param("signature");
  if (expires == nullptr || signature == nullptr)
    return error_response(403, "forbidden",
                          "This link is not signed: expires and signature are required");
  switch (store->check_link(key, *expires, *signature)) {
    case adapters::FileObjectStore::LinkCheck::bad_signature:
      return error_response(
          403, "forbidden",
          "This link's signature does not match: it was altered or is for another object");
    case adapters::FileObjectStore::LinkCheck::expired:
      return error_response(403, "forbidden", "This link has expired; ask for a new one");
    case adapters::FileObjectStore::LinkCheck::ok:
      break;
  }
  const std::filesystem::path file = store->file_of(key);
  if (file.empty()) return error_response(404, "not_found", "Object not found");

  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  const auto mtime = std::filesystem::last_write_time(file, ec);
  if (ec) return error_response(404, "not_found", "Object not found");
  const std::string etag =
      "\"" + std::to_string(size) + "-" + std::to_string(mtime.time_since_epoch().count()) + "\"";

  Response r{200, {}, adapters::FileObjectStore::content_type_for(key), {}};
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Accept-Ranges", "bytes");
  r.headers.emplace_back("Cache-Control", "private, max-age=60");
  if (req.has_header("If-None-Match") &&
      domain::if_none_match_names(req.header("If-None-Match"), etag)) {
    r.status = 304;
    return r;
  }

  ByteRange range{0, size == 0 ? 0 : size - 1};
  const auto kind =
      req.has_header("Range") ? parse_range(req.header("Range"), size, range) : RangeKind::none;
  if (kind == RangeKind::unsatisfiable) {
    Response bad =
        error_response(416, "range_not_satisfiable", "The requested range is outside the object");
    bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return bad;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return error_response(404, "not_found", "Object not found");
  const std::uint64_t length = size == 0 ? 0 : range.last - range.first + 1;
  r.body.resize(length);
  in.seekg(static_cast<std::streamoff>(range.first));
  in.read(r.body.data(), static_cast<std::streamsize>(length));
  r.body.resize(static_cast<std::size_t>(in.gcount()));
  if (kind == RangeKind::ok) {
    r.status = 206;
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                std::to_string(range.last) + "/" +
                                                std::to_string(size));
  }
  return r;
}

}  // namespace orderflow::runtime
