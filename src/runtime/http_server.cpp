// Map of this file:
// - Loop: one per I/O thread: an io_context, its SO_REUSEPORT acceptor, its connections and a
//   once-a-second sweep that enforces timeouts (cheaper than a timer armed per operation) and
//   refreshes the cached Date header.
// - Connection: one keep-alive HTTP/1.1 connection: read the header -> admit (framing, route,
//   the route's body limit, the shared body budget) -> read the body -> run the handler (inline,
//   or on the worker pool with the result posted back) -> write -> read again.
// - Limits: max_connections and max_connections_per_client are counted at accept (a connection
//   past them is answered 503 / 429 with Retry-After and closed), body_budget_bytes when a
//   request's header is in.
// - HttpServer::Impl: binds the acceptors, runs the threads, and stops them gracefully.
#include "runtime/http_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/url/parse.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "functions/json_body.hpp"
#include "ports/errors.hpp"
#include "runtime/http_policy.hpp"
#include "runtime/metrics.hpp"

namespace orderflow::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kSweepInterval = std::chrono::seconds(1);
// After a response that ends the connection, unread input is drained for at most this long,
// so the client reads our response instead of a reset.
constexpr auto kLingerLimit = std::chrono::seconds(5);
constexpr std::size_t kLingerChunk = std::size_t{16} * 1024;
// A connection turned away at accept drains what its client sends for at most this long.
constexpr auto kRejectLingerLimit = std::chrono::seconds(1);
// Descriptors kept free of client connections: the store, files, logs, outgoing connections.
constexpr rlim_t kReservedDescriptors = 256;
// The body limit of a request that matches no route (it only gets a 404 or 405).
constexpr BodyLimits kUnroutedBody{};

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

class Connection;
using ConnectionHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
using ConnectionList =
    boost::intrusive::list<Connection, boost::intrusive::base_hook<ConnectionHook>,
                           boost::intrusive::constant_time_size<false>>;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How many connections turned away may be answering their 503 at once; past that a new one is
// closed at once (its client sees the connection end, never a hang).
int rejecting_limit(int max_connections) { return std::clamp(max_connections / 8, 16, 1024); }

// Every connection holds a descriptor. When max_connections (plus the connections being turned
// away and a reserve) needs more than RLIMIT_NOFILE allows, the soft limit is raised as far as
// the hard one allows; when that is still too little, fewer connections are admitted, so the
// ones past the cap are still answered 503 instead of waiting unaccepted in the backlog.
int fit_to_descriptor_limit(int max_connections) {
  const rlim_t wanted = static_cast<rlim_t>(max_connections) +
                        static_cast<rlim_t>(rejecting_limit(max_connections)) +
                        kReservedDescriptors;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
      limit.rlim_cur >= wanted)
    return max_connections;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  if (raised.rlim_cur > limit.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  if (limit.rlim_cur >= wanted) return max_connections;
  const rlim_t available =
      limit.rlim_cur > kReservedDescriptors ? limit.rlim_cur - kReservedDescriptors : 0;
  int fitted = static_cast<int>(std::min<rlim_t>(available, static_cast<rlim_t>(max_connections)));
  while (fitted > 1 &&
         static_cast<rlim_t>(fitted) + static_cast<rlim_t>(rejecting_limit(fitted)) > available)
    --fitted;
  fitted = std::max(fitted, 1);
  spdlog::warn(
      "max_connections is {} but the file descriptor limit is {}: admitting at most {} connections",
      max_connections, limit.rlim_cur, fitted);
  return fitted;
}

// How a connection was taken in at accept.
enum class Admission { admitted, server_full, client_full };

// What every loop and connection reads; immutable while the server runs (the pool is thread-safe).
struct Shared {
  Shared(const Config& c, const Router& r, Services& s)
      : config(c),
        router(r),
        services(s),
        cors(c.cors_origins),
        unmatched_route(r.pattern_count()),
        store_is_remote(!c.store.starts_with("sqlite:")),
        max_connections(fit_to_descriptor_limit(c.max_connections)),
        max_rejecting(rejecting_limit(max_connections)),
        clients(c.max_connections_per_client),
        budget(static_cast<std::uint64_t>(c.body_budget_bytes)),
        workers(static_cast<std::size_t>(c.worker_threads)) {
    if (c.access_log) {
      access_log = spdlog::get("access");
      if (!access_log) access_log = spdlog::default_logger();
    }
  }
  const Config& config;
  const Router& router;
  Services& services;
  CorsPolicy cors;
  std::shared_ptr<spdlog::logger> access_log;  // null when access logging is off
  std::size_t unmatched_route;
  // Reads of a store across the network (PostgreSQL) wait for a round trip, or for a connect
  // timeout while the database is down: they go to the worker pool, never an I/O thread.
  bool store_is_remote;

  // Counts an accepted connection against the limits; nullopt when it is to be closed at once
  // (too many are being turned away already). Every Admission returned is undone by forget().
  std::optional<Admission> admit(const asio::ip::address& client) {
    if (open.fetch_add(1, std::memory_order_relaxed) >= max_connections) {
      open.fetch_sub(1, std::memory_order_relaxed);
      return turn_away(Admission::server_full);
    }
    if (!clients.try_add(client)) {
      open.fetch_sub(1, std::memory_order_relaxed);
      return turn_away(Admission::client_full);
    }
    return Admission::admitted;
  }
  void forget(Admission admission, const asio::ip::address& client) {
    if (admission != Admission::admitted) {
      rejecting.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    clients.remove(client);
    open.fetch_sub(1, std::memory_order_relaxed);
  }
  std::optional<Admission> turn_away(Admission why) {
    if (rejecting.fetch_add(1, std::memory_order_relaxed) >= max_rejecting) {
      rejecting.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return why;
  }
  // A route's body limit in bytes: its own, never more than max_body_bytes.
  std::uint64_t body_limit(const BodyLimits& limits) const {
    const auto most = static_cast<std::uint64_t>(config.max_body_bytes);
    return limits.max_bytes == kUploadBody
               ? most
               : std::min(static_cast<std::uint64_t>(limits.max_bytes), most);
  }

  const int max_connections;  // config.max_connections, or less when descriptors are short
  const int max_rejecting;
  std::atomic<int> open{0};       // admitted connections, all loops together
  std::atomic<int> rejecting{0};  // connections being answered 503 / 429 at accept
  ClientConnections clients;
  BodyBudget budget;
  asio::thread_pool workers;
};

struct Loop {
  Loop(Shared& s, std::size_t i) : shared(s), index(i), date(http_date(unix_now())) {}
  // Runs before the members are destroyed: connections released while the io_context is
  // torn down must not touch the timers any more.
  ~Loop() { alive = false; }

  void accept();
  void arm_sweep();
  void begin_drain();
  void on_connection_gone() {
    if (alive && draining && connections.empty()) sweep.cancel();
  }

  Shared& shared;
  const std::size_t index;  // also this loop's metrics shard
  ConnectionList connections;
  bool alive = true;
  bool draining = false;
  std::string date;  // Date header value, refreshed by the sweep
  RequestIdGenerator ids;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer sweep{ioc};
  asio::steady_timer accept_retry{ioc};
  std::thread thread;
};

class Connection : public std::enable_shared_from_this<Connection>, public ConnectionHook {
 public:
  Connection(Loop& loop, tcp::socket socket, Admission admission, asio::ip::address client)
      : loop_(loop),
        shared_(loop.shared),
        socket_(std::move(socket)),
        admission_(admission),
        client_(std::move(client)) {
    loop_.connections.push_back(*this);
    on_chunk_ = [this](std::uint64_t size, beast::string_view, beast::error_code& ec) {
      reserve_chunk(size, ec);
    };
  }
  ~Connection() {
    try {
      release_body();
      shared_.forget(admission_, client_);
      unlink();
      loop_.on_connection_gone();
    } catch (const std::exception& e) {
      spdlog::error("closing a connection: {}", e.what());
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() {
    beast::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    if (admission_ == Admission::admitted) return read_request();
    // Turned away: answered at once, before its request is read, then closed.
    parser_.emplace();
    enter(Phase::reading, request_timeout());
    functions::Response r =
        admission_ == Admission::server_full
            ? functions::error_response(
                  503, "unavailable",
                  fmt::format("The server is at its limit of {} connections; try again shortly",
                              shared_.max_connections))
            : functions::error_response(
                  429, "too_many_connections",
                  fmt::format("Too many connections from your address (at most {}); reuse "
                              "one or try again shortly",
                              shared_.clients.limit()));
    r.headers.emplace_back("Retry-After", "1");
    reject(std::move(r));
  }

  // The sweep: closes a connection whose current phase ran past its deadline. A request being
  // processed is never cut off; its write gets a fresh deadline. A connection waiting for a
  // request whose first bytes have arrived is reading it: request_timeout_s bounds its header
  // from then on (Beast's read keeps an incomplete header in buffer_ until it is complete).
  void check_deadline(SteadyClock::time_point now) {
    if (phase_ == Phase::idle && buffer_.size() > 0) enter(Phase::reading, request_timeout());
    if (phase_ != Phase::processing && phase_ != Phase::closed && now >= deadline_) close();
  }

  // Graceful stop: a connection waiting for its next request is closed now.
  void close_if_idle() {
    if (phase_ == Phase::idle) close();
  }

 private:
  enum class Phase { idle, reading, processing, writing, lingering, closed };

  void enter(Phase phase, std::chrono::seconds timeout) {
    phase_ = phase;
    deadline_ = SteadyClock::now() + timeout;
  }
  std::chrono::seconds idle_timeout() const {
    return std::chrono::seconds(shared_.config.idle_timeout_s);
  }
  std::chrono::seconds request_timeout() const {
    return std::chrono::seconds(shared_.config.request_timeout_s);
  }

  void read_request() {
    release_body();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.config.max_header_bytes));
    // The parser stops after the header; admit() then sets the route's body limit and lets the
    // body be read.
    parser_->body_limit(boost::none);
    parser_->eager(false);
    parser_->on_chunk_header(on_chunk_);
    admitted_ = false;
    over_budget_ = false;
    continue_sent_ = false;
    close_after_ = false;
    origin_ = {};
    if (buffer_.size() == 0) {
      if (loop_.draining) return close();
      enter(Phase::idle, idle_timeout());
    } else {
      enter(Phase::reading, request_timeout());  // a pipelined request is already here
    }
    do_read();
  }

  void do_read() {
    http::async_read_some(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (phase_ == Phase::closed) return;
    if (ec) return on_read_error(ec);
    if (phase_ == Phase::idle)
      enter(Phase::reading, request_timeout());  // the slow-client clock starts now
    if (!admitted_ && parser_->is_header_done() && (!admit() || !parse_buffered())) return;
    if (!parser_->is_done()) {
      if (parser_->is_header_done() && !continue_sent_ && expects_continue())
        return send_continue();
      return do_read();
    }
    handle_request();
  }

  bool expects_continue() const {
    return beast::iequals(parser_->get()[http::field::expect], "100-continue");
  }

  void send_continue() {
    continue_sent_ = true;
    http::async_write(socket_, continue_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->do_read();
                      });
  }

  void on_read_error(beast::error_code ec) {
    if (over_budget_) return reply_busy();
    if (ec == http::error::body_limit) return reply_too_large();
    if (ec == http::error::header_limit)
      return reply_error(431, "headers_too_large", "Request headers are too large");
    // Beast refuses these framings itself while reading the header (Content-Length beside
    // chunked, a repeated chunked, conflicting lengths); the rest are refused by admit().
    // The field that failed is not in the message; the ones before it are.
    const auto has = [&](http::field f) { return parser_->get().count(f) > 0; };
    if (ec == http::error::bad_transfer_encoding)
      return reply_error(
          400, "bad_request",
          has(http::field::content_length) ? kBothFramingsMessage : kUnsupportedCodingMessage);
    if (ec == http::error::bad_content_length)
      return reply_error(
          400, "bad_request",
          has(http::field::transfer_encoding) ? kBothFramingsMessage : "Invalid Content-Length");
    if (ec == http::error::multiple_content_length)
      return reply_error(400, "bad_request", "Request has conflicting Content-Length values");
    static const auto& http_errors = beast::error_code(http::error::bad_method).category();
    if (ec.category() == http_errors && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      return reply_error(400, "bad_request", "Malformed HTTP request");
    close();  // the peer went away, or the sweep closed us
  }

  // The header is in and none of the body has been read: refuses a request whose framing is
  // ambiguous (400), whose body is over its route's limit (413) or over what the shared budget
  // has left (503), each with the connection closed after the answer. Otherwise routes it,
  // reserves its body in the budget and lets the body be read. False when it answered.
  bool admit() {
    admitted_ = true;
    rate_headers_.clear();
    const auto& msg = parser_->get();
    transfer_encodings_.clear();
    for (auto [it, end] = msg.equal_range(http::field::transfer_encoding); it != end; ++it)
      transfer_encodings_.push_back(it->value());
    if (auto problem = framing_problem(transfer_encodings_,
                                       msg.count(http::field::content_length) > 0, msg.version())) {
      reply_error(400, "bad_request", *problem, /*header_complete=*/true);
      return false;
    }

    route_request();
    if (match_.route != nullptr) {
      // Who may call it (401, 403), then what it may be sent (403, 415): both before the body.
      if (auto refused = access_problem(*match_.route)) {
        reject(std::move(*refused), /*header_complete=*/true);
        return false;
      }
      if (auto refused = rate_problem(*match_.route)) {
        reject(std::move(*refused), /*header_complete=*/true);
        return false;
      }
      if (auto refused = cross_site_problem(*match_.route)) {
        reject(std::move(*refused), /*header_complete=*/true);
        return false;
      }
    }
    body_limit_ = shared_.body_limit(match_.route != nullptr ? match_.route->body : kUnroutedBody);
    const auto length = parser_->content_length();
    if (length && *length > body_limit_) {
      reply_too_large();
      return false;
    }
    if (length && *length > 0) {
      if (!shared_.budget.try_reserve(*length)) {
        reply_busy();
        return false;
      }
      reserved_ = *length;
    }
    parser_->body_limit(body_limit_);  // counts down chunk by chunk for a chunked body
    parser_->eager(true);
    return true;
  }

  // A caller without a key the route takes (401) or without its scope (403).
  std::optional<functions::Response> access_problem(const Route& route) const {
    if (shared_.services.access == nullptr) return std::nullopt;
    return shared_.services.access->check(route.access, parser_->get()[http::field::authorization]);
  }

  // A caller over its API rate (429). Sets the RateLimit headers for this request's answer.
  std::optional<functions::Response> rate_problem(const Route& route) {
    if (shared_.services.access == nullptr) return std::nullopt;
    auto verdict = shared_.services.access->limit(
        route.access, parser_->get()[http::field::authorization], client_text_);
    rate_headers_ = std::move(verdict.headers);
    return std::move(verdict.refused);
  }

  // A state-changing request from a page of another site (403), or a body of a kind its route
  // does not take (415): refused before the body is read, so a browser cannot be made to send
  // a write across sites without a CORS preflight.
  std::optional<functions::Response> cross_site_problem(const Route& route) const {
    const auto& msg = parser_->get();
    const auto verb = msg.method();
    const bool changes_state = verb == http::verb::post || verb == http::verb::put ||
                               verb == http::verb::patch || verb == http::verb::delete_;
    if (changes_state &&
        is_foreign_origin(msg[http::field::origin], msg[http::field::host], shared_.cors)) {
      return functions::error_response(
          403, "forbidden_origin",
          "Requests from this Origin may not change anything; list it in cors_origins to allow it");
    }
    const auto length = parser_->content_length();
    const bool has_body = parser_->chunked() || (length && *length > 0);
    if (!has_body) return std::nullopt;
    if (auto problem = media_type_problem(route.body.media, msg[http::field::content_type]))
      return functions::error_response(415, "unsupported_media_type", *problem);
    return std::nullopt;
  }

  // The first bytes of the body usually came with the header: they are parsed here rather than
  // through another read. False when that found an error (and answered it).
  bool parse_buffered() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) {
        on_read_error(ec);
        return false;
      }
      if (used == 0) break;
    }
    return true;
  }

  // A chunk of a chunked body is announced: its bytes are reserved before they are read.
  void reserve_chunk(std::uint64_t size, beast::error_code& ec) {
    if (shared_.budget.try_reserve(size)) {
      reserved_ += size;
      return;
    }
    over_budget_ = true;
    ec = http::error::body_limit;  // stops the parser; on_read_error sees over_budget_
  }

  void release_body() {
    if (reserved_ == 0) return;
    shared_.budget.release(reserved_);
    reserved_ = 0;
  }

  void reply_too_large() {
    reply_error(413, "payload_too_large",
                fmt::format("Request body is larger than {} bytes", body_limit_),
                /*header_complete=*/true);
  }

  void reply_busy() {
    auto r = functions::error_response(
        503, "unavailable",
        "The server is receiving too many request bodies at once; try again shortly");
    r.headers.emplace_back("Retry-After", "1");
    reject(std::move(r), /*header_complete=*/true);
  }

  // An error found while reading: the request cannot be trusted, so the connection ends.
  void reply_error(int status, std::string_view code, std::string_view message,
                   bool header_complete = false) {
    reject(functions::error_response(status, code, message), header_complete);
  }

  void reject(functions::Response&& response, bool header_complete = false) {
    started_ = SteadyClock::now();
    phase_ = Phase::processing;
    loop_.ids.next(request_id_);
    // The start line (and for a too-large body the whole header) may have been read.
    const auto& msg = parser_->get();
    log_method_ = msg.method_string().empty() ? "-" : msg.method_string();
    log_path_ = msg.target().empty()
                    ? "-"
                    : msg.target().substr(0, std::min(msg.target().find('?'), std::size_t{200}));
    origin_ = header_complete ? std::string_view(msg[http::field::origin]) : std::string_view{};
    route_ = shared_.unmatched_route;
    close_after_ = true;
    finish(std::move(response));
  }

  void handle_request() {
    started_ = SteadyClock::now();
    phase_ = Phase::processing;
    const auto& msg = parser_->get();

    req_.method = msg.method_string();
    req_.raw_target = msg.target();
    req_.body = msg.body();
    req_.headers.clear();
    for (const auto& field : msg) req_.headers.emplace_back(field.name_string(), field.value());
    req_.query.clear();
    if (auto id = msg["X-Request-Id"]; is_acceptable_request_id(id))
      request_id_.assign(id.data(), id.size());
    else
      loop_.ids.next(request_id_);
    req_.request_id = request_id_;
    req_.client = client_text_;
    origin_ = msg[http::field::origin];
    log_method_ = req_.method;
    route_ = shared_.unmatched_route;

    const auto target = msg.target();
    if (!url_) {
      // Never the query: it may carry a token (a confirmation link's).
      log_path_ = target.substr(0, std::min(target.find('?'), std::size_t{200}));
      return finish(functions::error_response(400, "bad_request", "Invalid request target"));
    }
    log_path_ = url_->encoded_path();
    if (url_->has_query()) {
      for (auto param : url_->params(urls::encoding_opts(true)))
        req_.query.emplace_back(param.key, param.value);
    }

    // HEAD is GET without the body (RFC 9110 §9.3.2): same route, same headers.
    head_ = msg.method() == http::verb::head;
    if (head_) req_.method = "GET";
    const auto& match = match_;
    if (match.outcome == Router::Outcome::not_found)
      return finish(functions::error_response(404, "not_found", "Not found"));
    route_ = match.pattern;
    if (msg.method() == http::verb::options) return finish(preflight(match.pattern));
    if (match.outcome == Router::Outcome::method_not_allowed) {
      auto r = functions::error_response(405, "method_not_allowed", "Method not allowed");
      r.headers.emplace_back("Allow", shared_.router.allow(match.pattern));
      return finish(std::move(r));
    }

    const Route& route = *match.route;
    if (route.async_handler != nullptr &&
        (route.execution == Execution::waits || shared_.services.store.commits_in_background()))
      return invoke_async(route);
    if (route.execution == Execution::io_thread ||
        (route.execution == Execution::store_read && !shared_.store_is_remote))
      return finish(invoke(route));
    // The work guard keeps a draining loop running until the result is back.
    asio::post(shared_.workers, [self = shared_from_this(), &route,
                                 work = asio::make_work_guard(loop_.ioc)]() mutable {
      auto response = self->invoke(route);
      // The connection's last reference goes back with the result: a connection is only ever
      // destroyed on its own I/O thread.
      asio::post(work.get_executor(),
                 [self = std::move(self), response = std::move(response)]() mutable {
                   self->finish(std::move(response));
                 });
      work.reset();
    });
  }

  // Matches the request target against the router once the header is in (its body limit
  // depends on the route): sets url_ (nullopt when the target is invalid), req_.path,
  // segments_, req_.path_params and match_.
  void route_request() {
    const auto& msg = parser_->get();
    match_ = {};
    req_.path_params.clear();
    url_.reset();
    auto url = urls::parse_origin_form(msg.target());
    if (!url) return;
    url_ = *url;
    split_path(*url_);
    std::string_view method = msg.method_string();
    if (msg.method() == http::verb::head) method = "GET";
    match_ = shared_.router.match(method, segments_, req_.path_params);
  }

  // Fills req_.path and segments_ with the decoded path. Percent-decoding is skipped when the
  // path has no escapes (nearly always); then everything points into the request target.
  void split_path(const urls::url_view& url) {
    const auto encoded = url.encoded_path();
    segments_.clear();
    if (encoded.find('%') == std::string_view::npos) {
      req_.path = encoded;
      std::string_view rest = encoded;
      if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
      while (!rest.empty()) {
        auto slash = rest.find('/');
        segments_.push_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
        if (rest.empty()) segments_.emplace_back();  // a trailing slash ends in an empty segment
      }
      return;
    }
    path_buffer_.clear();
    encoded.decode({}, urls::string_token::append_to(path_buffer_));
    req_.path = path_buffer_;
    const auto parts = url.encoded_segments();
    decoded_segments_.resize(parts.size());
    std::size_t i = 0;
    for (auto part : parts) {
      decoded_segments_[i].clear();
      part.decode({}, urls::string_token::append_to(decoded_segments_[i]));
      ++i;
    }
    for (const auto& s : decoded_segments_) segments_.push_back(s);
  }

  functions::Response preflight(std::size_t pattern) const {
    functions::Response r{204, {}, {}, {}};
    const auto& allow = shared_.router.allow(pattern);
    r.headers.emplace_back("Allow", allow);
    if (shared_.cors.allows(origin_)) {
      r.headers.emplace_back("Access-Control-Allow-Methods", allow);
      r.headers.emplace_back("Access-Control-Allow-Headers", CorsPolicy::kAllowHeaders);
      r.headers.emplace_back("Access-Control-Max-Age", CorsPolicy::kMaxAgeSeconds);
    }
    return r;
  }

  // A JSON body past the route's member or depth limits, checked before any function parses
  // it (a multipart or other body is left to the function). May run on a worker.
  std::optional<functions::Response> body_shape_problem(const Route& route) const {
    if (route.body.json_members == 0) return std::nullopt;
    const auto start = req_.body.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos || (req_.body[start] != '{' && req_.body[start] != '['))
      return std::nullopt;
    auto problem =
        functions::json_limit_problem(req_.body, {route.body.json_members, route.body.json_depth});
    if (!problem) return std::nullopt;
    return functions::error_response(400, "validation", *problem);
  }

  // Runs a handler; the one place where exceptions become HTTP statuses. May run on a worker.
  functions::Response invoke(const Route& route) noexcept {
    try {
      if (auto refused = body_shape_problem(route)) return std::move(*refused);
      return route.handler(shared_.services, req_);
    } catch (...) {
      return failure_response(route, std::current_exception());
    }
  }

  // Runs the route's async handler here on the I/O thread; its answer comes back to this loop
  // (the store's thread posts it), so no thread waits for the commit.
  void invoke_async(const Route& route) {
    // Tracked work keeps a draining loop running until the answer is back.
    auto loop = asio::prefer(loop_.ioc.get_executor(), asio::execution::outstanding_work.tracked);
    try {
      if (auto refused = body_shape_problem(route)) return finish(std::move(*refused));
      route.async_handler(
          shared_.services, req_,
          [self = shared_from_this(), &route, loop](functions::Response&& response,
                                                    std::exception_ptr error) {
            // The connection's last reference goes back with the answer: a
            // connection is only ever destroyed on its own I/O thread.
            asio::post(loop, [self, &route, response = std::move(response),
                              error = std::move(error)]() mutable {
              self->finish(error ? self->failure_response(route, error) : std::move(response));
            });
          });
    } catch (...) {
      finish(failure_response(route, std::current_exception()));
    }
  }

  // What a handler's exception becomes: 503 + Retry-After for a transient infrastructure
  // failure, else 500 (logged either way).
  functions::Response failure_response(const Route& route,
                                       const std::exception_ptr& error) noexcept {
    try {
      try {
        std::rethrow_exception(error);
      } catch (const ports::InfraError& e) {
        if (e.kind() == ports::InfraError::Kind::transient) {
          spdlog::warn("request {} ({} {}): temporarily unavailable: {}", request_id_, route.method,
                       route.pattern, e.what());
          auto r = functions::error_response(503, "unavailable",
                                             "Service temporarily unavailable, please retry");
          r.headers.emplace_back("Retry-After", "1");
          return r;
        }
        spdlog::error("request {} ({} {}) failed: {}", request_id_, route.method, route.pattern,
                      e.what());
      } catch (const std::exception& e) {
        spdlog::error("request {} ({} {}) failed: {}", request_id_, route.method, route.pattern,
                      e.what());
      } catch (...) {
        spdlog::error("request {} ({} {}) failed with an unknown exception", request_id_,
                      route.method, route.pattern);
      }
      return functions::error_response(500, "internal", "Internal server error");
    } catch (...) {
      return functions::Response{500, {}, {}, {}};  // not even the error body could be built
    }
  }

  void finish(functions::Response&& r) {
    if (phase_ == Phase::closed) return;  // closed while the handler ran (forced stop)
    status_ = r.status;
    const bool bodiless = r.status == 204 || r.status == 304 || r.status < 200;
    const bool keep_alive = !close_after_ && !loop_.draining &&
                            (!parser_->is_header_done() || parser_->get().keep_alive());

    res_.clear();
    res_.result(static_cast<unsigned>(r.status));
    res_.version(parser_->is_header_done() ? parser_->get().version() : 11);
    res_.set(http::field::date, loop_.date);
    if (!bodiless && !r.content_type.empty()) res_.set(http::field::content_type, r.content_type);
    res_.set("X-Request-Id", request_id_);
    for (const auto& [name, value] : r.headers) res_.insert(name, value);
    for (const auto& [name, value] : rate_headers_) res_.insert(name, value);
    rate_headers_.clear();
    if (shared_.cors.allows(origin_)) {
      res_.set(http::field::access_control_allow_origin, origin_);
      res_.set(http::field::vary, "Origin");
      res_.set(http::field::access_control_expose_headers, CorsPolicy::kExposeHeaders);
    }
    if (bodiless) {
      res_.body().clear();
    } else {
      res_.body() = std::move(r.body);
      res_.content_length(res_.body().size());
      if (head_) res_.body().clear();  // the length of what a GET would send, and no body
    }
    head_ = false;
    res_.keep_alive(keep_alive);

    enter(Phase::writing, request_timeout());
    http::async_write(
        socket_, res_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    const auto elapsed = SteadyClock::now() - started_;
    shared_.services.metrics.record(loop_.index, route_, log_method_, status_, elapsed);
    if (shared_.access_log)
      shared_.access_log->info(
          "{} {} {} {}us {}", log_method_, log_path_, status_,
          std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(), request_id_);
    if (phase_ == Phase::closed) return;
    if (ec) return close();
    if (!res_.keep_alive()) return linger();
    read_request();
  }

  // Ends the connection politely: our side is shut, and what the client still sends is read
  // and dropped until it closes too (or the linger limit passes).
  void linger() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    const auto limit = admission_ == Admission::admitted ? kLingerLimit : kRejectLingerLimit;
    enter(Phase::lingering, std::min(request_timeout(), std::chrono::seconds(limit)));
    buffer_.clear();
    // The request is answered: what its body held goes back to the budget now.
    parser_.reset();
    release_body();
    discard();
  }

  void discard() {
    socket_.async_read_some(buffer_.prepare(kLingerChunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec || self->phase_ == Phase::closed) return self->close();
                              self->discard();
                            });
  }

  void close() {
    if (phase_ == Phase::closed) return;
    phase_ = Phase::closed;
    beast::error_code ignored;
    socket_.close(ignored);
  }

  Loop& loop_;
  Shared& shared_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  http::response<http::empty_body> continue_{http::status::continue_, 11};

  Phase phase_ = Phase::idle;
  SteadyClock::time_point deadline_;
  SteadyClock::time_point started_;
  bool continue_sent_ = false;
  bool close_after_ = false;

  // Limits: how this connection was taken in, and the current request's admission.
  const Admission admission_;
  const asio::ip::address client_;
  const std::string client_text_ = client_.to_string();  // for the rate limit and functions
  std::vector<std::pair<std::string, std::string>> rate_headers_;  // for this request's answer
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_;
  bool admitted_ = false;     // admit() ran for the current request
  bool over_budget_ = false;  // a chunk did not fit in the body budget
  std::uint64_t body_limit_ = 0;
  std::uint64_t reserved_ = 0;  // bytes of the body budget this request holds
  std::vector<std::string_view> transfer_encodings_;
  std::optional<urls::url_view> url_;  // the parsed target; views into *parser_'s message
  Router::Match match_;

  // The current request; views point into *parser_'s message, which lives until the next read.
  functions::Request req_;
  std::string request_id_;
  std::string path_buffer_;
  bool head_ = false;  // the request being answered is a HEAD
  std::vector<std::string> decoded_segments_;
  std::vector<std::string_view> segments_;
  std::string_view origin_;
  std::string_view log_method_;
  std::string_view log_path_;
  std::size_t route_ = 0;
  int status_ = 0;
};

void Loop::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors and the like: try again shortly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !draining) accept();
      });
      return;
    }
    beast::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    std::optional<Admission> admission;
    if (!peer_ec) admission = shared.admit(peer.address());
    if (admission)
      std::make_shared<Connection>(*this, std::move(socket), *admission, peer.address())->start();
    else
      socket.close(peer_ec);  // gone already, or too many are being turned away
    accept();
  });
}

void Loop::arm_sweep() {
  sweep.expires_after(kSweepInterval);
  sweep.async_wait([this](beast::error_code ec) {
    if (ec) return;
    date = http_date(unix_now());
    const auto now = SteadyClock::now();
    for (auto it = connections.begin(); it != connections.end();) (it++)->check_deadline(now);
    if (draining && connections.empty()) return;
    arm_sweep();
  });
}

void Loop::begin_drain() {
  draining = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (auto it = connections.begin(); it != connections.end();) (it++)->close_if_idle();
  if (connections.empty()) sweep.cancel();
}

}  // namespace

std::vector<std::string> metric_route_labels(const Router& router) {
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < router.pattern_count(); ++i) labels.emplace_back(router.pattern(i));
  labels.emplace_back("unmatched");
  return labels;
}

struct HttpServer::Impl {
  Impl(const Config& config, const Router& router, Services& services)
      : shared(config, router, services) {
    for (int i = 0; i < std::max(1, config.io_threads); ++i)
      loops.push_back(std::make_unique<Loop>(shared, static_cast<std::size_t>(i)));
  }

  void bind() {
    const auto listen = parse_listen(shared.config.listen);
    if (!listen)
      throw std::runtime_error(
          fmt::format("listen: expected host:port, got \"{}\"", shared.config.listen));
    endpoint = tcp::endpoint(asio::ip::make_address(listen->host), listen->port);

    auto fail = [&](const beast::error_code& ec) {
      return std::runtime_error(
          fmt::format("listen: cannot listen on {}: {}", shared.config.listen, ec.message()));
    };
    beast::error_code ec;
    if (endpoint.port() != 0) {
      // SO_REUSEPORT would let us share a port with another running server without notice;
      // a plain bind first makes "address in use" an error as usual.
      tcp::acceptor probe(loops[0]->ioc);
      probe.open(endpoint.protocol(), ec);
      if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) probe.bind(endpoint, ec);
      if (ec) throw fail(ec);
    }
    for (auto& loop : loops) {
      auto& a = loop->acceptor;
      a.open(endpoint.protocol(), ec);
      if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) a.set_option(ReusePort(true), ec);
      if (!ec) a.bind(endpoint, ec);
      if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) throw fail(ec);
      // With port 0 the first acceptor picks the port and the others join it.
      if (loop == loops.front()) endpoint = a.local_endpoint();
    }
  }

  void run_loop(Loop& loop) {
    while (true) {
      try {
        loop.ioc.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("I/O thread {}: unexpected exception: {}", loop.index, e.what());
      }
    }
    std::lock_guard lock(mutex);
    --running;
    stopped_cv.notify_all();
  }

  Shared shared;
  std::vector<std::unique_ptr<Loop>> loops;
  tcp::endpoint endpoint;
  bool bound = false;
  bool started = false;
  bool stopped = false;
  std::mutex mutex;
  std::condition_variable stopped_cv;
  std::size_t running = 0;  // guarded by mutex
};

HttpServer::HttpServer(const Config& config, const Router& router, Services& services)
    : impl_(std::make_unique<Impl>(config, router, services)) {}

HttpServer::~HttpServer() {
  try {
    stop(std::chrono::milliseconds(0));
  } catch (const std::exception& e) {
    spdlog::error("stopping the HTTP server: {}", e.what());
  }
}

void HttpServer::bind() {
  if (impl_->bound) return;
  impl_->bind();
  impl_->bound = true;
}

void HttpServer::start() {
  if (impl_->started) return;
  bind();
  impl_->started = true;
  impl_->running = impl_->loops.size();
  for (auto& loop : impl_->loops) {
    loop->accept();
    loop->arm_sweep();
    loop->thread = std::thread([this, l = loop.get()] { impl_->run_loop(*l); });
  }
}

std::uint16_t HttpServer::port() const { return impl_->endpoint.port(); }

std::string HttpServer::url() const {
  const auto address = impl_->endpoint.address();
  return address.is_v6() ? fmt::format("http://[{}]:{}", address.to_string(), port())
                         : fmt::format("http://{}:{}", address.to_string(), port());
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  for (auto& loop : impl_->loops) asio::post(loop->ioc, [l = loop.get()] { l->begin_drain(); });
  {
    std::unique_lock lock(impl_->mutex);
    if (!impl_->stopped_cv.wait_for(lock, grace, [&] { return impl_->running == 0; })) {
      if (grace.count() > 0)
        spdlog::warn("requests still running after {} ms; stopping anyway", grace.count());
      for (auto& loop : impl_->loops) loop->ioc.stop();
    }
  }
  for (auto& loop : impl_->loops)
    if (loop->thread.joinable()) loop->thread.join();
  // The workers finish what they hold; results posted to the stopped loops are dropped.
  impl_->shared.workers.join();
}

}  // namespace orderflow::runtime
