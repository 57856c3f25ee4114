// The HTTP gateway: request-id and CORS decisions, metrics text, and an in-process server on
// port 0 driven by a Beast client (errors, limits, routing, CORS, exceptions, graceful stop).
#include "runtime/http_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <future>
#include <set>
#include <thread>

#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "domain/json_writer.hpp"
#include "ports/errors.hpp"
#include "runtime/http_policy.hpp"
#include "runtime/metrics.hpp"
#include "runtime/readiness.hpp"

namespace orderflow::runtime {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ::testing::HasSubstr;
using ::testing::Not;

// --- Pure decisions -------------------------------------------------------------------------

TEST(RequestId, AcceptsOnlyShortSafeIds) {
  EXPECT_TRUE(is_acceptable_request_id("abc-123_X.y"));
  EXPECT_TRUE(is_acceptable_request_id(std::string(64, 'a')));
  EXPECT_FALSE(is_acceptable_request_id(""));
  EXPECT_FALSE(is_acceptable_request_id(std::string(65, 'a')));
  EXPECT_FALSE(is_acceptable_request_id("has space"));
  EXPECT_FALSE(is_acceptable_request_id("new\nline"));
  EXPECT_FALSE(is_acceptable_request_id("quote\""));
  EXPECT_FALSE(is_acceptable_request_id("caf\xc3\xa9"));
}

TEST(RequestId, GeneratedIdsAreUniqueAndAcceptable) {
  RequestIdGenerator a;
  RequestIdGenerator b;
  std::set<std::string> seen;
  std::string id;
  for (int i = 0; i < 1000; ++i) {
    a.next(id);
    EXPECT_TRUE(is_acceptable_request_id(id)) << id;
    seen.insert(id);
    b.next(id);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(Cors, EmptyListAllowsNothing) {
  CorsPolicy none({});
  EXPECT_FALSE(none.enabled());
  EXPECT_FALSE(none.allows("https://a.example"));
}

TEST(Cors, ExactOriginsOnly) {
  CorsPolicy p({"https://a.example", "http://localhost:5173"});
  EXPECT_TRUE(p.enabled());
  EXPECT_TRUE(p.allows("https://a.example"));
  EXPECT_TRUE(p.allows("HTTPS://A.EXAMPLE"));
  EXPECT_TRUE(p.allows("http://localhost:5173"));
  EXPECT_FALSE(p.allows("http://localhost:5174"));
  EXPECT_FALSE(p.allows("https://a.example.evil"));
  EXPECT_FALSE(p.allows(""));
}

TEST(Cors, WildcardAllowsAnyOrigin) {
  CorsPolicy p({"*"});
  EXPECT_TRUE(p.allows("https://anything.example"));
  EXPECT_FALSE(p.allows(""));  // no Origin header: not a CORS request
}

TEST(HttpDate, IsAnImfFixdate) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(MetricsText, CountersHistogramsAndGauges) {
  Metrics m({"/orders", "/healthz", "unmatched"}, 2);
  m.record(0, 0, "POST", 201, std::chrono::microseconds(300));
  m.record(1, 0, "POST", 201, std::chrono::milliseconds(2));
  m.record(1, 1, "GET", 200, std::chrono::microseconds(50));
  m.record(0, 2, "BREW", 418, std::chrono::microseconds(50));
  m.record(0, 99, "GET", 200, std::chrono::microseconds(1));  // unknown route: ignored
  const ports::StoreStats stats{3, 5, 7};
  const std::string text = m.render(&stats);

  EXPECT_THAT(text, HasSubstr("# TYPE orderflow_http_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_requests_total{route=\"/orders\",method=\"POST\",status=\"201\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"4xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE orderflow_http_request_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_request_duration_seconds_bucket{route=\"/orders\",le=\"0.00025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_request_duration_seconds_bucket{route=\"/orders\",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_request_duration_seconds_bucket{route=\"/orders\",le=\"0.0025\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_request_duration_seconds_bucket{route=\"/orders\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_request_duration_seconds_sum{route=\"/orders\"} 0.0023\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_http_request_duration_seconds_count{route=\"/orders\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE orderflow_orders gauge\norderflow_orders 3\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_outbox_events 5\n"));
  EXPECT_THAT(text, HasSubstr("orderflow_outbox_last_seq 7\n"));

  EXPECT_THAT(m.render(nullptr), Not(HasSubstr("orderflow_orders")));
}

// --- In-process server ----------------------------------------------------------------------

// Just enough of a store for the runtime's own routes (readyz, metrics).
class FakeStore final : public ports::OrderStore {
 public:
  enum class Ping { ok, fails, throws };
  std::atomic<Ping> ping_mode = Ping::ok;
  std::atomic<bool> writes_fail = false;

  ports::CreateResult create(const domain::Order& order, const domain::Event&,
                             const std::optional<ports::IdempotencyClaim>&) override {
    return {ports::CreateResult::Kind::created, order};
  }
  std::optional<domain::Order> get(std::string_view) override { return std::nullopt; }
  ports::OrderPage list(std::string_view, int) override { return {}; }
  ports::ChangeResult update(std::string_view, const ports::OrderPatch&, std::optional<std::int64_t>, domain::Timestamp,
                             std::string) override {
    return {ports::ChangeResult::Kind::not_found, {}};
  }
  ports::ChangeResult remove(std::string_view, std::optional<std::int64_t>, domain::Timestamp, std::string) override {
    return {ports::ChangeResult::Kind::not_found, {}};
  }
  std::vector<ports::OutboxRecord> read_outbox(std::int64_t, int) override { return {}; }
  void on_commit(std::function<void()>) override {}
  bool ping() override {
    if (ping_mode == Ping::throws) throw ports::InfraError(ports::InfraError::Kind::transient, "database is locked");
    return ping_mode == Ping::ok;
  }
  bool writable() override { return !writes_fail; }
  ports::StoreStats stats() override { return {3, 5, 7}; }
};

// Routes that exercise the gateway itself, beside a few of the real ones.
std::promise<void>* g_slow_entered = nullptr;
std::shared_future<void>* g_slow_release = nullptr;

functions::Response echo(Services&, const functions::Request& req) {
  domain::JsonWriter w;
  w.begin_object().field("method", req.method).field("path", req.path).field("name", req.path_param("name"));
  w.key("query").begin_object();
  for (const auto& [k, v] : req.query) w.field(k, v);
  w.end_object();
  w.field("requestId", req.request_id).field("body", req.body).end_object();
  return functions::json_response(200, w.take());
}

functions::Response boom(Services&, const functions::Request&) { throw std::runtime_error("boom"); }

functions::Response transient(Services&, const functions::Request&) {
  throw ports::InfraError(ports::InfraError::Kind::transient, "database is busy");
}

functions::Response permanent(Services&, const functions::Request&) {
  throw ports::InfraError(ports::InfraError::Kind::permanent, "disk I/O error");
}

functions::Response slow(Services&, const functions::Request&) {
  g_slow_entered->set_value();
  g_slow_release->wait();
  return functions::json_response(200, R"({"status":"done"})");
}

functions::Response healthz(Services& s, const functions::Request& req) {
  for (const auto& route : route_table())
    if (route.pattern == "/healthz") return route.handler(s, req);
  return {};
}

functions::Response readyz(Services& s, const functions::Request& req) {
  for (const auto& route : route_table())
    if (route.pattern == "/readyz") return route.handler(s, req);
  return {};
}

functions::Response metrics(Services& s, const functions::Request& req) {
  for (const auto& route : route_table())
    if (route.pattern == "/metrics") return route.handler(s, req);
  return {};
}

const Route kTestRoutes[] = {
    {"GET", "/healthz", "healthz", Execution::io_thread, Access::open, healthz},
    {"GET", "/readyz", "readyz", Execution::io_thread, Access::open, readyz},
    {"GET", "/metrics", "metrics", Execution::worker, Access::open, metrics},
    {"GET", "/echo/{name}", "echo", Execution::io_thread, Access::open, echo},
    {"POST", "/echo/{name}", "echo", Execution::worker, Access::open, echo},
    {"GET", "/boom", "boom", Execution::io_thread, Access::open, boom},
    {"POST", "/transient", "transient", Execution::worker, Access::open, transient},
    {"POST", "/permanent", "permanent", Execution::worker, Access::open, permanent},
    {"POST", "/slow", "slow", Execution::worker, Access::open, slow},
};

using Response = http::response<http::string_body>;

// A Beast client on its own io_context. Every operation is asynchronous with a deadline
// (tcp_stream's timeouts only apply to those), so a misbehaving server fails a test quickly.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    stream_.expires_after(kTimeout);
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  Response request(http::verb method, std::string_view target, std::string body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    if (method != http::verb::get || !req.body().empty()) req.prepare_payload();
    beast::error_code ec = run([&](auto done) { http::async_write(stream_, req, done); });
    if (ec) throw beast::system_error(ec);
    return read();
  }

  void send(std::string_view bytes) {
    beast::error_code ec = run([&](auto done) { asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), done); });
    if (ec) throw beast::system_error(ec);
  }

  // Sends bytes as they are and reads one response (nullopt when the server just closed).
  std::optional<Response> raw(std::string_view bytes) {
    beast::error_code ec = run([&](auto done) { asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), done); });
    if (ec) return std::nullopt;
    Response res;
    ec = run([&](auto done) { http::async_read(stream_, buffer_, res, done); });
    if (ec) return std::nullopt;
    return res;
  }

  Response read() {
    Response res;
    beast::error_code ec = run([&](auto done) { http::async_read(stream_, buffer_, res, done); });
    if (ec) throw beast::system_error(ec);
    return res;
  }

  // True when the server closed the connection (a read ends with EOF or a reset, not a timeout).
  bool closed_by_server() {
    char byte;
    beast::error_code ec = run([&](auto done) { stream_.async_read_some(asio::buffer(&byte, 1), done); });
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  static constexpr auto kTimeout = std::chrono::seconds(10);

  template <typename Start>
  beast::error_code run(Start start) {
    beast::error_code result;
    stream_.expires_after(kTimeout);
    start([&](beast::error_code ec, std::size_t) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
};

bool accepts_connections(std::uint16_t port) {
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  beast::error_code ec;
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  return !ec;
}

boost::json::value json_of(const Response& r) { return boost::json::parse(r.body()); }

class HttpServerTest : public ::testing::Test {
 protected:
  static Config test_config() {
    Config c;
    c.listen = "127.0.0.1:0";
    c.io_threads = 2;
    c.worker_threads = 2;
    c.max_body_bytes = 1024;
    c.max_header_bytes = 1024;
    c.access_log = false;
    c.cors_origins = {"https://app.example"};
    return c;
  }

  void SetUp() override { server_.start(); }

  Config config_ = test_config();
  FakeStore store_;
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_{clock_};
  functions::OrderContext orders_{store_, clock_, ids_};
  Router router_{kTestRoutes};
  Metrics metrics_{metric_route_labels(router_), 2};
  Services services_{orders_, store_, metrics_};
  HttpServer server_{config_, router_, services_};
};

TEST_F(HttpServerTest, AnswersWithRequestIdContentTypeAndLengthOnAKeptAliveConnection) {
  Client c(server_.port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.request(http::verb::get, "/healthz");
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), R"({"status":"ok"})");
    EXPECT_EQ(r[http::field::content_type], "application/json");
    EXPECT_EQ(r[http::field::content_length], "15");
    EXPECT_TRUE(is_acceptable_request_id(r["X-Request-Id"]));
    EXPECT_FALSE(r[http::field::date].empty());
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST_F(HttpServerTest, EchoesAcceptableRequestIdsAndReplacesOthers) {
  Client c(server_.port());
  auto r = c.request(http::verb::get, "/echo/x", {}, {{"X-Request-Id", "trace-42.a_b"}});
  EXPECT_EQ(r["X-Request-Id"], "trace-42.a_b");
  EXPECT_EQ(json_of(r).at("requestId"), "trace-42.a_b");

  r = c.request(http::verb::get, "/echo/x", {}, {{"X-Request-Id", "bad id with spaces"}});
  EXPECT_NE(r["X-Request-Id"], "bad id with spaces");
  EXPECT_TRUE(is_acceptable_request_id(r["X-Request-Id"]));
  EXPECT_EQ(json_of(r).at("requestId").as_string(), r["X-Request-Id"]);
}

TEST_F(HttpServerTest, DecodesPathSegmentsAndQueryParameters) {
  Client c(server_.port());
  auto r = c.request(http::verb::get, "/echo/a%20b%2Fc?x=1&y=hello+world&z=%C3%A9");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  const auto j = json_of(r);
  EXPECT_EQ(j.at("name"), "a b/c");
  EXPECT_EQ(j.at("path"), "/echo/a b/c");
  EXPECT_EQ(j.at("query").at("x"), "1");
  EXPECT_EQ(j.at("query").at("y"), "hello world");
  EXPECT_EQ(j.at("query").at("z"), "\xc3\xa9");
}

TEST_F(HttpServerTest, WorkerRoutesGetTheBody) {
  Client c(server_.port());
  auto r = c.request(http::verb::post, "/echo/w", R"({"a":1})", {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.result_int(), 200);
  EXPECT_EQ(json_of(r).at("body"), R"({"a":1})");
  EXPECT_EQ(json_of(r).at("method"), "POST");
}

TEST_F(HttpServerTest, UnknownPathIs404WithTheErrorEnvelope) {
  Client c(server_.port());
  auto r = c.request(http::verb::get, "/nope");
  EXPECT_EQ(r.result_int(), 404);
  EXPECT_EQ(r.body(), R"({"status":"error","message":"Not found","code":"not_found"})");
  EXPECT_TRUE(r.keep_alive());
}

TEST_F(HttpServerTest, KnownPathWithWrongMethodIs405WithAllow) {
  Client c(server_.port());
  auto r = c.request(http::verb::delete_, "/echo/x");
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r[http::field::allow], "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(json_of(r).at("code"), "method_not_allowed");
}

TEST_F(HttpServerTest, UndecodableTargetIs400) {
  Client c(server_.port());
  auto r = c.raw("GET /echo/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 400);
  EXPECT_EQ(json_of(*r).at("code"), "bad_request");
}

TEST_F(HttpServerTest, MalformedRequestIs400ThenClose) {
  Client c(server_.port());
  auto r = c.raw("xx\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 400);
  EXPECT_EQ(json_of(*r).at("code"), "bad_request");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, TooLargeBodyIs413ThenClose) {
  Client c(server_.port());
  auto r = c.raw("POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413);
  EXPECT_EQ(json_of(*r).at("code"), "payload_too_large");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, TooLargeChunkedBodyIs413) {
  Client c(server_.port());
  std::string chunk(2000, 'a');
  auto r = c.raw("POST /echo/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + chunk + "\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413);
}

TEST_F(HttpServerTest, TooLargeHeadersAre431) {
  Client c(server_.port());
  auto r = c.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'b') + "\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 431);
  EXPECT_EQ(json_of(*r).at("code"), "headers_too_large");
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  Client c(server_.port());
  auto interim = c.raw("POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  auto r = c.raw("hi");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(json_of(*r).at("body"), "hi");
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Client c(server_.port());
  auto first = c.raw("GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/two HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(first);
  EXPECT_EQ(json_of(*first).at("name"), "one");
  auto second = c.read();
  EXPECT_EQ(json_of(second).at("name"), "two");
}

TEST_F(HttpServerTest, CorsHeadersOnlyForAllowedOrigins) {
  Client c(server_.port());
  auto r = c.request(http::verb::get, "/healthz", {}, {{"Origin", "https://app.example"}});
  EXPECT_EQ(r[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ(r[http::field::vary], "Origin");
  EXPECT_THAT(std::string(r[http::field::access_control_expose_headers]), HasSubstr("ETag"));

  r = c.request(http::verb::get, "/healthz", {}, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.count(http::field::access_control_allow_origin), 0u);
  r = c.request(http::verb::get, "/healthz");
  EXPECT_EQ(r.count(http::field::access_control_allow_origin), 0u);
}

TEST_F(HttpServerTest, PreflightOnAKnownPath) {
  Client c(server_.port());
  auto r = c.request(http::verb::options, "/echo/x", {},
                     {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.result_int(), 204);
  EXPECT_EQ(r[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ(r[http::field::access_control_allow_methods], "GET, HEAD, POST, OPTIONS");
  EXPECT_THAT(std::string(r[http::field::access_control_allow_headers]), HasSubstr("Idempotency-Key"));
  EXPECT_THAT(std::string(r[http::field::access_control_allow_headers]), HasSubstr("If-Match"));
  EXPECT_FALSE(r[http::field::access_control_max_age].empty());
  EXPECT_EQ(r.count(http::field::content_length), 0u);
  EXPECT_TRUE(r.body().empty());

  r = c.request(http::verb::options, "/echo/x", {}, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.result_int(), 204);
  EXPECT_EQ(r.count(http::field::access_control_allow_origin), 0u);
  EXPECT_EQ(r.count(http::field::access_control_allow_methods), 0u);

  r = c.request(http::verb::options, "/nope", {}, {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.result_int(), 404);
}

TEST_F(HttpServerTest, HandlerExceptionsBecome500Or503) {
  Client c(server_.port());
  auto r = c.request(http::verb::get, "/boom");
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_EQ(json_of(r).at("code"), "internal");

  r = c.request(http::verb::post, "/transient");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(json_of(r).at("code"), "unavailable");
  EXPECT_EQ(r[http::field::retry_after], "1");

  r = c.request(http::verb::post, "/permanent");
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_EQ(json_of(r).at("code"), "internal");

  // The connection survives all of it.
  EXPECT_EQ(c.request(http::verb::get, "/healthz").result_int(), 200);
}

TEST_F(HttpServerTest, ReadinessFollowsTheStore) {
  Client c(server_.port());
  auto r = c.request(http::verb::get, "/readyz");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), R"({"status":"ready","checks":{"store":"ok","recognizer":"none"}})");
  store_.ping_mode = FakeStore::Ping::fails;
  EXPECT_EQ(c.request(http::verb::get, "/readyz").result_int(), 503);
  store_.ping_mode = FakeStore::Ping::throws;
  EXPECT_EQ(c.request(http::verb::get, "/readyz").result_int(), 503);
}

// With the object store's and the mailer's latest outcomes, as the App wires them.
class HttpServerReadinessTest : public HttpServerTest {
 protected:
  void SetUp() override {
    services_.objects = &objects_;
    services_.mailer = &mailer_;
    HttpServerTest::SetUp();
  }
  LastOutcome objects_;
  LastOutcome mailer_;
};

TEST_F(HttpServerReadinessTest, UnavailableWhileStoreWritesFailAndObjectsAndMailerOnlyReported) {
  Client c(server_.port());
  EXPECT_EQ(
      c.request(http::verb::get, "/readyz").body(),
      R"({"status":"ready","checks":{"store":"ok","objects":"ok","mailer":"ok","recognizer":"none"}})");

  // A store that answers reads but cannot write (a full disk) is not ready.
  store_.writes_fail = true;
  auto r = c.request(http::verb::get, "/readyz");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(
      r.body(),
      R"({"status":"unavailable","checks":{"store":"failing","objects":"ok","mailer":"ok","recognizer":"none"}})");

  // A failing object store or mail server is reported but leaves the process ready: what
  // goes to them is retried.
  store_.writes_fail = false;
  objects_.record(false);
  mailer_.record(false);
  r = c.request(http::verb::get, "/readyz");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(
      r.body(),
      R"({"status":"ready","checks":{"store":"ok","objects":"failing","mailer":"failing","recognizer":"none"}})");
  objects_.record(true);
  EXPECT_EQ(
      c.request(http::verb::get, "/readyz").body(),
      R"({"status":"ready","checks":{"store":"ok","objects":"ok","mailer":"failing","recognizer":"none"}})");
}

TEST_F(HttpServerTest, MetricsCountWhatWasServed) {
  Client c(server_.port());
  c.request(http::verb::get, "/healthz");
  c.request(http::verb::get, "/nope");
  auto r = c.request(http::verb::get, "/metrics");
  ASSERT_EQ(r.result_int(), 200);
  EXPECT_THAT(std::string(r[http::field::content_type]), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(r.body(), HasSubstr("orderflow_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n"));
  EXPECT_THAT(r.body(), HasSubstr("orderflow_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"));
  EXPECT_THAT(r.body(), HasSubstr("orderflow_orders 3\n"));
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  Client c(server_.port());
  auto r = c.request(http::verb::get, "/healthz", {}, {{"Connection", "close"}});
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, StopLetsTheRequestInFlightFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  g_slow_entered = &entered;
  g_slow_release = &released;

  std::optional<Client> c(std::in_place, server_.port());
  Client idle(server_.port());
  // Send the slow request, and wait until its handler runs on a worker.
  std::string wire = "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  auto pending = std::async(std::launch::async, [&] { return c->raw(wire); });
  entered.get_future().wait();

  auto stopping = std::async(std::launch::async, [&] { server_.stop(std::chrono::seconds(10)); });
  // An idle connection is closed by the drain, and once every loop has begun draining no
  // acceptor is left: connecting is refused.
  EXPECT_TRUE(idle.closed_by_server());
  const auto bound = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (accepts_connections(server_.port()) && std::chrono::steady_clock::now() < bound) std::this_thread::yield();
  EXPECT_FALSE(accepts_connections(server_.port()));
  release.set_value();

  auto r = pending.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_FALSE(r->keep_alive());
  c.reset();  // the server drains what a closing client still sends until it closes too
  stopping.get();

  EXPECT_FALSE(accepts_connections(server_.port()));
  g_slow_entered = nullptr;
  g_slow_release = nullptr;
}

// The sweep runs once a second, so these take a second or two: they wait for the server to
// close the connection (bounded by the client's deadline), never for a fixed time.
class HttpServerTimeoutTest : public HttpServerTest {
 protected:
  HttpServerTimeoutTest() {
    config_.idle_timeout_s = 1;
    config_.request_timeout_s = 1;
  }
};

TEST_F(HttpServerTimeoutTest, IdleConnectionsAreClosed) {
  Client c(server_.port());
  EXPECT_EQ(c.request(http::verb::get, "/healthz").result_int(), 200);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTimeoutTest, SlowClientIsCutOffMidRequest) {
  Client slow(server_.port());
  slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // the headers never finish
  EXPECT_TRUE(slow.closed_by_server());
}

TEST(HttpServerBind, PortInUseIsAnErrorNamingListen) {
  Config config = [] {
    Config c;
    c.listen = "127.0.0.1:0";
    c.io_threads = 1;
    c.worker_threads = 1;
    c.access_log = false;
    return c;
  }();
  FakeStore store;
  adapters::SystemClock clock;
  adapters::UuidV7Generator ids{clock};
  functions::OrderContext orders{store, clock, ids};
  Router router{kTestRoutes};
  Metrics metrics{metric_route_labels(router), 1};
  Services services{orders, store, metrics};
  HttpServer first{config, router, services};
  first.start();

  Config taken = config;
  taken.listen = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second{taken, router, services};
  try {
    second.start();
    FAIL() << "a second server bound a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("listen:"));
  }
}

}  // namespace
}  // namespace orderflow::runtime
