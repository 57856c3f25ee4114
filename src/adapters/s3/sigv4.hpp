// AWS Signature Version 4 pieces that libcurl does not provide: presigned (query-string) URLs,
// and the encodings both curl's signer and ours rely on.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "domain/time.hpp"

namespace orderflow::adapters::sigv4 {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// SigV4's URI encoding: every byte except A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex);
// '/' is kept when `keep_slash` (object key paths), encoded otherwise (query names and values).
std::string uri_encode(std::string_view bytes, bool keep_slash);

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty unless temporary credentials
};

struct PresignInput {
  std::string_view host;           // exactly as the Host header will carry it, port included
  std::string_view canonical_uri;  // the already-encoded path, e.g. "/bucket/a%20b.txt"
  std::string_view region;
  domain::Timestamp now;
  std::chrono::seconds expires;
};

// The query string (without '?') that authorises a GET of `canonical_uri` on `host` for
// `expires` from `now`, signed with UNSIGNED-PAYLOAD and the host header only. The parameters
// are in canonical order with X-Amz-Signature last.
std::string presign_get_query(const Credentials& credentials, const PresignInput& input);

}  // namespace orderflow::adapters::sigv4
