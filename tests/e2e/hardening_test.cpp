// Hostile clients against the real binary: request smuggling through Transfer-Encoding and
// Content-Length, JSON bodies built to burn CPU, per-route body limits, connection floods (in
// total and from one address), a flood of half-sent bodies against the body budget, and a
// header sent one byte at a time. Each is answered (4xx, or 503 with Retry-After) or closed
// within generous bounds, never left hanging, and nothing it smuggles in runs.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kUnsupportedCoding =
    "Unsupported Transfer-Encoding: only \"chunked\" is accepted";
constexpr const char* kBothFramings = "Request has both Transfer-Encoding and Content-Length";

// The complete response at the start of `bytes`, and in `used` how many bytes it took.
std::optional<Response> parse_response(std::string_view bytes, std::size_t& used) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  parser.eager(true);
  used = 0;
  beast::error_code ec;
  while (!parser.is_done() && used < bytes.size()) {
    const std::size_t n =
        parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec || n == 0) break;
  }
  if (!parser.is_done()) return std::nullopt;
  const auto& msg = parser.get();
  Response r;
  r.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg) r.headers.emplace_back(field.name_string(), field.value());
  r.body = msg.body();
  r.keep_alive = msg.keep_alive();
  r.request_line = "raw connection";
  return r;
}

// Every complete response at the start of `bytes`, in order.
std::vector<Response> responses_in(std::string_view bytes) {
  std::vector<Response> out;
  std::size_t used = 0;
  while (auto r = parse_response(bytes, used)) {
    out.push_back(std::move(*r));
    bytes.remove_prefix(used);
  }
  return out;
}

// A plain TCP connection to the server, for what HttpClient will not send: broken framings,
// bytes one at a time, bodies that stop halfway. Every read is bounded.
class RawConnection {
 public:
  // `source`: the local address to connect from (any 127.x.y.z is loopback on Linux).
  explicit RawConnection(std::uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
      throw std::runtime_error(std::string("bind to ") + source + " failed");
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0)
      throw std::runtime_error("connect failed: " + std::string(std::strerror(errno)));
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Writes all of `bytes` unless the server closed the connection (false then).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Nothing more will be sent (the server's read sees the end).
  void finish_sending() { ::shutdown(fd_, SHUT_WR); }

  // The next response, waiting for it at most `bound`; its bytes are consumed.
  std::optional<Response> response(std::chrono::milliseconds bound = 20s) {
    std::size_t used = 0;
    read_until([&] { return parse_response(received_, used).has_value(); }, bound);
    auto r = parse_response(received_, used);
    if (r) received_.erase(0, used);
    return r;
  }
  // Waits (at most `bound`) until `n` responses are there; returns how many are.
  std::size_t wait_for_responses(std::size_t n, std::chrono::milliseconds bound) {
    read_until([&] { return responses_in(received_).size() >= n; }, bound);
    return responses_in(received_).size();
  }
  // Waits (at most `bound`) for the server to close the connection; true when it did.
  bool closed_by_server(std::chrono::milliseconds bound = 20s) {
    read_until([] { return false; }, bound);
    return closed_;
  }
  // What arrived and no response() took.
  const std::string& received() const { return received_; }

 private:
  template <class Done>
  void read_until(Done done, std::chrono::milliseconds bound) {
    const auto deadline = Clock::now() + bound;
    while (!closed_ && !done()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return;
      char chunk[16 * 1024];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        closed_ = true;  // the end, or a reset
        return;
      }
      received_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

testing::AssertionResult HasRetryAfter(const Response& r) {
  if (r.header("Retry-After").value_or("").empty())
    return testing::AssertionFailure() << "no Retry-After in " << describe(r);
  return testing::AssertionSuccess();
}

ServerOptions with_env(Headers env) {
  ServerOptions options;
  env.emplace_back("ORDERFLOW_RECOGNIZER", "none");  // no model loading: these tests need none
  options.env = std::move(env);
  return options;
}

// {"k0":0,"k1":0,...}: `n` distinct keys.
std::string many_keys(std::size_t n) {
  std::string body = "{";
  for (std::size_t i = 0; i < n; ++i) body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  return body + "}";
}

// --- Request smuggling -------------------------------------------------------------------------

// The request a front end might not see: it would create an order.
const std::string kSmuggledBody = R"({"description":"smuggled","price":1})";
const std::string kSmuggled =
    "POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Content-Length: " +
    std::to_string(kSmuggledBody.size()) + "\r\n\r\n" + kSmuggledBody;

struct SmugglingCase {
  const char* name;
  std::string framing;  // header lines (each ending in \r\n); {CL} is replaced by the body length
  std::string body;
  const char* message;
  const char* version = "HTTP/1.1";
};

void PrintTo(const SmugglingCase& c, std::ostream* os) { *os << c.name; }

std::vector<SmugglingCase> smuggling_cases() {
  // A front end that honours the coding (or the other length) would see one request; a server
  // that ignored the coding would run the body as a second one.
  const std::string chunked_then_smuggled = "0\r\n\r\n" + kSmuggled;
  return {
      {"XChunked", "Transfer-Encoding: xchunked\r\n", kSmuggled, kUnsupportedCoding},
      {"Gzip", "Transfer-Encoding: gzip\r\n", kSmuggled, kUnsupportedCoding},
      {"Identity", "Transfer-Encoding: identity\r\n", kSmuggled, kUnsupportedCoding},
      {"ChunkedThenGzip", "Transfer-Encoding: chunked, gzip\r\n", kSmuggled, kUnsupportedCoding},
      {"Foo", "Transfer-Encoding: foo\r\n", kSmuggled, kUnsupportedCoding},
      {"GzipThenChunked", "Transfer-Encoding: gzip, chunked\r\n", chunked_then_smuggled,
       kUnsupportedCoding},
      {"ChunkedWithParameter", "Transfer-Encoding: chunked;x=1\r\n", kSmuggled, kUnsupportedCoding},
      {"ChunkedLineThenGzipLine", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
       chunked_then_smuggled, kUnsupportedCoding},
      {"GzipLineThenChunkedLine", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
       chunked_then_smuggled, kUnsupportedCoding},
      {"EmptyCoding", "Transfer-Encoding: \r\n", kSmuggled, kUnsupportedCoding},
      {"ChunkedInHttp10", "Transfer-Encoding: chunked\r\n", chunked_then_smuggled,
       "Transfer-Encoding is not allowed in an HTTP/1.0 request", "HTTP/1.0"},
      // Both lengths, in either order and with either coding.
      {"ContentLengthThenChunked", "Content-Length: {CL}\r\nTransfer-Encoding: chunked\r\n",
       chunked_then_smuggled, kBothFramings},
      {"ChunkedThenContentLength", "Transfer-Encoding: chunked\r\nContent-Length: {CL}\r\n",
       chunked_then_smuggled, kBothFramings},
      {"GzipThenContentLength", "Transfer-Encoding: gzip\r\nContent-Length: {CL}\r\n",
       chunked_then_smuggled, kBothFramings},
      {"ContentLengthThenGzip", "Content-Length: {CL}\r\nTransfer-Encoding: gzip\r\n",
       chunked_then_smuggled, kBothFramings},
      {"ContentLengthZeroThenChunked", "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
       chunked_then_smuggled, kBothFramings},
  };
}

class Smuggling : public SharedServerTest<Smuggling>,
                  public testing::WithParamInterface<SmugglingCase> {
 public:
  static ServerOptions server_options() { return with_env({}); }
};

TEST_P(Smuggling, IsA400ThenCloseAndTheSmuggledRequestNeverRuns) {
  const SmugglingCase& c = GetParam();
  const std::size_t before = count_orders(client());

  std::string framing = c.framing;
  if (const auto at = framing.find("{CL}"); at != std::string::npos)
    framing.replace(at, 4, std::to_string(c.body.size()));
  RawConnection raw(port());
  raw.send(std::string("POST /orders ") + c.version +
           "\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + framing + "\r\n" + c.body);
  raw.finish_sending();  // the server's drain after its answer sees the end at once

  // One answer, then the server closes: whatever followed the header is never read as a request.
  ASSERT_TRUE(raw.closed_by_server()) << "the connection stayed open; received:\n"
                                      << raw.received();
  const auto answers = responses_in(raw.received());
  ASSERT_EQ(answers.size(), 1u) << raw.received();
  EXPECT_TRUE(IsError(answers[0], 400, "bad_request", c.message));
  EXPECT_FALSE(answers[0].keep_alive) << describe(answers[0]);

  EXPECT_EQ(count_orders(client()), before) << "the smuggled request created an order";
  for (const auto& order : list_all_orders(client()))
    EXPECT_NE(string_field(order, "description"), "smuggled");
  EXPECT_TRUE(HasStatus(client().get("/healthz"), 200));
}

INSTANTIATE_TEST_SUITE_P(Cases, Smuggling, testing::ValuesIn(smuggling_cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// --- JSON bombs and per-route body limits ------------------------------------------------------

class Hardening : public SharedServerTest<Hardening> {
 public:
  static ServerOptions server_options() { return with_env({}); }
};

// A correct chunked body still works, on a connection that stays open.
TEST_F(Hardening, ChunkedBodiesStillWork) {
  const std::string body = R"({"description":"chunked order","price":"3.50"})";
  RawConnection raw(port());
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  raw.send(
      "POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n");
  const auto r = raw.response();
  ASSERT_TRUE(r.has_value()) << raw.received();
  EXPECT_TRUE(HasStatus(*r, 201));
  EXPECT_TRUE(r->keep_alive);
  raw.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto next = raw.response();
  ASSERT_TRUE(next.has_value()) << raw.received();
  EXPECT_TRUE(HasStatus(*next, 200));
}

// The quadratic duplicate check made this body (1.1 MB) cost ~10 s of CPU; the member cap stops
// the parser after 17 keys.
TEST_F(Hardening, HundredThousandKeysAreA400InAFlash) {
  const std::size_t before = count_orders(client());
  const std::string body = many_keys(100'000);
  const auto start = Clock::now();
  const Response r = client().post("/images/recognize", body);
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(IsError(r, 400, "validation", "JSON object has more than 16 fields"));
  EXPECT_LT(elapsed, 5s) << "generous: the answer should take microseconds of CPU";

  // The order routes take 64 KiB: the same body is refused before it is read.
  const Response order = client().post("/orders", body);
  EXPECT_TRUE(IsError(order, 413, "payload_too_large", "Request body is larger than 65536 bytes"));
  EXPECT_EQ(count_orders(client()), before);
}

TEST_F(Hardening, OrderBodiesWithTooManyFieldsOrTooDeepAre400) {
  const std::size_t before = count_orders(client());
  const std::string id = create_order(client(), "kept as it is", "2.00");
  const std::string thousands = many_keys(5'000);  // ~50 KB: within the 64 KiB limit
  ASSERT_LT(thousands.size(), 64u * 1024);
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    const std::string target = std::string(method) == "POST" ? "/orders" : "/orders/" + id;
    const auto start = Clock::now();
    EXPECT_TRUE(IsError(client().request(method, target, thousands), 400, "validation",
                        "JSON object has more than 16 fields"))
        << method;
    EXPECT_LT(Clock::now() - start, 5s);
    EXPECT_TRUE(
        IsError(client().request(method, target, R"({"description":"a","price":1,"x":[[[[1]]]]})"),
                400, "validation", "JSON nesting is deeper than 4 levels"))
        << method;
    EXPECT_TRUE(IsError(
        client().request(method, target,
                         R"({"description":"a","price":1,"x":[)" + repeat("1,", 40) + "1]}"),
        400, "validation", "JSON array has more than 16 elements"))
        << method;
  }
  // Up to the caps, the function reads the body and says what is wrong with it.
  std::string sixteen = R"({"description":"a","price":1)";
  for (int i = 0; i < 14; ++i) sixteen += ",\"k" + std::to_string(i) + "\":0";
  sixteen += "}";
  EXPECT_TRUE(IsError(client().post("/orders", sixteen), 400, "validation", "unknown field: k0"));
  EXPECT_TRUE(IsError(client().post("/orders", R"({"description":"a","price":1,"x":[[[1]]]})"), 400,
                      "validation", "unknown field: x"));

  EXPECT_EQ(count_orders(client()), before + 1);
  const Response kept = client().get("/orders/" + id);
  ASSERT_TRUE(HasStatus(kept, 200));
  EXPECT_EQ(string_field(kept.json().at("order"), "description"), "kept as it is");
}

TEST_F(Hardening, EachRouteHasItsOwnBodyLimit) {
  const std::size_t before = count_orders(client());
  // An order body of exactly 64 KiB (padded with JSON whitespace) is read and accepted...
  std::string order = order_body("exactly at the limit", "1.25");
  order += std::string(64 * 1024 - order.size(), ' ');
  EXPECT_TRUE(HasStatus(client().post("/orders", order), 201));
  // ...one byte more is a 413 before the body is read, and the connection closes.
  order += ' ';
  const Response over = client().post("/orders", order);
  EXPECT_TRUE(IsError(over, 413, "payload_too_large", "Request body is larger than 65536 bytes"));
  EXPECT_FALSE(over.keep_alive);
  EXPECT_TRUE(IsError(
      client().post("/subscriptions", R"({"email":"a@example.com"})" + std::string(70'000, ' ')),
      413, "payload_too_large", "Request body is larger than 65536 bytes"));
  EXPECT_EQ(count_orders(client()), before + 1);

  // The upload takes megabytes (max_body_bytes): a 2 MiB body is read and judged as an image.
  const std::string upload =
      R"({"image":")" + std::string(2u << 20, 'A') + R"(","description":"zeros"})";
  const Response image = client().post("/images/recognize", upload);
  EXPECT_NE(image.status, 413) << describe(image);
  EXPECT_GE(image.status, 400) << describe(image);
  EXPECT_LT(image.status, 500) << describe(image);
}

// --- Connection limits -------------------------------------------------------------------------

// A server of its own, with the limits under test set small.
class HardeningLimits : public testing::Test {
 protected:
  void start(Headers env) { server_ = std::make_unique<TestServer>(with_env(std::move(env))); }
  std::uint16_t port() const { return server_->server.port(); }
  std::string log() const { return server_->server.log(); }
  void TearDown() override {
    if (HasFailure() && server_)
      std::cerr << "--- server log (tail) ---\n" << last_chars(server_->server.log(), 4000) << "\n";
    server_.reset();
  }

  // GET /healthz on a raw connection, which stays open when the answer is a 200.
  static std::optional<Response> healthz(RawConnection& c) {
    if (!c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) return std::nullopt;
    return c.response();
  }

  // GET /healthz on new connections until one is admitted (a place freed by a client that
  // left is counted free once the server has seen the close), for up to 20 s.
  std::optional<Response> healthz_once_admitted() const {
    std::optional<Response> in;
    for (const auto deadline = Clock::now() + 20s; Clock::now() < deadline;) {
      RawConnection next(port());
      in = healthz(next);
      if (in && in->status == 200) break;
      std::this_thread::sleep_for(50ms);
    }
    return in;
  }

 private:
  std::unique_ptr<TestServer> server_;
};

TEST_F(HardeningLimits, PastMaxConnectionsNewClientsGet503AndAClose) {
  start({{"ORDERFLOW_MAX_CONNECTIONS", "8"}, {"ORDERFLOW_MAX_CONNECTIONS_PER_CLIENT", "0"}});
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<RawConnection>(port()));
    const auto r = healthz(*held.back());
    ASSERT_TRUE(r.has_value()) << "connection " << i;
    ASSERT_TRUE(HasStatus(*r, 200));
  }

  // One after another: each is answered at once and closed, never left waiting.
  for (int i = 0; i < 20; ++i) {
    RawConnection extra(port());
    const auto r = healthz(extra);
    extra.finish_sending();
    ASSERT_TRUE(r.has_value()) << "connection " << i
                               << " past the limit got no answer: " << extra.received();
    EXPECT_TRUE(IsErrorCode(*r, 503, "unavailable"));
    EXPECT_TRUE(HasRetryAfter(*r));
    EXPECT_FALSE(r->keep_alive);
    EXPECT_TRUE(extra.closed_by_server());
  }

  // A burst at once: each is answered 503 or (past the connections being turned away) closed;
  // none hangs.
  std::vector<std::unique_ptr<RawConnection>> burst;
  for (int i = 0; i < 40; ++i) burst.push_back(std::make_unique<RawConnection>(port()));
  std::size_t answered = 0;
  for (auto& c : burst) {
    c->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    c->finish_sending();
  }
  for (auto& c : burst) {
    EXPECT_TRUE(c->closed_by_server()) << "a connection of the burst was left open";
    for (const auto& r : responses_in(c->received())) {
      ++answered;
      EXPECT_TRUE(IsErrorCode(r, 503, "unavailable"));
      EXPECT_TRUE(HasRetryAfter(r));
    }
  }
  EXPECT_GT(answered, 0u);
  burst.clear();

  // The admitted connections still work, and once one closes a new client gets in.
  for (auto& c : held) {
    const auto r = healthz(*c);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(HasStatus(*r, 200));
  }
  held.pop_back();
  const auto in = healthz_once_admitted();
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(HasStatus(*in, 200));
}

TEST_F(HardeningLimits, PerClientAddressLimitLeavesOtherAddressesAlone) {
  start({{"ORDERFLOW_MAX_CONNECTIONS_PER_CLIENT", "4"}});
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(port()));
    const auto r = healthz(*held.back());
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(HasStatus(*r, 200));
  }

  RawConnection fifth(port());
  const auto refused = healthz(fifth);
  fifth.finish_sending();
  ASSERT_TRUE(refused.has_value()) << fifth.received();
  EXPECT_TRUE(IsErrorCode(*refused, 429, "too_many_connections"));
  EXPECT_THAT(refused->json().at("message").as_string().c_str(), testing::HasSubstr("at most 4"));
  EXPECT_TRUE(HasRetryAfter(*refused));
  EXPECT_TRUE(fifth.closed_by_server());

  // Another address (127.0.0.2 is loopback too) has a count of its own.
  RawConnection other(port(), "127.0.0.2");
  const auto r = healthz(other);
  ASSERT_TRUE(r.has_value()) << other.received();
  EXPECT_TRUE(HasStatus(*r, 200));

  // A connection that ends frees its place.
  held.pop_back();
  const auto in = healthz_once_admitted();
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(HasStatus(*in, 200));
}

// --- Body budget -------------------------------------------------------------------------------

// 300,000 bytes of JSON for the upload route: {"image":"AAAA...","description":"zeros"}.
std::string upload_of(std::size_t size) {
  const std::string head = R"({"image":")";
  const std::string tail = R"(","description":"zeros"})";
  return head + std::string(size - head.size() - tail.size(), 'A') + tail;
}

TEST_F(HardeningLimits, HalfSentBodiesPastTheBudgetGet503WithRetryAfter) {
  // 1 MiB for all bodies in flight: three bodies of 300,000 bytes fit, a fourth does not.
  start({{"ORDERFLOW_BODY_BUDGET_BYTES", "1048576"}, {"ORDERFLOW_MAX_BODY_BYTES", "1048576"}});
  constexpr std::size_t kLength = 300'000;
  const std::string body = upload_of(kLength);
  const std::string header =
      "POST /images/recognize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(kLength) + "\r\n\r\n";
  std::vector<std::unique_ptr<RawConnection>> uploads;
  for (int i = 0; i < 6; ++i) {
    uploads.push_back(std::make_unique<RawConnection>(port()));
    ASSERT_TRUE(uploads.back()->send(header + body.substr(0, 1000)));  // and then nothing more
  }

  // Whichever order the server reads them in, three are refused at once and three wait.
  std::vector<RawConnection*> refused;
  std::vector<RawConnection*> waiting;
  for (const auto deadline = Clock::now() + 20s; Clock::now() < deadline;) {
    refused.clear();
    waiting.clear();
    for (auto& u : uploads)
      (u->wait_for_responses(1, 50ms) == 0 ? waiting : refused).push_back(u.get());
    if (refused.size() >= 3) break;
  }
  ASSERT_EQ(refused.size(), 3u);
  for (auto* u : refused) {
    const auto r = responses_in(u->received()).front();
    EXPECT_TRUE(
        IsError(r, 503, "unavailable",
                "The server is receiving too many request bodies at once; try again shortly"));
    EXPECT_TRUE(HasRetryAfter(r));
    EXPECT_FALSE(r.keep_alive);
  }

  // The admitted three finish their bodies and get real answers (the bytes are no image).
  for (auto* u : waiting) {
    ASSERT_TRUE(u->send(body.substr(1000)));
    const auto r = u->response();
    ASSERT_TRUE(r.has_value()) << u->received().substr(0, 500);
    EXPECT_GE(r->status, 400) << describe(*r);
    EXPECT_LT(r->status, 500) << describe(*r);
  }
  // Their bodies are gone, so the budget has room again (at once, or within moments: a
  // connection gives its reservation back right after its answer went out).
  HttpClient c(port());
  Response after;
  for (const auto deadline = Clock::now() + 20s; Clock::now() < deadline;) {
    after = c.post("/images/recognize", body);
    if (after.status != 503) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(after.status, 400) << describe(after);
  EXPECT_LT(after.status, 500) << describe(after);

  // A chunked body reserves each chunk as it is announced: of two 600,000-byte chunks, one fits.
  const std::string chunk = upload_of(600'000);
  const std::string chunked_header =
      "POST /images/recognize HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n927c0\r\n";
  std::vector<std::unique_ptr<RawConnection>> chunked;
  for (int i = 0; i < 2; ++i) {
    chunked.push_back(std::make_unique<RawConnection>(port()));
    ASSERT_TRUE(chunked.back()->send(chunked_header + chunk.substr(0, 1000)));
  }
  RawConnection* admitted = nullptr;
  std::size_t chunked_refused = 0;
  for (const auto deadline = Clock::now() + 20s; Clock::now() < deadline && chunked_refused == 0;) {
    for (auto& c2 : chunked) c2->wait_for_responses(1, 50ms);
    chunked_refused = 0;
    for (auto& c2 : chunked) {
      if (responses_in(c2->received()).empty()) {
        admitted = c2.get();
      } else {
        ++chunked_refused;
        const auto r = responses_in(c2->received()).front();
        EXPECT_TRUE(IsErrorCode(r, 503, "unavailable"));
        EXPECT_TRUE(HasRetryAfter(r));
      }
    }
  }
  ASSERT_EQ(chunked_refused, 1u);
  ASSERT_NE(admitted, nullptr);
  ASSERT_TRUE(admitted->send(chunk.substr(1000) + "\r\n0\r\n\r\n"));
  const auto r = admitted->response();
  ASSERT_TRUE(r.has_value()) << admitted->received().substr(0, 500);
  EXPECT_NE(r->status, 503) << describe(*r);
  EXPECT_LT(r->status, 500) << describe(*r);
}

// --- Slow clients ------------------------------------------------------------------------------

TEST_F(HardeningLimits, AHeaderTrickleIsClosedByTheRequestTimeout) {
  start({{"ORDERFLOW_REQUEST_TIMEOUT_S", "2"}, {"ORDERFLOW_IDLE_TIMEOUT_S", "300"}});
  RawConnection slow(port());
  const auto start_time = Clock::now();
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  bool closed = false;
  // A byte every 200 ms, for at most a minute (the idle timeout is five).
  while (!closed && Clock::now() - start_time < 60s) {
    closed = !slow.send("a") || slow.closed_by_server(200ms);
  }
  EXPECT_TRUE(closed) << "a header trickle outlived request_timeout_s";
  EXPECT_TRUE(responses_in(slow.received()).empty());

  // A quiet keep-alive connection is idle, not slow: request_timeout_s does not end it.
  RawConnection idle(port());
  const auto first = healthz(idle);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(HasStatus(*first, 200));
  std::this_thread::sleep_for(4s);  // twice the request timeout
  const auto second = healthz(idle);
  ASSERT_TRUE(second.has_value()) << "the idle connection was closed";
  EXPECT_TRUE(HasStatus(*second, 200));
}

}  // namespace
}  // namespace orderflow::e2e

namespace orderflow::e2e {
namespace {

// A request line the server cannot parse is logged without its query: a confirmation link's
// token must not end up in the access log (issue: hardening, hygiene).
TEST_F(HardeningLimits, ARejectedRequestTargetIsLoggedWithoutItsQuery) {
  start({{"ORDERFLOW_ACCESS_LOG", "true"}});
  RawConnection c(port());
  ASSERT_TRUE(c.send("GET /subscriptions/confirm?token=SECRET0123456789%zz HTTP/1.1\r\n"
                     "Host: 127.0.0.1\r\n\r\n"));
  const auto r = c.response();
  ASSERT_TRUE(r.has_value()) << "no answer";
  EXPECT_EQ(r->status, 400) << describe(*r);
  // The access log line for it, once written, names the path and not the token.
  const auto until = Clock::now() + 10s;
  while (log().find("/subscriptions/confirm") == std::string::npos && Clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_NE(log().find("/subscriptions/confirm"), std::string::npos) << last_chars(log(), 2000);
  EXPECT_EQ(log().find("SECRET0123456789"), std::string::npos) << last_chars(log(), 2000);
}

}  // namespace
}  // namespace orderflow::e2e
