// The dispatcher: delivers every outbox event to every function subscribed to its type, at
// least once, off the HTTP threads.
//
//   outbox --fan_out--> deliveries (one per event x subscription) --lanes--> functions
//
// Each subscription has its own lane (thread), so a slow or failing subscriber never holds back
// another. A failed attempt is retried with exponential backoff and jitter; after
// max_attempts the delivery is dead until an operator redrives it. All state lives in the
// DeliveryStore, so a crash at any point re-delivers and never drops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "domain/event.hpp"
#include "ports/clock.hpp"
#include "ports/delivery_store.hpp"

namespace orderflow::runtime {

struct RetryPolicy {
  int max_attempts = 8;
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{60000};
};

struct Subscription {
  std::string name;        // the function's name, e.g. "archive_deleted_order"
  std::string event_type;  // e.g. "orderflow.order.deleted"
  RetryPolicy retry;
  std::function<void(const domain::Event&)> handler;  // throws when it could not finish
  // How many deliveries of one batch may be attempted at once (the handler must then be
  // thread-safe). 1 keeps attempts in event order.
  int concurrency = 1;
};

struct DispatcherCounters {
  std::atomic<std::int64_t> delivered{0};
  std::atomic<std::int64_t> retried{0};
  std::atomic<std::int64_t> dead{0};
};

class Dispatcher {
 public:
  Dispatcher(ports::DeliveryStore& store, const ports::Clock& clock,
             std::vector<Subscription> subscriptions, std::uint64_t jitter_seed);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // One synchronous pass, for tests and tools: fans out new events, then attempts every due
  // delivery of every subscription. Returns the number of attempts made.
  int run_once();

  // Background operation: a fan-out thread and one lane per subscription.
  void start();
  void stop();  // finishes the attempts in progress, then joins; idempotent
  // Something was committed (new events, a redrive): look now rather than at the next tick.
  void wake();

  const DispatcherCounters& counters() const { return counters_; }
  const std::vector<Subscription>& subscriptions() const { return subscriptions_; }

  // The delay before attempt `attempts + 1`, given `attempts` failures so far: exponential
  // from backoff_initial, capped at backoff_max, with "equal jitter" (half fixed, half random).
  std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempts);

 private:
  int fan_out();
  int run_lane(const Subscription& sub);
  void fan_out_loop();
  void lane_loop(std::size_t index);

  ports::DeliveryStore& store_;
  const ports::Clock& clock_;
  std::vector<Subscription> subscriptions_;
  DispatcherCounters counters_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;  // bumped by wake(); guarded by mu_
  bool stopping_ = false;         // guarded by mu_
  std::mt19937_64 rng_;           // guarded by rng_mu_
  std::mutex rng_mu_;
  std::vector<std::thread> threads_;
};

// Prometheus text for the dispatcher: delivered/retried/dead counters, pending and dead gauges,
// and the lag (age of the oldest pending event). Gauges are left out when the store fails.
std::string render_delivery_metrics(const DispatcherCounters& counters, ports::DeliveryStore& store,
                                    domain::Timestamp now);

}  // namespace orderflow::runtime
