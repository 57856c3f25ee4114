#include "e2e/harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace orderflow::e2e {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

namespace {

constexpr auto kStartBound = 20s;
constexpr auto kStopBound = 20s;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The environment of the child: ours without any ORDERFLOW_* setting (tests are hermetic),
// plus the test's own variables.
std::vector<std::string> child_environment(const Headers& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("ORDERFLOW_", 0) == 0) continue;
    env.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct Child {
  pid_t pid = -1;
  int pidfd = -1;
};

// fork/exec of the binary with stdin from /dev/null and stdout/stderr into the given files.
// Everything the child needs is prepared before fork(): only async-signal-safe calls after it.
Child spawn(std::vector<std::string> args, const Headers& env, const fs::path& out_path,
            const fs::path& err_path) {
  std::vector<std::string> argv_strings;
  argv_strings.emplace_back(ORDERFLOW_BINARY_PATH);
  for (auto& a : args) argv_strings.push_back(std::move(a));
  std::vector<std::string> env_strings = child_environment(env);
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);

  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0) throw_errno("open " + out_path.string());
  int err_fd = out_fd;
  if (err_path != out_path) {
    err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (err_fd < 0) {
      const int saved = errno;
      ::close(out_fd);
      errno = saved;
      throw_errno("open " + err_path.string());
    }
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) throw_errno("open /dev/null");

  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    // Dies with the test process even if the test crashes before its destructors run.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(null_fd);
  ::close(out_fd);
  if (err_fd != out_fd) ::close(err_fd);

  Child c;
  c.pid = pid;
  c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (c.pidfd < 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw_errno("pidfd_open");
  }
  return c;
}

// Waits up to `bound` for the child to end; reaps it and returns its status.
std::optional<int> wait_child(Child& c, std::chrono::milliseconds bound) {
  pollfd p{c.pidfd, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(bound.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return std::nullopt;
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(c.pidfd);
  c = Child{};
  return decode_wait_status(status);
}

std::string to_std(beast::string_view s) { return std::string(s.data(), s.size()); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

bool has_header(const Headers& h, std::string_view name) {
  for (const auto& [n, v] : h)
    if (iequals(n, name)) return true;
  return false;
}

}  // namespace

// --- TempDir ----------------------------------------------------------------------------------

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// --- ServerProcess ----------------------------------------------------------------------------

ServerProcess::ServerProcess(fs::path work_dir, ServerOptions options, Wait wait)
    : work_dir_(std::move(work_dir)), data_dir_(work_dir_ / "data"), options_(std::move(options)) {
  fs::create_directories(work_dir_);  // the data dir is the server's to create (mode 0700)
  spawn_child();
  if (wait == Wait::until_listening) await_listening();
}

ServerProcess::~ServerProcess() {
  if (running()) kill9();
}

void ServerProcess::start() {
  spawn_child();
  await_listening();
}

void ServerProcess::spawn_child() {
  if (running()) throw std::logic_error("server already running");
  port_ = 0;
  const fs::path log_path = work_dir_ / ("server-" + std::to_string(logs_.size() + 1) + ".log");
  logs_.push_back(log_path);

  std::vector<std::string> args = {options_.command, "--data-dir", data_dir_.string()};
  // The options may listen elsewhere (all addresses: the client still connects to 127.0.0.1).
  if (std::find(options_.args.begin(), options_.args.end(), "--listen") == options_.args.end())
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  Headers env = options_.env;
  if (!options_.subscription_limits)
    for (const char* limit :
         {"ORDERFLOW_LIMITS_SUBSCRIPTION_REQUESTS_PER_HOUR", "ORDERFLOW_LIMITS_ADDRESS_MAIL_INTERVAL_S",
          "ORDERFLOW_LIMITS_ADDRESS_MAILS_PER_DAY"})
      if (!has_header(env, limit)) env.emplace_back(limit, "0");
  if (e2e_store_is_postgres() && !has_header(env, "ORDERFLOW_STORE")) {
    if (!database_) database_ = std::make_unique<PostgresDatabase>();
    env.emplace_back("ORDERFLOW_STORE", database_->url());
  }
  Child c = spawn(std::move(args), env, log_path, log_path);
  pid_ = c.pid;
  pidfd_ = c.pidfd;
}

void ServerProcess::await_listening() {
  if (port_ != 0) return;
  const fs::path& log_path = logs_.back();
  // The log line is the readiness signal; each poll on the pidfd also notices an early exit.
  static const std::regex listening(R"(listening on http://(?:127\.0\.0\.1|0\.0\.0\.0):([0-9]+))");
  const auto deadline = std::chrono::steady_clock::now() + kStartBound;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = read_file(log_path);
    if (std::regex_search(text, m, listening)) {
      const unsigned long port = std::stoul(m[1].str());
      if (port == 0 || port > 65535) break;
      port_ = static_cast<std::uint16_t>(port);
      return;
    }
    if (auto status = wait_for_exit(20ms)) {
      throw std::runtime_error("orderflow exited with status " + std::to_string(*status) +
                               " before listening; log:\n" + read_file(log_path));
    }
  }
  kill9();
  throw std::runtime_error("orderflow did not log 'listening on http://127.0.0.1:PORT' within " +
                           std::to_string(kStartBound.count()) + " s; log:\n" +
                           read_file(log_path));
}

std::optional<int> ServerProcess::wait_for_exit(std::chrono::milliseconds bound) {
  if (!running()) return std::nullopt;
  Child c{pid_, pidfd_};
  auto status = wait_child(c, bound);
  if (status) {
    pid_ = -1;
    pidfd_ = -1;
  }
  return status;
}

int ServerProcess::stop() {
  if (!running()) throw std::logic_error("server not running");
  ::kill(pid_, SIGTERM);
  if (auto status = wait_for_exit(kStopBound)) return *status;
  ADD_FAILURE() << "orderflow did not exit within " << kStopBound.count()
                << " s of SIGTERM; killed it. Log:\n"
                << log();
  kill9();
  return -1;
}

void ServerProcess::kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  // SIGKILL cannot be ignored, so this wait ends.
  while (!wait_for_exit(std::chrono::milliseconds(60'000))) {
  }
}

bool ServerProcess::alive() { return running() && !wait_for_exit(std::chrono::milliseconds(0)); }

std::optional<std::string> ServerProcess::store() const {
  for (const auto& [name, value] : options_.env)
    if (name == "ORDERFLOW_STORE") return value;
  if (database_) return database_->url();
  return std::nullopt;
}

void ServerProcess::restart() { start(); }

void ServerProcess::restart(ServerOptions options) {
  options_ = std::move(options);
  start();
}

std::string ServerProcess::log() const {
  std::string all;
  for (const auto& p : logs_) all += "=== " + p.filename().string() + "\n" + read_file(p);
  return all;
}

// --- run_orderflow ----------------------------------------------------------------------------

RunResult run_orderflow(const std::vector<std::string>& args, const Headers& env,
                        std::chrono::seconds bound) {
  TempDir dir;
  const fs::path out = dir.path() / "stdout";
  const fs::path err = dir.path() / "stderr";
  Child c = spawn(args, env, out, err);
  RunResult result;
  if (auto status = wait_child(c, bound)) {
    result.exit_code = *status;
  } else {
    ::kill(c.pid, SIGKILL);
    while (!wait_child(c, std::chrono::milliseconds(60'000))) {
    }
    result.exit_code = -1;
  }
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

// --- Response ---------------------------------------------------------------------------------

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

std::size_t Response::header_count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& h : headers)
    if (iequals(h.first, name)) ++n;
  return n;
}

boost::json::value Response::json() const { return boost::json::parse(body); }

std::string describe(const Response& r) {
  std::string s = r.request_line + " -> " + std::to_string(r.status) + "\n";
  for (const auto& [n, v] : r.headers) s += "  " + n + ": " + v.substr(0, 200) + "\n";
  s += "  body: " + r.body.substr(0, 2000);
  if (r.body.size() > 2000) s += "...(" + std::to_string(r.body.size()) + " bytes)";
  return s;
}

// --- HttpClient -------------------------------------------------------------------------------

struct HttpClient::Impl {
  static constexpr std::uint64_t kMaxResponseBody = 256ull << 20;
  static constexpr std::uint32_t kMaxResponseHeader = 1u << 20;

  std::uint16_t port;
  std::chrono::seconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void run_until(const bool& done) {
    ioc.restart();
    while (!done && ioc.run_one() != 0) {
    }
  }

  void connect() {
    stream.emplace(ioc);
    buffer.clear();
    stream->expires_after(timeout);
    boost::system::error_code ec;
    bool done = false;
    stream->async_connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port),
                          [&](boost::system::error_code e) {
                            ec = e;
                            done = true;
                          });
    run_until(done);
    if (ec) {
      stream.reset();
      throw boost::system::system_error(ec, "connect to 127.0.0.1:" + std::to_string(port));
    }
  }

  void drop() {
    if (stream) {
      boost::system::error_code ignored;
      stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
    }
    stream.reset();
    buffer.clear();
  }

  struct Outcome {
    boost::system::error_code read_error;
    Response response;
  };

  // Starts the write and the read of the response together and runs until the read ends, so
  // an early answer (and the server closing) is seen even while the request is still going out.
  template <class StartWrite>
  Outcome exchange(StartWrite&& start_write, bool response_has_no_body = false) {
    using Parser = http::response_parser<http::string_body>;
    auto make_parser = [&] {
      auto p = std::make_unique<Parser>();
      p->body_limit(kMaxResponseBody);
      p->header_limit(kMaxResponseHeader);
      p->skip(response_has_no_body);
      return p;
    };
    std::unique_ptr<Parser> parser_ptr = make_parser();
    bool write_done = false;
    bool read_done = false;
    boost::system::error_code write_error;
    Outcome out;

    stream->expires_after(timeout);
    start_write([&](boost::system::error_code e, std::size_t) {
      write_error = e;
      write_done = true;
    });
    // Interim 1xx responses (100 Continue) are skipped; the final response is the answer.
    std::function<void(boost::system::error_code, std::size_t)> on_read =
        [&](boost::system::error_code e, std::size_t) {
          const unsigned code = e ? 0 : parser_ptr->get().result_int();
          if (code >= 100 && code < 200 && code != 101) {
            parser_ptr = make_parser();
            http::async_read(*stream, buffer, *parser_ptr, on_read);
            return;
          }
          out.read_error = e;
          read_done = true;
        };
    http::async_read(*stream, buffer, *parser_ptr, on_read);
    run_until(read_done);
    Parser& parser = *parser_ptr;

    const bool reusable = !out.read_error && write_done && !write_error && parser.keep_alive();
    if (!reusable) {
      // Closing cancels a write the server stopped reading; wait for its handler so nothing
      // refers to the caller's request any more.
      boost::system::error_code ignored;
      stream->socket().close(ignored);
      run_until(write_done);
    }
    if (!out.read_error) {
      auto& msg = parser.get();
      out.response.status = static_cast<int>(msg.result_int());
      for (const auto& f : msg)
        out.response.headers.emplace_back(to_std(f.name_string()), to_std(f.value()));
      out.response.body = std::move(msg.body());
      out.response.keep_alive = parser.keep_alive();
    }
    if (!reusable) {
      stream.reset();
      buffer.clear();
    }
    return out;
  }
};

HttpClient::HttpClient(std::uint16_t port, std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() { impl_->drop(); }

void HttpClient::close() { impl_->drop(); }

Response HttpClient::request(std::string_view method, std::string_view target,
                             std::string_view body, const Headers& headers) {
  if (!impl_->stream) impl_->connect();

  http::request<http::string_body> req;
  req.version(11);
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  if (!has_header(headers, "Host"))
    req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
  if (!body.empty() && !has_header(headers, "Content-Type"))
    req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.insert(name, value);
  req.body() = std::string(body);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req.content_length(body.size());

  Impl::Outcome out = impl_->exchange(
      [&](auto handler) { http::async_write(*impl_->stream, req, std::move(handler)); },
      method == "HEAD");
  if (out.read_error)
    throw boost::system::system_error(
        out.read_error, std::string(method) + " " + std::string(target.substr(0, 200)));
  out.response.request_line = std::string(method) + " " + std::string(target.substr(0, 200));
  return std::move(out.response);
}

std::optional<Response> HttpClient::raw_exchange(std::string_view bytes) {
  impl_->drop();
  impl_->connect();
  Impl::Outcome out = impl_->exchange([&](auto handler) {
    asio::async_write(impl_->stream->socket(), asio::buffer(bytes.data(), bytes.size()),
                      std::move(handler));
  });
  impl_->drop();  // the connection's state after raw bytes is unknown
  if (out.read_error == beast::error::timeout)
    throw boost::system::system_error(out.read_error,
                                      "server neither answered nor closed the connection");
  if (out.read_error) return std::nullopt;
  out.response.request_line = "raw " + std::to_string(bytes.size()) + " bytes";
  return std::move(out.response);
}

// --- helpers ----------------------------------------------------------------------------------

std::string json_quote(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

std::string order_body(std::string_view description, std::string_view price_json) {
  return "{\"description\":" + json_quote(description) + ",\"price\":" + std::string(price_json) +
         "}";
}

std::string query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string string_field(const boost::json::value& v, std::string_view key) {
  const auto* obj = v.if_object();
  if (obj == nullptr) return {};
  const auto* field = obj->if_contains(key);
  if (field == nullptr || !field->is_string()) return {};
  return std::string(field->get_string());
}

std::string create_order(HttpClient& c, std::string_view description, std::string_view price_json,
                         const Headers& headers) {
  const Response r = c.post("/orders", order_body(description, price_json), headers);
  if (r.status != 201) {
    ADD_FAILURE() << "create_order failed: " << describe(r);
    return {};
  }
  return string_field(r.json(), "orderId");
}

std::vector<boost::json::object> list_all_orders(HttpClient& c, int limit) {
  std::vector<boost::json::object> all;
  std::string cursor;
  for (int page = 0; page < 100'000; ++page) {
    std::string target = "/orders?limit=" + std::to_string(limit);
    if (!cursor.empty()) target += "&cursor=" + query_escape(cursor);
    const Response r = c.get(target);
    if (r.status != 200) {
      ADD_FAILURE() << "listing orders failed: " << describe(r);
      return all;
    }
    const boost::json::value v = r.json();
    for (const auto& o : v.at("orders").as_array()) all.push_back(o.as_object());
    const auto* next = v.as_object().if_contains("nextCursor");
    if (next == nullptr) return all;
    cursor = std::string(next->as_string());
  }
  ADD_FAILURE() << "listing orders never ended";
  return all;
}

std::size_t count_orders(HttpClient& c) { return list_all_orders(c).size(); }

testing::AssertionResult HasStatus(const Response& r, int status) {
  if (r.status == status) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "expected status " << status << ", got " << describe(r);
}

testing::AssertionResult IsErrorCode(const Response& r, int status, std::string_view code) {
  if (r.status != status)
    return testing::AssertionFailure() << "expected status " << status << ", got " << describe(r);
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object())
    return testing::AssertionFailure() << "error body is not a JSON object: " << describe(r);
  if (string_field(v, "status") != "error")
    return testing::AssertionFailure() << "expected \"status\":\"error\": " << describe(r);
  if (!code.empty() && string_field(v, "code") != code)
    return testing::AssertionFailure() << "expected code " << code << ": " << describe(r);
  if (!v.as_object().contains("message") || !v.at("message").is_string())
    return testing::AssertionFailure() << "error without a message: " << describe(r);
  return testing::AssertionSuccess();
}

testing::AssertionResult IsError(const Response& r, int status, std::string_view code,
                                 std::string_view message) {
  auto base = IsErrorCode(r, status, code);
  if (!base) return base;
  const std::string got = string_field(r.json(), "message");
  if (got != message)
    return testing::AssertionFailure()
           << "expected message \"" << message << "\", got \"" << got << "\": " << describe(r);
  return testing::AssertionSuccess();
}

testing::AssertionResult HasRawPrice(const Response& r, std::string_view text) {
  std::string escaped;
  for (const char ch : text) {
    if (ch == '.') escaped += '\\';
    escaped += ch;
  }
  const std::regex re("\"price\"\\s*:\\s*" + escaped + "(?![0-9.eE])");
  if (std::regex_search(r.body, re)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "expected raw \"price\":" << text << " in " << describe(r);
}

bool is_lower_uuid(std::string_view s) {
  static const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  return std::regex_match(s.begin(), s.end(), re);
}

bool is_rfc3339_micro_utc(std::string_view s) {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$)");
  return std::regex_match(s.begin(), s.end(), re);
}

std::string last_chars(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

void FreshServerTest::SetUp() { start(); }

void FreshServerTest::start(ServerOptions options) {
  client_.reset();
  env_.reset();
  env_ = std::make_unique<TestServer>(std::move(options));
  client_ = std::make_unique<HttpClient>(env_->server.port());
}

void FreshServerTest::TearDown() {
  if (HasFailure() && env_)
    std::cerr << "--- server log (tail) ---\n" << last_chars(env_->server.log(), 4000) << "\n";
  client_.reset();
  env_.reset();
}

}  // namespace orderflow::e2e
