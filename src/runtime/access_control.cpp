#include "runtime/access_control.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cmath>
#include <condition_variable>

#include "adapters/crypto/api_key_material.hpp"
#include "domain/json_writer.hpp"

namespace orderflow::runtime {
namespace {

using functions::Request;
using functions::Response;
using Steady = std::chrono::steady_clock;

constexpr auto kBurstWindow = std::chrono::seconds(10);
constexpr std::uint64_t kBurstRefusals = 20;  // refusals in one window that are logged
constexpr std::size_t kMaxCachedKeys = 10000;
constexpr std::size_t kMaxNameBytes = 100;

std::optional<domain::Scope> scope_needed(Access access) {
  switch (access) {
    case Access::open:
      return std::nullopt;
    case Access::orders_read:
      return domain::Scope::orders_read;
    case Access::orders_write:
      return domain::Scope::orders_write;
    case Access::reports_read:
      return domain::Scope::reports_read;
    case Access::metrics:
    case Access::admin:
      return domain::Scope::admin;
  }
  return domain::Scope::admin;
}

// The credentials of "Bearer <token>" (the scheme in any case, RFC 9110 §11.1), or empty.
std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

Response unauthorized(std::string_view message) {
  Response r = functions::error_response(401, "unauthorized", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"orderflow\"");
  return r;
}

// Who a request that passed the check came as, by its Authorization header: "key <id>", or
// "the admin token". For the audit lines and the rate limit's buckets.
std::string caller_of(std::string_view authorization) {
  const std::string_view token = bearer_token(authorization);
  if (const auto text = domain::parse_key_text(token)) return "key " + std::string(text->id);
  return "the admin token";
}

}  // namespace

std::string_view audit_action_name(AuditAction action) {
  switch (action) {
    case AuditAction::key_created:
      return "key_created";
    case AuditAction::key_revoked:
      return "key_revoked";
    case AuditAction::redrive:
      return "redrive";
    case AuditAction::refusal_burst:
      return "refusal_burst";
  }
  return "unknown";
}

void log_audit(AuditAction action, std::string_view by, std::string_view details) {
  spdlog::info("audit action={} by={:?} {}", audit_action_name(action), by, details);
}

void AccessControl::audit(AuditAction action, const Request& req, std::string_view details) {
  record_audit(action, caller_of(req.header("Authorization")), details);
}

void AccessControl::record_audit(AuditAction action, std::string_view by,
                                 std::string_view details) {
  log_audit(action, by, details);
  audited_.at(static_cast<std::size_t>(action)).fetch_add(1, std::memory_order_relaxed);
}

std::string_view access_name(Access access) {
  if (access == Access::open) return "open";
  if (access == Access::metrics) return "admin";
  return domain::scope_name(*scope_needed(access));
}

AccessControl::AccessControl(ports::ApiKeyStore& keys, ports::Clock& clock, AccessOptions options)
    : keys_(keys), clock_(clock), options_(std::move(options)), api_buckets_(options_.api_rate) {
  flusher_ = std::jthread([this](const std::stop_token& stop) {
    std::mutex wait_mu;
    std::condition_variable_any wake;
    std::unique_lock lock(wait_mu);
    while (!wake.wait_for(lock, stop, options_.use_resolution, [] { return false; })) {
      if (stop.stop_requested()) return;
      flush_uses();
    }
  });
}

AccessControl::~AccessControl() {
  flusher_.request_stop();
  if (flusher_.joinable()) flusher_.join();
  try {
    flush_uses();
  } catch (const std::exception& e) {
    spdlog::warn("auth: the last key uses were not recorded: {}", e.what());
  }
}

std::optional<Response> AccessControl::check(Access access, std::string_view authorization) {
  const auto needed = scope_needed(access);
  if (!needed) return std::nullopt;
  if (!options_.keys_required && access != Access::admin) return std::nullopt;

  const std::string_view token = bearer_token(authorization);
  if (token.empty()) {
    count_denial(401);
    return unauthorized(access == Access::admin
                            ? "This route needs the admin token or a key with the admin scope: "
                              "send Authorization: Bearer <key>"
                            : "This route needs an API key: send Authorization: Bearer <key>");
  }
  const auto scopes = scopes_of(token);
  if (!scopes) {
    count_denial(401);
    return unauthorized("The API key is not valid: unknown, revoked or expired");
  }
  if (!scopes->allow(*needed)) {
    count_denial(403);
    return functions::error_response(
        403, "forbidden",
        fmt::format("This key lacks the {} scope (it has: {})", domain::scope_name(*needed),
                    domain::scope_names(*scopes, ", ")));
  }
  return std::nullopt;
}

AccessControl::RateVerdict AccessControl::limit(Access access, std::string_view authorization,
                                                std::string_view client) {
  RateVerdict verdict;
  const auto& policy = options_.api_rate;
  if (access == Access::open || !policy.limits()) return verdict;
  // The check has let the request in: with keys required its token is a valid key (or the
  // admin token); without, a made-up token must not buy a fresh bucket, so the address counts.
  const std::string caller =
      options_.keys_required ? caller_of(authorization) : "client " + std::string(client);
  const auto state = api_buckets_.take(caller, clock_.now());
  const auto burst = static_cast<std::int64_t>(policy.capacity);
  verdict.headers = {
      {"RateLimit-Limit", std::to_string(burst)},
      {"RateLimit-Remaining", std::to_string(static_cast<std::int64_t>(state.remaining))},
      {"RateLimit-Reset", std::to_string(state.full_in.count())},
      {"RateLimit-Policy",
       fmt::format("{};w={}", burst,
                   static_cast<std::int64_t>(std::ceil(policy.capacity / policy.per_second)))},
  };
  if (!state.allowed) {
    rate_limited_.fetch_add(1, std::memory_order_relaxed);
    Response r = functions::error_response(
        429, "rate_limited",
        fmt::format("Too many requests from this {}: at most {} at once and {:.4g} a second; "
                    "try again in {} s",
                    options_.keys_required ? "key" : "client", burst, policy.per_second,
                    state.retry_after.count()));
    r.headers.emplace_back("Retry-After", std::to_string(state.retry_after.count()));
    verdict.refused = std::move(r);
  }
  return verdict;
}

Response AccessControl::session(std::string_view authorization) {
  const std::string_view token = bearer_token(authorization);
  std::optional<domain::Scopes> scopes;
  if (!token.empty()) scopes = scopes_of(token);
  const bool rejected = !token.empty() && !scopes;
  if (!scopes && !options_.keys_required)
    scopes = domain::Scopes(domain::Scope::orders_read)
                 .with(domain::Scope::orders_write)
                 .with(domain::Scope::reports_read);
  const auto text = domain::parse_key_text(token);
  domain::JsonWriter w;
  w.begin_object()
      .field("keysRequired", options_.keys_required)
      .field("authenticated", !token.empty() && !rejected)
      .field("keyRejected", rejected);
  if (rejected || !text)
    w.key("keyId").null();
  else
    w.field("keyId", text->id);
  w.key("scopes").begin_array();
  if (scopes)
    for (const std::string_view name : domain::scope_list(*scopes)) w.string(name);
  w.end_array().end_object();
  Response r = functions::json_response(200, w.take());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::optional<domain::Scopes> AccessControl::scopes_of(std::string_view token) {
  if (!options_.admin_token.empty() && adapters::same_hash(token, options_.admin_token))
    return domain::Scopes(domain::Scope::admin);
  const auto text = domain::parse_key_text(token);
  if (!text) return std::nullopt;
  const auto key = lookup(text->id);
  if (!key || !adapters::same_hash(adapters::hash_api_key(token), key->secret_hash) ||
      !key->active(clock_.now()))
    return std::nullopt;
  note_use(key->id);
  return key->scopes;
}

std::optional<ports::ApiKeyRecord> AccessControl::lookup(std::string_view id) {
  const auto now = Steady::now();
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(std::string(id));
        it != cache_.end() && now - it->second.fetched < options_.cache_ttl)
      return it->second.key;
  }
  // Outside the lock: a slow store delays this request only.
  auto key = keys_.find(id);
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxCachedKeys) cache_.clear();  // a flood of made-up ids
  cache_[std::string(id)] = Cached{key, now};
  return key;
}

void AccessControl::forget(std::string_view id) {
  std::lock_guard lock(mu_);
  cache_.erase(std::string(id));
}

void AccessControl::note_use(const std::string& id) {
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  if (auto it = written_.find(id);
      it != written_.end() && now - it->second < options_.use_resolution)
    return;
  uses_[id] = now;
}

void AccessControl::flush_uses() {
  std::unordered_map<std::string, domain::Timestamp> uses;
  {
    std::lock_guard lock(mu_);
    uses.swap(uses_);
  }
  for (const auto& [id, at] : uses) {
    keys_.touch(id, at);
    std::lock_guard lock(mu_);
    written_[id] = at;
  }
}

void AccessControl::count_denial(int status) {
  (status == 401 ? refused_401_ : refused_403_).fetch_add(1, std::memory_order_relaxed);
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  if (now - window_start_ >= kBurstWindow) {
    if (window_401_ + window_403_ >= kBurstRefusals) {
      record_audit(
          AuditAction::refusal_burst, "unknown callers",
          fmt::format("refused={} seconds={} status_401={} status_403={}",
                      window_401_ + window_403_, kBurstWindow.count(), window_401_, window_403_));
    }
    window_start_ = now;
    window_401_ = 0;
    window_403_ = 0;
  }
  ++(status == 401 ? window_401_ : window_403_);
}

std::string AccessControl::render_metrics() const {
  std::string out = fmt::format(
      "# HELP orderflow_auth_refused_total Requests refused for want of a valid key (401) or "
      "of a scope (403).\n"
      "# TYPE orderflow_auth_refused_total counter\n"
      "orderflow_auth_refused_total{{status=\"401\"}} {}\n"
      "orderflow_auth_refused_total{{status=\"403\"}} {}\n"
      "# HELP orderflow_api_rate_limited_total API requests refused with 429 by the rate limit.\n"
      "# TYPE orderflow_api_rate_limited_total counter\n"
      "orderflow_api_rate_limited_total {}\n"
      "# HELP orderflow_audit_events_total Audited actions: keys created and revoked, "
      "redrives, bursts of refused requests.\n"
      "# TYPE orderflow_audit_events_total counter\n",
      refused_401_.load(), refused_403_.load(), rate_limited_.load());
  for (std::size_t i = 0; i < kAuditActions; ++i)
    out += fmt::format("orderflow_audit_events_total{{action=\"{}\"}} {}\n",
                       audit_action_name(static_cast<AuditAction>(i)), audited_.at(i).load());
  return out;
}

// --- key management ---

CreatedKey create_api_key(ports::ApiKeyStore& keys, ports::Clock& clock, const std::string& name,
                          domain::Scopes scopes, std::optional<std::chrono::seconds> lifetime) {
  for (;;) {
    adapters::MintedKey minted = adapters::mint_api_key();
    ports::ApiKeyRecord record;
    record.id = minted.id;
    record.name = name;
    record.scopes = scopes;
    record.secret_hash = std::move(minted.hash);
    record.created = clock.now();
    if (lifetime) record.expires = record.created + *lifetime;
    if (keys.add(record)) return CreatedKey{std::move(record), std::move(minted.text)};
    // 64 random bits collided with a stored id: draw again.
  }
}

namespace {

void write_key_fields(domain::JsonWriter& w, const ports::ApiKeyRecord& key) {
  w.field("id", key.id).field("name", key.name).key("scopes").begin_array();
  for (const std::string_view name : domain::scope_list(key.scopes)) w.string(name);
  w.end_array().field("createdAt", domain::format_rfc3339(key.created));
  const auto optional_time = [&w](std::string_view name,
                                  const std::optional<domain::Timestamp>& t) {
    if (t)
      w.field(name, domain::format_rfc3339(*t));
    else
      w.key(name).null();
  };
  optional_time("expiresAt", key.expires);
  optional_time("lastUsedAt", key.last_used);
  optional_time("revokedAt", key.revoked);
}

Response validation(std::string_view message) {
  return functions::error_response(400, "validation", message);
}

}  // namespace

std::string key_audit_details(const ports::ApiKeyRecord& key) {
  return fmt::format("key={} name={:?} scopes={} expires={}", key.id, key.name,
                     domain::scope_names(key.scopes, ","),
                     key.expires ? domain::format_rfc3339(*key.expires) : "never");
}

std::string api_key_json(const ports::ApiKeyRecord& key) {
  domain::JsonWriter w;
  w.begin_object();
  write_key_fields(w, key);
  w.end_object();
  return w.take();
}

Response create_key_route(AccessControl& access, const Request& req) {
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(req.body, ec);
  if (ec || !body.is_object()) return validation("The body must be a JSON object");
  const auto& object = body.as_object();
  for (const auto& member : object)
    if (member.key() != "name" && member.key() != "scopes" && member.key() != "expiresIn")
      return validation(fmt::format("unknown field: {}", std::string_view(member.key())));

  const auto* name = object.if_contains("name");
  if (name == nullptr || !name->is_string() || name->as_string().empty())
    return validation("name is required: a string that says what the key is for");
  const std::string_view name_text = name->as_string();
  if (name_text.size() > kMaxNameBytes)
    return validation(fmt::format("name must be at most {} bytes", kMaxNameBytes));
  for (const char ch : name_text)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      return validation("name must not contain control characters");

  const auto* scopes_value = object.if_contains("scopes");
  std::string list;
  if (scopes_value != nullptr && scopes_value->is_string()) {
    list = scopes_value->as_string();
  } else if (scopes_value != nullptr && scopes_value->is_array()) {
    for (const auto& item : scopes_value->as_array()) {
      if (!item.is_string()) return validation("scopes must be an array of scope names");
      list += std::string(item.as_string()) + ",";
    }
  } else {
    return validation("scopes is required: orders:read, orders:write, reports:read, admin");
  }
  std::string bad;
  const auto scopes = domain::parse_scopes(list, &bad);
  if (!scopes)
    return validation(bad.empty() ? std::string("scopes must name at least one scope")
                                  : fmt::format("unknown scope: {} (known: orders:read, "
                                                "orders:write, reports:read, admin)",
                                                bad));

  std::optional<std::chrono::seconds> lifetime;
  if (const auto* expires = object.if_contains("expiresIn")) {
    if (!expires->is_string() || !(lifetime = domain::parse_lifetime(expires->as_string())))
      return validation("expiresIn must be a lifetime like \"90d\", \"12h\" or \"30m\"");
  }

  CreatedKey created =
      create_api_key(access.keys(), access.clock(), std::string(name_text), *scopes, lifetime);
  access.audit(AuditAction::key_created, req, key_audit_details(created.record));
  domain::JsonWriter w;
  w.begin_object();
  write_key_fields(w, created.record);
  w.field("key", created.text).end_object();
  Response r = functions::json_response(201, w.take());
  r.headers.emplace_back("Location", "/admin/keys/" + created.record.id);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response list_keys_route(AccessControl& access, const Request&) {
  domain::JsonWriter w;
  w.begin_object().key("keys").begin_array();
  for (const auto& key : access.keys().list()) {
    w.begin_object();
    write_key_fields(w, key);
    w.end_object();
  }
  w.end_array().end_object();
  return functions::json_response(200, w.take());
}

Response revoke_key_route(AccessControl& access, const Request& req) {
  const std::string_view id = req.path_param("keyId");
  if (!domain::is_key_id(id))
    return validation("keyId must be a key's id: 16 lower-case hex digits");
  if (!access.keys().revoke(id, access.clock().now()))
    return functions::error_response(404, "not_found", "No key has this id");
  access.forget(id);
  access.audit(AuditAction::key_revoked, req, fmt::format("key={}", id));
  return Response{204, {}, {}, {}};
}

}  // namespace orderflow::runtime
