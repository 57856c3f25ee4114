// The end-to-end harness: temp dirs, the real `orderflow` binary as a child process, and a
// small synchronous HTTP client (Boost.Beast) to drive it. Tests only ever see these types.
#pragma once

#include "e2e/postgres_support.hpp"
#include "support/temp_dir.hpp"
#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderflow::e2e {

using Headers = std::vector<std::pair<std::string, std::string>>;

using TempDir = test_support::TempDir;

// `s` n times over (long descriptions, big bodies).
std::string repeat(std::string_view s, std::size_t n);

struct ServerOptions {
  std::string command = "serve";  // the subcommand: "serve" or "worker"
  std::vector<std::string> args;  // appended after `<command> --data-dir ... --listen ...`;
                                  // with a --listen of their own (0.0.0.0:0), that one instead
  Headers env;                    // extra environment variables (name, value)
  // The subscription rate limits (per client address and per mailed address) are off unless
  // a test is about them: every test subscribes from 127.0.0.1, many of them to one address.
  // A limit set in `env` is kept either way.
  bool subscription_limits = false;
};

// `orderflow <command> --listen 127.0.0.1:0 --data-dir <work_dir>/data` as a child process.
// Output goes to <work_dir>/server-<n>.log (one file per start). The constructor returns once
// the server has logged the port it listens on; the destructor never leaves a process behind.
// With ORDERFLOW_E2E_STORE=postgres, a server whose env sets no ORDERFLOW_STORE runs on a fresh
// PostgreSQL database of its own, kept across restarts and dropped with the ServerProcess.
// The child gets SIGKILL when the *thread* that started it ends (PR_SET_PDEATHSIG), so start
// servers from the test's main thread; to start several at once, launch each with
// Wait::no and then await_listening() each.
class ServerProcess {
 public:
  enum class Wait { until_listening, no };
  explicit ServerProcess(std::filesystem::path work_dir, ServerOptions options = {},
                         Wait wait = Wait::until_listening);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  bool running() const { return pid_ > 0; }
  // Still running: false once the process has ended (and then reaps it), whoever ended it.
  bool alive();
  // The ORDERFLOW_STORE it runs with (its own database or the one its env gives); nullopt for
  // the default SQLite file in the data dir. For CLI runs against the same store.
  std::optional<std::string> store() const;

  // SIGTERM, then waits (bounded) for the exit. Returns the exit code, or 128 + signal when
  // the process died of a signal. A server that ignores SIGTERM is killed and reported.
  int stop();
  // SIGKILL, and reaps the process.
  void kill9();
  // Returns once the process logged its port (after Wait::no); throws when it exits first or
  // does not log within the bound.
  void await_listening();
  // Starts again on the same data dir (after stop() or kill9()); the port may change.
  void restart();
  // Same, with other options from now on (e.g. another mailer for the same data).
  void restart(ServerOptions options);
  // All log files of this server so far, for failure messages.
  std::string log() const;

 private:
  void start();
  void spawn_child();
  // The exit status once the process has ended within `bound`, else nullopt (still running).
  std::optional<int> wait_for_exit(std::chrono::milliseconds bound);

  std::filesystem::path work_dir_;
  std::filesystem::path data_dir_;
  ServerOptions options_;
  std::vector<std::filesystem::path> logs_;
  std::unique_ptr<PostgresDatabase> database_;  // ORDERFLOW_E2E_STORE=postgres only
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::uint16_t port_ = 0;
};

// One run of the binary to completion (e.g. `--version`, or a start-up that must fail).
struct RunResult {
  int exit_code = -1;  // 128 + signal when killed; -1 when it had to be killed after the bound
  std::string out;
  std::string err;
};
RunResult run_orderflow(const std::vector<std::string>& args, const Headers& env = {},
                        std::chrono::seconds bound = std::chrono::seconds(20));

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  bool keep_alive = true;
  std::string request_line;  // "POST /orders", for failure messages

  // First value of a header (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
  // The body as JSON; throws when it is not JSON.
  boost::json::value json() const;
};

// Failure-message dump of an exchange.
std::string describe(const Response& r);

// One keep-alive connection to 127.0.0.1:port. Reconnects when the server closed the previous
// connection on purpose (Connection: close); a broken connection throws
// boost::system::system_error. Every operation is bounded by `timeout`.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::chrono::seconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request. Adds Host, and Content-Type: application/json when there is a body,
  // unless `headers` sets them. A request body is always sent with Content-Length.
  Response request(std::string_view method, std::string_view target, std::string_view body = {},
                   const Headers& headers = {});
  Response get(std::string_view target, const Headers& headers = {}) {
    return request("GET", target, {}, headers);
  }
  Response post(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return request("POST", target, body, headers);
  }

  // Writes raw bytes on a fresh connection and reads one response while still writing, so a
  // server that answers early (413, 431) and closes is still heard. nullopt when the server
  // closed (or reset) the connection without a complete response.
  std::optional<Response> raw_exchange(std::string_view bytes);

  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- Helpers shared by the suites -------------------------------------------------------------

// JSON string literal for s (quotes and escapes), for building bodies by hand.
std::string json_quote(std::string_view s);
// {"description":<quoted description>,"price":<price_json verbatim>}
std::string order_body(std::string_view description, std::string_view price_json);
// Percent-encodes a query parameter value.
std::string query_escape(std::string_view s);

// POSTs an order and returns its id; a test failure (and "") when it is not a 201.
std::string create_order(HttpClient& c, std::string_view description, std::string_view price_json,
                         const Headers& headers = {});
// Every order the server lists, paging with `limit` through all cursors.
std::vector<boost::json::object> list_all_orders(HttpClient& c, int limit = 1000);
std::size_t count_orders(HttpClient& c);

// The error envelope: {"status":"error","message":message,"code":code} with this status.
testing::AssertionResult IsError(const Response& r, int status, std::string_view code,
                                 std::string_view message);
// Same, but any message (and any code when `code` is empty).
testing::AssertionResult IsErrorCode(const Response& r, int status, std::string_view code);
testing::AssertionResult HasStatus(const Response& r, int status);
// The raw body has `"price":<text>` exactly (the decimal as written, not re-parsed).
testing::AssertionResult HasRawPrice(const Response& r, std::string_view text);

bool is_lower_uuid(std::string_view s);
bool is_rfc3339_micro_utc(std::string_view s);
std::string string_field(const boost::json::value& v, std::string_view key);
std::string last_chars(const std::string& s, std::size_t n);

// --- Fixtures ---------------------------------------------------------------------------------

// A temp dir with a running server in it (the server dies before the dir is removed).
struct TestServer {
  explicit TestServer(ServerOptions options = {}) : server(dir.path(), std::move(options)) {}
  TempDir dir;
  ServerProcess server;
};

// One server for all tests of a suite, for tests that do not depend on each other's state.
// Derived may declare `static ServerOptions server_options()` and `static void seed(HttpClient&)`.
template <class Derived>
class SharedServerTest : public testing::Test {
 public:
  static void SetUpTestSuite() {
    try {
      shared() = std::make_unique<TestServer>(Derived::server_options());
      HttpClient c(shared()->server.port());
      Derived::seed(c);
    } catch (const std::exception& e) {
      start_error() = e.what();
    }
  }
  static void TearDownTestSuite() { shared().reset(); }
  static ServerOptions server_options() { return {}; }
  static void seed(HttpClient&) {}

 protected:
  void SetUp() override {
    ASSERT_TRUE(shared() != nullptr) << "server did not start: " << start_error();
    ASSERT_TRUE(start_error().empty()) << start_error();
    client_ = std::make_unique<HttpClient>(port());
  }
  void TearDown() override {
    if (HasFailure() && shared())
      std::cerr << "--- server log (tail) ---\n"
                << last_chars(shared()->server.log(), 4000) << "\n";
  }
  static std::uint16_t port() { return shared()->server.port(); }
  static ServerProcess& server() { return shared()->server; }
  HttpClient& client() { return *client_; }

 private:
  static std::unique_ptr<TestServer>& shared() {
    static std::unique_ptr<TestServer> s;
    return s;
  }
  static std::string& start_error() {
    static std::string e;
    return e;
  }
  std::unique_ptr<HttpClient> client_;
};

// A server of its own for each test, for tests about the whole store or the process.
class FreshServerTest : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  ServerProcess& server() { return env_->server; }
  std::uint16_t port() { return env_->server.port(); }
  HttpClient& client() { return *client_; }
  // Starts the test's server (SetUp calls it with no options).
  void start(ServerOptions options = {});

 private:
  std::unique_ptr<TestServer> env_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace orderflow::e2e
