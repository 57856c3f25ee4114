// Who may call which route (issue 13): API keys with scopes, checked by the gateway once a
// request's header is in and before its body is read; and the key management that the admin
// routes and `orderflow keys` share.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "domain/access.hpp"
#include "domain/token_bucket.hpp"
#include "functions/api.hpp"
#include "ports/api_key_store.hpp"
#include "ports/clock.hpp"

namespace orderflow::runtime {

// What a route asks of its caller; every route declares one (routes.cpp).
enum class Access : std::uint8_t {
  open,          // anyone: health, the web app, subscriptions, presigned links
  orders_read,   // the orders:read scope
  orders_write,  // orders:write
  reports_read,  // reports:read
  metrics,       // admin when keys are required; open otherwise, like the order routes
  admin,         // always an admin key or the admin token, whatever the mode
};
// "open", "orders:read", ..., for the OpenAPI check and messages.
std::string_view access_name(Access access);

// Audit (issue 13, part 6): operator actions and bursts of refusals, each logged as one
// structured line, `audit action=<action> by="<who>" <details>`, and counted in /metrics.
enum class AuditAction : std::uint8_t { key_created, key_revoked, redrive, refusal_burst };
inline constexpr std::size_t kAuditActions = 4;
std::string_view audit_action_name(AuditAction action);
// The line alone, for actions taken outside a server (the CLI); `details` is key=value pairs.
void log_audit(AuditAction action, std::string_view by, std::string_view details);

struct AccessOptions {
  bool keys_required = false;  // auth.mode = api_keys
  std::string admin_token;     // works as a key with the admin scope
  // A key looked up in the store is trusted this long in this process, so a revoke on another
  // replica holds here within it (a revoke on this one, at once).
  std::chrono::milliseconds cache_ttl{5000};
  // API requests per caller (a key; a client address when keys are not required).
  domain::BucketPolicy api_rate{};
  // Last use is recorded to about this (written by a background thread, never by a request).
  std::chrono::milliseconds use_resolution{60000};
};

class AccessControl {
 public:
  AccessControl(ports::ApiKeyStore& keys, ports::Clock& clock, AccessOptions options);
  ~AccessControl();  // writes the uses not yet written
  AccessControl(const AccessControl&) = delete;
  AccessControl& operator=(const AccessControl&) = delete;

  // nullopt when a request with this Authorization header may use a route that asks for
  // `access`; otherwise its answer: 401 (no key, or not a valid one) or 403 (a valid key
  // without the scope), in the seed's error envelope.
  std::optional<functions::Response> check(Access access, std::string_view authorization);
  // Takes one of the caller's API requests (routes that ask for a scope; open ones are not
  // counted). `refused` is a 429 with Retry-After once the caller's bucket is empty; `headers`
  // (RateLimit-Limit, -Remaining, -Reset, -Policy) go on whatever is answered.
  struct RateVerdict {
    std::optional<functions::Response> refused;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  RateVerdict limit(Access access, std::string_view authorization, std::string_view client);

  // What a request with this Authorization header may do, for GET /auth/session (open, so
  // always 200): {"keysRequired", "authenticated", "keyRejected", "keyId", "scopes"}. Without
  // a valid key, the scopes are those every caller has (none when keys are required).
  functions::Response session(std::string_view authorization);

  bool keys_required() const { return options_.keys_required; }
  ports::ApiKeyStore& keys() { return keys_; }
  ports::Clock& clock() { return clock_; }
  // Drops a key from the cache (after it was revoked through this process).
  void forget(std::string_view id);
  // Writes the recorded uses now (the background thread does so every use_resolution).
  void flush_uses();
  // Logs and counts an operator action taken through a request (its caller is the key or
  // the admin token in its Authorization header).
  void audit(AuditAction action, const functions::Request& req, std::string_view details);
  // Prometheus lines: requests refused with 401 and 403, and the audited actions.
  std::string render_metrics() const;

 private:
  struct Cached {
    std::optional<ports::ApiKeyRecord> key;  // none: no such key
    std::chrono::steady_clock::time_point fetched;
  };
  // The caller's scopes, or nullopt when the header names no valid key.
  std::optional<domain::Scopes> scopes_of(std::string_view token);
  std::optional<ports::ApiKeyRecord> lookup(std::string_view id);
  void note_use(const std::string& id);
  void count_denial(int status);
  // Logs the audit line and counts it.
  void record_audit(AuditAction action, std::string_view by, std::string_view details);

  ports::ApiKeyStore& keys_;
  ports::Clock& clock_;
  AccessOptions options_;

  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;
  std::unordered_map<std::string, domain::Timestamp> uses_;     // not yet written
  std::unordered_map<std::string, domain::Timestamp> written_;  // the latest use written
  std::atomic<std::uint64_t> refused_401_{0};
  std::atomic<std::uint64_t> refused_403_{0};
  std::array<std::atomic<std::uint64_t>, kAuditActions> audited_{};
  domain::TokenBuckets api_buckets_;
  std::atomic<std::uint64_t> rate_limited_{0};
  // Refusals in the current burst window, logged once the window ends with many of them.
  domain::Timestamp window_start_{};
  std::uint64_t window_401_ = 0;
  std::uint64_t window_403_ = 0;
  std::jthread flusher_;
};

// --- key management: the admin routes and `orderflow keys` ---

struct CreatedKey {
  ports::ApiKeyRecord record;
  std::string text;  // the key itself: shown once
};
// Makes and stores a key. `lifetime` none: it never expires.
CreatedKey create_api_key(ports::ApiKeyStore& keys, ports::Clock& clock, const std::string& name,
                          domain::Scopes scopes, std::optional<std::chrono::seconds> lifetime);
// key=<id> name="<name>" scopes=<a,b> expires=<time|never>, for the audit line.
std::string key_audit_details(const ports::ApiKeyRecord& key);
// A key as lists show it: never its secret or hash.
std::string api_key_json(const ports::ApiKeyRecord& key);

// POST /admin/keys {"name", "scopes": [...] or "a,b", "expiresIn": "90d"} -> 201 with the key.
functions::Response create_key_route(AccessControl& access, const functions::Request& req);
// GET /admin/keys -> {"keys": [...]}
functions::Response list_keys_route(AccessControl& access, const functions::Request& req);
// DELETE /admin/keys/{keyId} -> 204; 404 when there is no such key.
functions::Response revoke_key_route(AccessControl& access, const functions::Request& req);

}  // namespace orderflow::runtime
