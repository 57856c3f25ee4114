#include "objects/object_test_support.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "adapters/s3/sigv4.hpp"

namespace orderflow::testing {
namespace fs = std::filesystem;

domain::Timestamp wall_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

CurlHandle new_handle() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  CurlHandle h(ready ? curl_easy_init() : nullptr, &curl_easy_cleanup);
  if (!h) throw std::runtime_error("no curl handle");
  return h;
}

std::size_t append(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

HttpAnswer perform(CURL* h) {
  HttpAnswer answer;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("curl: ") + curl_easy_strerror(rc));
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads the child's stdout up to the line "S3rver listening on <address>:<port>"; returns the
// port, or nothing when the process closed stdout (it died) or a minute passed.
std::optional<std::string> read_listening_port(int fd) {
  static constexpr std::string_view kMarker = "S3rver listening on 127.0.0.1:";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string seen;
  while (true) {
    const auto marker = seen.find(kMarker);
    if (marker != std::string::npos) {
      const auto eol = seen.find('\n', marker);
      if (eol != std::string::npos)
        return seen.substr(marker + kMarker.size(), eol - marker - kMarker.size());
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    seen.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

HttpAnswer http_get(const std::string& url) {
  auto h = new_handle();
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  return perform(h.get());
}

S3rver::S3rver() {
  const fs::path script = fs::path(ORDERFLOW_SOURCE_DIR) / "node_modules/s3rver/bin/s3rver.js";
  if (!fs::exists(script))
    throw std::runtime_error("s3rver is not installed: " + script.string() +
                             " is missing. Run scripts/install-deps.sh (npm ci) in " +
                             ORDERFLOW_SOURCE_DIR + "; the S3 tests need it and never skip.");
  const fs::path data = dir_.path() / "data";
  const fs::path log = dir_.path() / "s3rver.log";
  fs::create_directory(data);

  // s3rver 3.7.1 encrypts continuation tokens with DES, which Node's OpenSSL 3 keeps in the
  // legacy provider; without it every truncated listing is a 500. Port 0: the server picks.
  std::vector<std::string> args = {"node",        "--openssl-legacy-provider", script.string(),
                                   "--silent",    "--address",
                                   "127.0.0.1",   "--port",
                                   "0",           "--directory",
                                   data.string(), "--configure-bucket",
                                   "orderflow"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot create " + log.string());
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Die with the test process, even when it crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execvp("node", argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ::close(log_fd);
  stdout_fd_ = pipe_fds[0];

  const auto port = read_listening_port(stdout_fd_);
  if (!port) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    ::close(stdout_fd_);
    throw std::runtime_error("s3rver did not start (is `node` on PATH?): " + read_file(log));
  }
  endpoint_ = "http://127.0.0.1:" + *port;
}

S3rver::~S3rver() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void S3rver::create_bucket(const std::string& name) const {
  auto h = new_handle();
  const std::string url = endpoint_ + "/" + name;
  const std::string userpwd = std::string(kAccessKey) + ":" + kSecretKey;
  curl_slist* headers = curl_slist_append(
      nullptr, ("x-amz-content-sha256: " + adapters::sigv4::sha256_hex("")).c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard(headers, &curl_slist_free_all);
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(h.get(), CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  curl_easy_setopt(h.get(), CURLOPT_USERPWD, userpwd.c_str());
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers);
  const HttpAnswer answer = perform(h.get());
  if (answer.status != 200)
    throw std::runtime_error("cannot create bucket " + name + ": HTTP " +
                             std::to_string(answer.status) + " " + answer.body);
}

namespace {

struct SharedS3rver {
  std::mutex mutex;
  std::unique_ptr<S3rver> server;
  std::string failure;
};

SharedS3rver& shared() {
  static SharedS3rver instance;
  return instance;
}

// Stops the shared s3rver when the tests are done.
class S3rverEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(shared().mutex);
    shared().server.reset();
  }
};

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3rverEnvironment);

}  // namespace

const S3rver& shared_s3rver() {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  if (!s.server && s.failure.empty()) {
    try {
      s.server = std::make_unique<S3rver>();
    } catch (const std::exception& e) {
      s.failure = e.what();
    }
  }
  if (!s.server) throw std::runtime_error(s.failure);
  return *s.server;
}

}  // namespace orderflow::testing
