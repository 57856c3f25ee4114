// Small HTTP decisions kept apart from the socket code so they are unit-tested directly:
// which request ids are echoed, which origins get CORS headers, how ids are made, which
// message framings are refused, and the limits every connection shares.
#pragma once

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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
  static constexpr std::string_view kExposeHeaders =
      "ETag, Location, X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, "
      "RateLimit-Reset, RateLimit-Policy";
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

// Why a request's framing cannot be trusted (RFC 9112 §6), or nullopt when it can. Bodies come
// with Content-Length or with Transfer-Encoding exactly "chunked": any other coding, a list that
// does not end in chunked, Transfer-Encoding beside Content-Length, or Transfer-Encoding in an
// HTTP/1.0 request could be read differently by a proxy in front, so each is a 400 and the
// connection closes. `transfer_encodings` holds each Transfer-Encoding field's value;
// `version` is 10 or 11.
inline constexpr std::string_view kBothFramingsMessage =
    "Request has both Transfer-Encoding and Content-Length";
inline constexpr std::string_view kUnsupportedCodingMessage =
    "Unsupported Transfer-Encoding: only \"chunked\" is accepted";
std::optional<std::string> framing_problem(std::span<const std::string_view> transfer_encodings,
                                           bool has_content_length, unsigned version);

// The bytes of request bodies that every connection together may hold at once
// (body_budget_bytes). A request reserves its Content-Length (a chunked one, each chunk as it
// is announced) before the bytes are read, and releases it once its body is gone. Thread-safe.
class BodyBudget {
 public:
  explicit BodyBudget(std::uint64_t capacity) : capacity_(capacity) {}
  // Reserves `bytes`; false (and nothing reserved) when that would go past the capacity.
  bool try_reserve(std::uint64_t bytes);
  void release(std::uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  std::uint64_t in_use() const { return used_.load(std::memory_order_relaxed); }
  std::uint64_t capacity() const { return capacity_; }

 private:
  const std::uint64_t capacity_;
  std::atomic<std::uint64_t> used_{0};
};

// Open connections per client address (max_connections_per_client; 0: no limit). An IPv4
// address seen as IPv4-mapped IPv6 counts as the IPv4 address. Thread-safe.
class ClientConnections {
 public:
  explicit ClientConnections(int per_client) : per_client_(per_client) {}
  // Counts one more connection from `client`; false (and nothing counted) at the limit.
  bool try_add(const boost::asio::ip::address& client);
  void remove(const boost::asio::ip::address& client);
  int count(const boost::asio::ip::address& client) const;
  int limit() const { return per_client_; }

 private:
  static boost::asio::ip::address key(const boost::asio::ip::address& client);
  const int per_client_;
  mutable std::mutex mutex_;
  std::unordered_map<boost::asio::ip::address, int> open_;  // guarded by mutex_
};

// Which request bodies a route takes, by the media type of their Content-Type. A browser sends
// text/plain, application/x-www-form-urlencoded and multipart/form-data across sites without a
// CORS preflight, so a route that takes JSON takes only application/json: a page on another
// site cannot make a user's browser create, change or delete anything.
enum class BodyMedia : std::uint8_t {
  any,                // the route reads no body, or any kind
  json,               // application/json
  json_or_multipart,  // application/json or multipart/form-data (the photo upload)
  json_or_form,       // application/json or application/x-www-form-urlencoded (RFC 8058)
};

// Why a body with this Content-Type cannot go to a route taking `accepted`, or nullopt when it
// can. Media types compare case-insensitively and without their parameters; a body without a
// Content-Type is refused too (a browser's Blob body may have none).
std::optional<std::string> media_type_problem(BodyMedia accepted, std::string_view content_type);

// Whether a state-changing request with this Origin comes from a page of another site: an
// Origin header that is neither this server's own (scheme://Host, for http or https) nor one
// that `cors` allows. A request without Origin (curl, a server, an old browser's same-site
// form) is not foreign; "null" (a sandboxed frame, a file:// page) is.
bool is_foreign_origin(std::string_view origin, std::string_view host, const CorsPolicy& cors);

// An IMF-fixdate for the Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::int64_t unix_seconds);

}  // namespace orderflow::runtime
