#include "support/nats_test_server.hpp"

#include <curl/curl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace orderflow::test_support {
namespace fs = std::filesystem;

namespace {

std::size_t append(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// A GET with short timeouts; nothing unless the answer is 200.
std::optional<std::string> http_get(const std::string& url) {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(ready ? curl_easy_init() : nullptr,
                                                        &curl_easy_cleanup);
  if (!h) throw std::runtime_error("no curl handle");
  std::string body;
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, 3000L);
  long status = 0;
  if (curl_easy_perform(h.get()) != CURLE_OK) return std::nullopt;
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return std::nullopt;
  return body;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

NatsTestCluster::NatsTestCluster() = default;

NatsTestCluster::~NatsTestCluster() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the script kills what it can.
  }
}

// Runs scripts/nats-server.sh with stdout and stderr captured. The child closes every other
// descriptor, so the servers it leaves running hold none of this process's sockets.
std::string NatsTestCluster::run(const std::vector<std::string>& args) const {
  const std::string script = std::string(ORDERFLOW_SOURCE_DIR) + "/scripts/nats-server.sh";
  std::vector<std::string> all = {"bash", script};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only stdout is the answer (the URLs); the script's stderr, such as bash's notice that a
    // background nats-server it replaced was killed, goes to the test's log instead.
    ::dup2(fds[1], STDOUT_FILENO);
    ::close_range(3, ~0U, 0);
    ::execvp("bash", argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string logs;
    for (int i = 0; i < nodes_; ++i)
      logs += "\n--- n" + std::to_string(i) + "/server.log:\n" +
              slurp(root() / ("n" + std::to_string(i)) / "server.log");
    throw std::runtime_error("scripts/nats-server.sh " + args.front() + " failed: " + out + logs);
  }
  return trimmed(out);
}

std::string NatsTestCluster::node_file(int node, const char* name) const {
  return trimmed(slurp(root() / ("n" + std::to_string(node)) / name));
}

void NatsTestCluster::start(int nodes) {
  nodes_ = nodes;
  urls_ = run({"start", root().string(), std::to_string(nodes)});
  down_.clear();
}

void NatsTestCluster::init(int nodes) {
  nodes_ = nodes;
  urls_ = run({"init", root().string(), std::to_string(nodes)});
  for (int i = 0; i < nodes_; ++i) down_.insert(i);
}

void NatsTestCluster::stop() {
  if (nodes_ > 0) run({"stop", root().string()});
  for (int i = 0; i < nodes_; ++i) down_.insert(i);
}

std::string NatsTestCluster::url(int node) const {
  return "nats://127.0.0.1:" + node_file(node, "port");
}

std::string NatsTestCluster::monitor_url(int node) const {
  return "http://127.0.0.1:" + node_file(node, "http_port");
}

void NatsTestCluster::kill_node(int node) {
  run({"kill-node", root().string(), std::to_string(node)});
  down_.insert(node);
}

void NatsTestCluster::start_nodes(const std::vector<int>& nodes) {
  std::vector<std::string> args = {"start-node", root().string()};
  for (int n : nodes) args.push_back(std::to_string(n));
  run(args);
  for (int n : nodes) down_.erase(n);
}

std::optional<boost::json::value> NatsTestCluster::monitor(int node,
                                                           const std::string& path) const {
  if (down_.count(node) != 0) return std::nullopt;
  const auto body = http_get(monitor_url(node) + path);
  if (!body) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(*body, ec);
  if (ec) return std::nullopt;
  return value;
}

std::optional<boost::json::object> NatsTestCluster::stream_detail(int node,
                                                                  const std::string& stream) const {
  const auto jsz = monitor(node, "/jsz?streams=true&config=true");
  if (!jsz || !jsz->is_object()) return std::nullopt;
  const auto* accounts = jsz->as_object().if_contains("account_details");
  if (accounts == nullptr || !accounts->is_array()) return std::nullopt;
  for (const auto& account : accounts->as_array()) {
    const auto* streams = account.as_object().if_contains("stream_detail");
    if (streams == nullptr || !streams->is_array()) continue;
    for (const auto& s : streams->as_array()) {
      const auto* name = s.as_object().if_contains("name");
      if (name != nullptr && name->is_string() && name->as_string() == stream) return s.as_object();
    }
  }
  return std::nullopt;
}

int NatsTestCluster::stream_leader(const std::string& stream) const {
  for (int i = 0; i < nodes_; ++i) {
    const auto detail = stream_detail(i, stream);
    if (!detail) continue;
    const auto* cluster = detail->if_contains("cluster");
    if (nodes_ == 1) return i;
    if (cluster == nullptr || !cluster->is_object()) continue;
    const auto* leader = cluster->as_object().if_contains("leader");
    if (leader != nullptr && leader->is_string() && leader->as_string() == "n" + std::to_string(i))
      return i;
  }
  return -1;
}

}  // namespace orderflow::test_support
