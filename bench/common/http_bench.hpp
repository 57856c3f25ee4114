// Shared by the bench programs that drive a running orderflow over HTTP: one blocking
// keep-alive connection, running work on N threads, and percentiles. Header-only; bench code,
// not part of the server.
#pragma once

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port.
class Connection {
 public:
  explicit Connection(std::uint16_t port) : port_(port), stream_(ioc_) { connect(); }

  http::response<http::string_body> send(http::verb verb, const std::string& target,
                                         const std::string& body = {}) {
    for (int attempt = 0;; ++attempt) {
      try {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
        http::write(stream_, req);
        http::response<http::string_body> res;
        http::read(stream_, buffer_, res);
        if (!res.keep_alive()) reconnect();
        return res;
      } catch (const boost::system::system_error&) {
        if (attempt > 0) throw;
        reconnect();  // the server closed an idle connection; once is normal
      }
    }
  }

 private:
  void connect() {
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port_));
    stream_.socket().set_option(asio::ip::tcp::no_delay(true));
  }
  void reconnect() {
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    connect();
  }

  std::uint16_t port_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

inline double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Runs fn(thread_index) on `n` threads and joins them; rethrows the first failure.
template <class Fn>
void on_threads(int n, Fn fn) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::exception_ptr failure;
  for (int t = 0; t < n; ++t)
    threads.emplace_back([&, t] {
      try {
        fn(t);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!failure) failure = std::current_exception();
      }
    });
  for (auto& th : threads) th.join();
  if (failure) std::rethrow_exception(failure);
}

// The p-quantile (0..1) of v, nearest rank; 0 for an empty v.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = std::min(v.size() - 1,
                          static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace bench
