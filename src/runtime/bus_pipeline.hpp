// Events over NATS JetStream (bus = nats://...): the counterpart of the Dispatcher when the
// event log is a replicated stream instead of the deliveries table.
//
//   outbox --relay--> stream ORDERFLOW_EVENTS --durable pull consumer per subscription--> functions
//
// - The relay runs in every process: whoever holds the store's relay cursor publishes the
//   outbox in seq order, each event with Nats-Msg-Id = its event id (the stream drops a repeat
//   within its duplicate window, which covers a crash between publish and cursor move), then
//   moves the cursor. While the bus is down writes still commit (to the outbox); the relay backs
//   off, logs once per outage, and drains the backlog when the bus is back.
// - Each row of the subscription table is one durable consumer, shared by the lanes of every
//   worker process: explicit ack after the function succeeded, nak with the retry policy's
//   backoff after a failure. A delivery that fails for the policy's last attempt becomes a dead
//   delivery in the store (DeliveryAdmin lists it); its redrive publishes the event again,
//   addressed to that one subscription.
// - Live views: a core subscription to the stream's subjects calls on_event for every event.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "adapters/nats/jetstream.hpp"
#include "ports/bus_store.hpp"
#include "ports/clock.hpp"
#include "ports/delivery_admin.hpp"
#include "ports/delivery_queue.hpp"
#include "runtime/config.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/subscription_table.hpp"

namespace orderflow::runtime {

struct BusOptions {
  std::string stream = "ORDERFLOW_EVENTS";
  std::string subject_prefix = "orderflow.events";  // an event of type T goes to <prefix>.<T>
  int replicas = 0;                                 // 0: min(3, servers in the cluster)
  std::chrono::milliseconds duplicate_window{std::chrono::minutes(2)};
  std::chrono::milliseconds max_age{0};       // 0: keep events for ever
  std::chrono::milliseconds ack_wait{30000};  // a lane that died: redelivered after this
  std::uint64_t jitter_seed = 0;
};

// Prometheus names of the bus's own figures (beside the delivered/retried/dead counters).
struct BusCounters {
  std::atomic<std::int64_t> published{0};
  std::atomic<std::int64_t> publish_errors{0};
};

// The options the configuration gives (stream settings, lease as ack wait).
BusOptions bus_options(const Config& config);

class BusPipeline {
 public:
  BusPipeline(adapters::nats::JetStream& bus, ports::BusStore& store, ports::DeliveryQueue& queue,
              ports::DeliveryAdmin& admin, const ports::Clock& clock,
              std::vector<Subscription> subscriptions, BusOptions options);
  ~BusPipeline();
  BusPipeline(const BusPipeline&) = delete;
  BusPipeline& operator=(const BusPipeline&) = delete;

  // Starts the relay and the live-view subscription, and with `consumers` the lanes of every
  // subscription. `on_event` runs on a bus thread for each event published by any process.
  void start(bool consumers, std::function<void()> on_event);
  // Stops every thread; a lane finishes the message in hand. Idempotent.
  void stop();
  // A commit appended events: the relay looks now instead of at its next tick.
  void wake();

  // Redrive of a dead delivery: publishes its event again for its subscription alone, then
  // marks it pending (done once that subscription handled it). False when it is not dead.
  // Throws InfraError(transient) when the bus is unreachable.
  bool redrive(std::int64_t id);
  std::int64_t redrive_all_dead();

  const DispatcherCounters& counters() const { return counters_; }
  // Prometheus text: relay backlog, published and publish errors, and per consumer its pending,
  // waiting-for-ack and redelivered messages (left out while the bus cannot be asked).
  std::string render_metrics();

 private:
  void relay_loop();
  void lane_loop(const Subscription& sub);
  void handle(const Subscription& sub, adapters::nats::Message& message);
  std::size_t publish(std::span<const ports::OutboxRecord> records);
  bool ensure_stream();
  bool wait_for(std::chrono::milliseconds timeout, std::optional<std::uint64_t> seen);
  std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempts);
  adapters::nats::ConsumerConfig consumer_config(const Subscription& sub) const;

  adapters::nats::JetStream& bus_;
  ports::BusStore& store_;
  ports::DeliveryQueue& queue_;
  ports::DeliveryAdmin& admin_;
  const ports::Clock& clock_;
  const std::vector<Subscription> subscriptions_;
  const BusOptions options_;
  DispatcherCounters counters_;
  BusCounters bus_counters_;
  std::atomic<bool> stream_ready_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;  // bumped by wake(); guarded by mu_
  bool stopping_ = false;         // guarded by mu_
  std::mutex rng_mu_;
  std::uint64_t rng_state_;  // guarded by rng_mu_
  std::unique_ptr<adapters::nats::CoreSubscription> live_;
  std::vector<std::thread> threads_;
};

// DeliveryAdmin for bus = nats: reads go to the store's admin port, redrives through the bus.
class BusDeliveryAdmin final : public ports::DeliveryAdmin {
 public:
  BusDeliveryAdmin(ports::DeliveryAdmin& store, BusPipeline& bus) : store_(store), bus_(bus) {}
  std::optional<ports::Delivery> get(std::int64_t id) override { return store_.get(id); }
  ports::DeliveryPage list(ports::DeliveryState state, std::int64_t after_id, int limit) override {
    return store_.list(state, after_id, limit);
  }
  bool redrive(std::int64_t id, domain::Timestamp) override { return bus_.redrive(id); }
  std::int64_t redrive_all_dead(domain::Timestamp) override { return bus_.redrive_all_dead(); }
  ports::DeliveryStats delivery_stats() override { return store_.delivery_stats(); }
  ports::PruneCounts prune(const ports::RetentionCutoffs& cutoffs) override {
    return store_.prune(cutoffs);
  }

 private:
  ports::DeliveryAdmin& store_;
  BusPipeline& bus_;
};

}  // namespace orderflow::runtime
