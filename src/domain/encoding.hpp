#pragma once

#include <string>
#include <string_view>

namespace orderflow::domain {

// Lower-case hex of the bytes: "\x01\xab" -> "01ab".
std::string to_hex(std::string_view bytes);

// RFC 3986 percent-encoding: everything but unreserved characters (A–Z a–z 0–9 - _ . ~), and
// '/' when `keep_slash`, becomes %XX with upper-case hex — the form S3's SigV4 requires.
std::string uri_encode(std::string_view bytes, bool keep_slash);

// `url` with the password of its user info replaced by "***" ("smtp://u:***@host:587"), for
// messages and logs. Made for malformed URLs too: everything between the user name and the
// last '@' counts as the password, so a password with '@', '/' or '?' in it never shows.
std::string redacted_url(std::string_view url);

}  // namespace orderflow::domain
