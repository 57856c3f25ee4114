// The dispatcher: delivers every outbox event to every function subscribed to its type, at
// least once, off the HTTP threads.
//
//   outbox --fan_out--> deliveries (one per event x subscription) --lanes--> functions
//
// Each subscription has its own lane (thread), so a slow or failing subscriber never holds back
// another; a lane attempts the deliveries of a batch on its own pool of `concurrency` threads,
// made once with the dispatcher. A lane claims due deliveries under a lease in its owner's name,
// attempts them and marks them, so dispatchers in several processes over one database share the
// work. A failed attempt is retried with exponential backoff and jitter; after max_attempts the
// delivery is dead until an operator redrives it. A handler that throws functions::RetryLater
// leaves its delivery claimed: it is attempted again when the lease ends, and no failure is
// counted. All state lives in the DeliveryQueue, so a crash at any point re-delivers (once the
// lease has ended) and never drops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ports/clock.hpp"
#include "ports/delivery_admin.hpp"
#include "ports/delivery_queue.hpp"
#include "runtime/lane_pool.hpp"
#include "runtime/subscription_table.hpp"

namespace orderflow::runtime {

struct DispatcherCounters {
  std::atomic<std::int64_t> delivered{0};
  std::atomic<std::int64_t> retried{0};
  std::atomic<std::int64_t> dead{0};
};

struct DispatcherOptions {
  // Whose claims these are: unique to this process instance (see unique_owner_id()), so that
  // stop() releases this dispatcher's claims and nobody else's.
  std::string owner;
  // How long a claim holds. A delivery claimed by a dispatcher that died is attempted again
  // once its lease has ended; an attempt should take far less.
  std::chrono::milliseconds lease{30000};
  std::uint64_t jitter_seed = 0;
};

// "<hostname>:<pid>:<random hex>": an owner id that no other process, earlier or on another
// host, uses.
std::string unique_owner_id();

class Dispatcher {
 public:
  Dispatcher(ports::DeliveryQueue& queue, const ports::Clock& clock,
             std::vector<Subscription> subscriptions, DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // One synchronous pass, for tests and tools: fans out new events, then attempts every due
  // delivery of every subscription. Returns the number of attempts made.
  int run_once();

  // Background operation: a fan-out thread and one lane per subscription.
  void start();
  // Asks the threads to stop, without waiting: attempts in progress finish and are marked; the
  // rest of a claimed batch is left unattempted.
  void request_stop();
  // request_stop(), joins the threads, then releases the claims this owner still holds, so that
  // other dispatchers on the queue take them at once instead of after the lease. Idempotent.
  void stop();
  // Something was committed (new events, a redrive): look now rather than at the next tick.
  void wake();

  const DispatcherCounters& counters() const { return counters_; }
  const std::vector<Subscription>& subscriptions() const { return subscriptions_; }
  const std::string& owner() const { return options_.owner; }

  // The delay before attempt `attempts + 1`, given `attempts` failures so far: exponential
  // from backoff_initial, capped at backoff_max, with "equal jitter" (half fixed, half random).
  std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempts);

 private:
  int fan_out();
  int run_lane(std::size_t index);
  void fan_out_loop();
  void lane_loop(std::size_t index);

  ports::DeliveryQueue& queue_;
  const ports::Clock& clock_;
  std::vector<Subscription> subscriptions_;
  // One per subscription, in the same order: the threads that attempt a lane's batch.
  std::vector<std::unique_ptr<LanePool>> pools_;
  const DispatcherOptions options_;
  DispatcherCounters counters_;
  // Set once a claim returned something; cleared by the release in stop().
  std::atomic<bool> may_hold_claims_{false};

  // Whether a lane of any subscription has a delivery due now (a redrive, or deliveries another
  // process fanned out): the fan-out asks after a wake-up that fanned out nothing itself.
  bool any_due_now();
  void wake_lanes();

  std::mutex mu_;
  // A commit wakes the fan-out only; the fan-out wakes the lanes when they have something to
  // do. Waking every lane on every commit cost each lane a thread switch and two reads per
  // batch of creates, which have no deliveries.
  std::condition_variable fan_out_cv_;
  std::condition_variable lanes_cv_;
  std::uint64_t generation_ = 0;       // bumped by wake(); guarded by mu_
  std::uint64_t lane_generation_ = 0;  // bumped by wake_lanes(); guarded by mu_
  // Written under mu_ (the waits' predicates read it), read without it between attempts.
  std::atomic<bool> stopping_{false};
  std::mt19937_64 rng_;  // guarded by rng_mu_
  std::mutex rng_mu_;
  std::vector<std::thread> threads_;
};

// Prometheus text for the dispatcher: delivered/retried/dead counters, pending and dead gauges,
// and the lag (age of the oldest pending event). Gauges are left out when the store fails.
std::string render_delivery_metrics(const DispatcherCounters& counters,
                                    ports::DeliveryAdmin& deliveries, domain::Timestamp now);

}  // namespace orderflow::runtime
