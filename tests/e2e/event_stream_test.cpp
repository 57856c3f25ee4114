// GET /events under many listeners (issue 12 item 8): a waiting listener holds no thread, so a
// thousand of them wait at once while the API keeps answering; past sse_max_listeners a new
// one is a 503 with Retry-After; every waiting listener gets the next event.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "e2e/events_support.hpp"
#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

// One raw connection that sends a request and later reads its whole answer (the server
// closes nothing, so the answer is read up to the end of its Content-Length body).
class RawRequest {
 public:
  RawRequest(std::uint16_t port, const std::string& target) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval timeout{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return;
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    sent_ = ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  }
  ~RawRequest() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawRequest(const RawRequest&) = delete;
  RawRequest& operator=(const RawRequest&) = delete;

  bool sent() const { return sent_; }

  // The answer: head and body, read until the body's Content-Length is in ("" on a failure).
  std::string answer() {
    std::string in;
    char buf[4096];
    while (true) {
      const auto head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) {
          const auto length = std::stoul(in.substr(cl + 16));
          if (in.size() >= head_end + 4 + length) return in;
        }
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return in;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool sent_ = false;
};

// The position at the end of the outbox, from the immediate `event: ready` answer.
std::string end_of_outbox(HttpClient& c) {
  const Response r = c.get("/events");
  EXPECT_EQ(r.status, 200);
  const auto id = r.body.find("id: ");
  if (id == std::string::npos) return "0";
  return r.body.substr(id + 4, r.body.find('\n', id) - id - 4);
}

void raise_open_file_limit(rlim_t wanted) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur >= wanted) return;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted)
    GTEST_SKIP() << "the open-file limit (" << limit.rlim_max << ") is below " << wanted;
  limit.rlim_cur = wanted;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
}

TEST(EventStream, AThousandListenersWaitWhileTwoWorkersServeTheApi) {
  constexpr int kListeners = 1000;
  raise_open_file_limit(4 * kListeners);  // the server inherits it too
  TempDir dir;
  ServerOptions options;
  options.env = {{"ORDERFLOW_MAX_CONNECTIONS_PER_CLIENT", "0"}, {"ORDERFLOW_WORKER_THREADS", "2"}};
  ServerProcess server(dir.path(), options);
  HttpClient c(server.port());
  const std::string target = "/events?after=" + end_of_outbox(c);

  std::vector<std::unique_ptr<RawRequest>> listeners;
  for (int i = 0; i < kListeners; ++i) {
    listeners.push_back(std::make_unique<RawRequest>(server.port(), target));
    ASSERT_TRUE(listeners.back()->sent()) << "listener " << i;
  }
  // With two workers, a POST is answered only if no listener holds one.
  const std::string id = create_order(c, "seen by a thousand listeners", "4.20");
  ASSERT_FALSE(id.empty());

  int with_event = 0;
  for (auto& l : listeners) {
    const std::string a = l->answer();
    if (a.starts_with("HTTP/1.1 200") && a.find("event: orderflow.order.created") != std::string::npos &&
        a.find(id) != std::string::npos)
      ++with_event;
  }
  EXPECT_EQ(with_event, kListeners) << last_chars(server.log(), 2000);
}

TEST(EventStream, PastTheListenerLimitANewListenerIs503AndTheOthersStillGetTheEvent) {
  TempDir dir;
  ServerOptions options;
  options.env = {{"ORDERFLOW_SSE_MAX_LISTENERS", "3"}};
  ServerProcess server(dir.path(), options);
  HttpClient c(server.port());
  const std::string target = "/events?after=" + end_of_outbox(c);

  std::vector<std::unique_ptr<RawRequest>> listeners;
  for (int i = 0; i < 3; ++i) listeners.push_back(std::make_unique<RawRequest>(server.port(), target));
  ASSERT_TRUE(eventually([&] { return read_metric(c, "orderflow_sse_listeners") == 3.0; }))
      << read_metric(c, "orderflow_sse_listeners").value_or(-1);
  const Response refused = c.get(target);
  ASSERT_TRUE(IsErrorCode(refused, 503, "unavailable")) << refused.body;
  EXPECT_TRUE(refused.header("Retry-After").has_value());
  EXPECT_NE(refused.body.find("Too many live listeners"), std::string::npos) << refused.body;

  const std::string id = create_order(c, "three listeners", "1.00");
  for (auto& l : listeners) EXPECT_NE(l->answer().find(id), std::string::npos);
}

TEST(EventStream, AMalformedPositionIs400) {
  TempDir dir;
  ServerProcess server(dir.path());
  HttpClient c(server.port());
  for (const char* position : {"-1", "abc", "1e3", "99999999999999999999999"}) {
    const Response r = c.get("/events", {{"Last-Event-ID", position}});
    EXPECT_TRUE(IsErrorCode(r, 400, "validation")) << position;
  }
}

}  // namespace
}  // namespace orderflow::e2e
