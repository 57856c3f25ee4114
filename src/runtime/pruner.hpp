// Retention: every process that runs the event workers prunes, now and then, the records whose
// work is finished and whose retention has passed (idempotency keys, done deliveries, sent
// notices, outbox rows every lane is past). Several processes may prune the same database at
// once: each batch is one transaction, and a row deleted twice is simply not there the second
// time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "ports/clock.hpp"
#include "ports/delivery_admin.hpp"

namespace orderflow::runtime {

struct RetentionOptions {
  std::chrono::seconds idempotency_keys{24 * 3600};
  std::chrono::seconds records{7 * 24 * 3600};
};

// How often a pruner runs: a quarter of the shorter retention, between 1 s and 1 h, so that a
// record outlives its retention by at most a quarter of it (and never by more than an hour).
std::chrono::seconds prune_interval(const RetentionOptions& options);

class Pruner {
 public:
  Pruner(ports::DeliveryAdmin& store, const ports::Clock& clock, RetentionOptions options);
  ~Pruner();
  Pruner(const Pruner&) = delete;
  Pruner& operator=(const Pruner&) = delete;

  void start();  // the first pass runs at once, then one every prune_interval()
  void stop();   // waits for a pass in progress to finish its current batch

  // One pass, on the calling thread. Throws ports::InfraError as the store does.
  ports::PruneCounts prune_once();

 private:
  void run(const std::stop_token& stop);

  ports::DeliveryAdmin& store_;
  const ports::Clock& clock_;
  RetentionOptions options_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace orderflow::runtime
