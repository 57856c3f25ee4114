// Request metrics in the Prometheus text format 0.0.4.
// Recording is a few relaxed atomic stores into fixed arrays: each I/O thread writes only its
// own shard, so the hot path takes no lock, allocates nothing and shares no cache line.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ports/order_store.hpp"

namespace orderflow::runtime {

// Appends one metric without labels: its HELP and TYPE lines and `name value`.
void append_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, std::string_view value);

class Metrics {
 public:
  // Upper bounds of the latency histogram buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

  // `routes`: the route labels (patterns and e.g. "unmatched"); record() takes an index into
  // them. `shards`: one per thread that records; shard i must only be used by one thread.
  Metrics(std::vector<std::string> routes, std::size_t shards);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void record(std::size_t shard, std::size_t route, std::string_view method, int status,
              std::chrono::nanoseconds duration) noexcept;

  // The exposition text: request counters and histograms, then the store's gauges (left out
  // when the store cannot answer).
  std::string render(ports::OrderStore& store) const;
  std::string render(const ports::StoreStats* stats) const;

 private:
  struct Shard;
  std::vector<std::string> routes_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace orderflow::runtime
