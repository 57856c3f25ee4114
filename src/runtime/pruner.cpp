#include "runtime/pruner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "ports/errors.hpp"

namespace orderflow::runtime {

std::chrono::seconds prune_interval(const RetentionOptions& options) {
  const auto shorter = std::min(options.idempotency_keys, options.records);
  return std::clamp<std::chrono::seconds>(shorter / 4, std::chrono::seconds(1),
                                          std::chrono::hours(1));
}

Pruner::Pruner(ports::DeliveryAdmin& store, const ports::Clock& clock, RetentionOptions options)
    : store_(store), clock_(clock), options_(options) {}

Pruner::~Pruner() { stop(); }

void Pruner::start() {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

void Pruner::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

ports::PruneCounts Pruner::prune_once() {
  const auto now = clock_.now();
  return store_.prune({now - options_.idempotency_keys, now - options_.records});
}

void Pruner::run(const std::stop_token& stop) {
  const auto interval = prune_interval(options_);
  bool failing = false;
  while (!stop.stop_requested()) {
    try {
      const auto n = prune_once();
      if (n.total() > 0)
        spdlog::info(
            "retention: pruned {} idempotency keys, {} deliveries, {} notices, {} outbox events",
            n.idempotency_keys, n.deliveries, n.notifications, n.outbox);
      if (failing) spdlog::info("retention: pruning works again");
      failing = false;
    } catch (const std::exception& e) {
      // Pruning is housekeeping: a failure delays it to the next pass, once logged per outage.
      if (!failing) spdlog::warn("retention: pruning failed, will retry: {}", e.what());
      failing = true;
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, interval, [] { return false; });
  }
}

}  // namespace orderflow::runtime
