// paced: a fixed-rate HTTP load generator for the latency targets of the lean-and-fast issue
// ("at a fixed rate of half the saturation rate, p99 <= 2 ms"). wrk's p99 at saturation is
// distorted by its coordinated-omission correction, and wrk2 is not packaged for Debian, so
// this sends requests on a fixed schedule and measures each one from its due time, not from
// when it was sent: a request held up behind a slow one counts the wait (no coordinated
// omission).
//
//   paced --port P --target /orders/ID [--post BODY] --rate R --seconds S --connections C
//
// Request i is due at t0 + i/R and goes out on connection i mod C; each connection is one
// thread with a blocking keep-alive socket. Prints "key value" lines: requests, achieved rate,
// non-2xx answers, and latency p50/p90/p99/max in milliseconds from the due time.
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/http_bench.hpp"

namespace {

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

int run(const Options& o) {
  const auto n = static_cast<std::size_t>(o.rate * o.seconds);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / o.rate));
  const auto verb = o.post ? bench::http::verb::post : bench::http::verb::get;
  std::vector<double> latency_ms(n);
  std::vector<int> status(n);
  // Connect every connection before the clock starts.
  const auto t0 = Clock::now() + std::chrono::milliseconds(200);
  bench::on_threads(o.connections, [&](int t) {
    bench::Connection c(o.port);
    for (auto i = static_cast<std::size_t>(t); i < n; i += static_cast<std::size_t>(o.connections)) {
      const auto due = t0 + interval * static_cast<long>(i);
      std::this_thread::sleep_until(due);
      const auto res = c.send(verb, o.target, o.post_body);
      latency_ms[i] = 1000 * bench::seconds(Clock::now() - due);
      status[i] = res.result_int();
    }
  });
  const auto elapsed = bench::seconds(Clock::now() - t0);
  long bad = 0;
  for (const int s : status) bad += (s < 200 || s > 299) ? 1 : 0;
  std::printf("requests %zu\n", n);
  std::printf("achieved_rate_per_s %.0f\n", static_cast<double>(n) / elapsed);
  std::printf("non_2xx %ld\n", bad);
  std::printf("p50_ms %.3f\n", bench::percentile(latency_ms, 0.50));
  std::printf("p90_ms %.3f\n", bench::percentile(latency_ms, 0.90));
  std::printf("p99_ms %.3f\n", bench::percentile(latency_ms, 0.99));
  std::printf("max_ms %.3f\n", bench::percentile(latency_ms, 1.0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "paced: %s\n", e.what());
    return 2;
  }
}
