// paced: a fixed-rate HTTP load generator for the latency targets of the lean-and-fast issue
// ("at a fixed rate of half the saturation rate, p99 <= 2 ms"). wrk's p99 at saturation is
// distorted by its coordinated-omission correction, and wrk2 is not packaged for Debian, so
// this sends requests on a fixed schedule and measures each one from its due time, not from
// when it was sent: a request held up behind a slow one counts the wait (no coordinated
// omission).
//
//   paced --port P --target /orders/ID [--post BODY] --rate R --seconds S --connections C
//
// Request i is due at t0 + i/R. One thread runs every connection (Asio, non-blocking), so the
// generator takes as little of a small machine's CPU as it can: on a 2-core machine it shares
// the cores with the server it measures. A due request goes out on an idle connection, or
// waits (its latency growing) until one is free. Prints "key value" lines: requests, achieved
// rate, non-2xx answers, and latency p50/p90/p99/max in milliseconds from the due time.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/http_bench.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using bench::Clock;

struct Options {
  std::uint16_t port = 0;
  std::string target;
  std::string post_body;
  bool post = false;
  double rate = 1000;
  double seconds = 10;
  int connections = 32;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--port") o.port = static_cast<std::uint16_t>(std::stoi(v));
    else if (k == "--target") o.target = v;
    else if (k == "--post") o.post = true, o.post_body = v;
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--connections") o.connections = std::stoi(v);
    else throw std::invalid_argument("unknown option " + k);
  }
  if (o.port == 0 || o.target.empty() || o.rate <= 0 || o.seconds <= 0 || o.connections <= 0)
    throw std::invalid_argument(
        "usage: paced --port P --target PATH [--post BODY] --rate R --seconds S --connections C");
  return o;
}

class Run {
 public:
  explicit Run(const Options& o)
      : o_(o),
        n_(static_cast<std::size_t>(o.rate * o.seconds)),
        interval_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(1.0 / o.rate))),
        timer_(ioc_),
        latency_ms_(n_),
        status_(n_) {
    request_ = {o.post ? http::verb::post : http::verb::get, o.target, 11};
    request_.set(http::field::host, "127.0.0.1");
    if (o.post) request_.set(http::field::content_type, "application/json");
    request_.body() = o.post_body;
    request_.prepare_payload();
    const asio::ip::tcp::endpoint server(asio::ip::address_v4::loopback(), o.port);
    for (int i = 0; i < o.connections; ++i) {
      auto c = std::make_unique<Link>(ioc_);
      c->stream.connect(server);
      c->stream.socket().set_option(asio::ip::tcp::no_delay(true));
      idle_.push_back(c.get());
      links_.push_back(std::move(c));
    }
  }

  int operator()() {
    t0_ = Clock::now() + std::chrono::milliseconds(100);
    schedule();
    ioc_.run();
    if (failure_) std::rethrow_exception(failure_);
    const double elapsed = bench::seconds(last_done_ - t0_);
    long bad = 0;
    for (const int s : status_) bad += (s < 200 || s > 299) ? 1 : 0;
    std::printf("requests %zu\n", n_);
    std::printf("achieved_rate_per_s %.0f\n", static_cast<double>(n_) / elapsed);
    std::printf("non_2xx %ld\n", bad);
    std::printf("p50_ms %.3f\n", bench::percentile(latency_ms_, 0.50));
    std::printf("p90_ms %.3f\n", bench::percentile(latency_ms_, 0.90));
    std::printf("p99_ms %.3f\n", bench::percentile(latency_ms_, 0.99));
    std::printf("max_ms %.3f\n", bench::percentile(latency_ms_, 1.0));
    return 0;
  }

 private:
  struct Link {
    explicit Link(asio::io_context& ioc) : stream(ioc) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    std::size_t index = 0;
  };

  Clock::time_point due(std::size_t i) const { return t0_ + interval_ * static_cast<long>(i); }

  // Releases every request that is due by now onto idle connections, then sleeps until the next.
  void schedule() {
    const auto now = Clock::now();
    while (next_ < n_ && due(next_) <= now) waiting_.push_back(next_++);
    dispatch();
    if (next_ >= n_) return;
    timer_.expires_at(due(next_));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) schedule();
    });
  }

  void dispatch() {
    while (!waiting_.empty() && !idle_.empty()) {
      Link* c = idle_.back();
      idle_.pop_back();
      c->index = waiting_.front();
      waiting_.pop_front();
      send(c);
    }
  }

  void send(Link* c) {
    http::async_write(c->stream, request_, [this, c](boost::system::error_code ec, std::size_t) {
      if (ec) return fail(ec);
      c->response = {};
      http::async_read(c->stream, c->buffer, c->response,
                       [this, c](boost::system::error_code read_ec, std::size_t) {
                         if (read_ec) return fail(read_ec);
                         done(c);
                       });
    });
  }

  void done(Link* c) {
    last_done_ = Clock::now();
    latency_ms_[c->index] = 1000 * bench::seconds(last_done_ - due(c->index));
    status_[c->index] = c->response.result_int();
    if (++finished_ == n_) {
      for (auto& l : links_) l->stream.close();
      return;
    }
    if (!c->response.keep_alive()) return fail(asio::error::connection_reset);
    idle_.push_back(c);
    dispatch();
  }

  void fail(boost::system::error_code ec) {
    if (!failure_) failure_ = std::make_exception_ptr(boost::system::system_error(ec));
    timer_.cancel();
    for (auto& l : links_) l->stream.close();
  }

  const Options& o_;
  std::size_t n_;
  Clock::duration interval_;
  asio::io_context ioc_;
  asio::steady_timer timer_;
  http::request<http::string_body> request_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<Link*> idle_;
  std::deque<std::size_t> waiting_;
  std::vector<double> latency_ms_;
  std::vector<int> status_;
  Clock::time_point t0_;
  Clock::time_point last_done_;
  std::size_t next_ = 0;
  std::size_t finished_ = 0;
  std::exception_ptr failure_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    return Run(options)();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "paced: %s\n", e.what());
    return 2;
  }
}
