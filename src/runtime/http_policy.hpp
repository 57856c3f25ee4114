// Small HTTP decisions kept apart from the socket code so they are unit-tested directly:
// which request ids are echoed, which origins get CORS headers, how ids are made.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::runtime {

// A client's X-Request-Id is echoed only when it is 1-64 characters of [A-Za-z0-9._-],
// so it can go into logs and headers without escaping.
bool is_acceptable_request_id(std::string_view id);

// Which Origin values get Access-Control-Allow-Origin. Built from `cors_origins`:
// empty allows none, "*" allows every origin, otherwise exact (case-insensitive) matches.
class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> origins);
  bool enabled() const { return any_ || !origins_.empty(); }
  bool allows(std::string_view origin) const;

  static constexpr std::string_view kAllowHeaders =
      "Content-Type, If-Match, If-None-Match, Idempotency-Key, Authorization, X-Request-Id";
  static constexpr std::string_view kExposeHeaders = "ETag, Location, X-Request-Id";
  static constexpr std::string_view kMaxAgeSeconds = "600";

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

// Request ids for requests that bring none: a random per-generator prefix and a counter.
// Not thread-safe; each I/O thread has its own.
class RequestIdGenerator {
 public:
  RequestIdGenerator();
  // Writes the next id into `out` (replacing its contents; keeps its capacity).
  void next(std::string& out);

 private:
  char prefix_[12];
  std::uint64_t counter_ = 0;
};

// An IMF-fixdate for the Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::int64_t unix_seconds);

}  // namespace orderflow::runtime
