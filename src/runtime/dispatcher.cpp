#include "runtime/dispatcher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>

#include "functions/event_functions.hpp"
#include "runtime/metrics.hpp"

namespace orderflow::runtime {
namespace {

constexpr int kFanOutBatch = 256;
constexpr int kLaneBatch = 64;
// Without a wake-up (e.g. a redrive from another process), look again this often.
constexpr auto kIdleTick = std::chrono::milliseconds(1000);

}  // namespace

std::string unique_owner_id() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host = {'?'};
  std::random_device random;
  const std::uint64_t nonce = (std::uint64_t{random()} << 32) ^ random();
  return fmt::format("{}:{}:{:016x}", host.data(), getpid(), nonce);
}

Dispatcher::Dispatcher(ports::DeliveryQueue& queue, const ports::Clock& clock,
                       std::vector<Subscription> subscriptions, DispatcherOptions options)
    : queue_(queue),
      clock_(clock),
      subscriptions_(std::move(subscriptions)),
      options_(std::move(options)),
      rng_(options_.jitter_seed) {
  for (const auto& sub : subscriptions_)
    pools_.push_back(std::make_unique<LanePool>(sub.concurrency));
}

Dispatcher::~Dispatcher() { stop(); }

std::chrono::milliseconds Dispatcher::backoff(const RetryPolicy& policy, int attempts) {
  std::lock_guard lock(rng_mu_);
  return retry_delay(policy, attempts, rng_());
}

int Dispatcher::fan_out() {
  const auto subscribers = [this](std::string_view type) {
    std::vector<std::string> names;
    for (const auto& s : subscriptions_)
      if (s.event_type == type) names.push_back(s.name);
    return names;
  };
  int total = 0;
  while (true) {
    const int n = queue_.fan_out(subscribers, clock_.now(), kFanOutBatch);
    total += n;
    if (n < kFanOutBatch) return total;
  }
}

int Dispatcher::run_lane(std::size_t index) {
  const Subscription& sub = subscriptions_[index];
  int attempts = 0;
  while (!stopping_) {
    const auto claimed_at = clock_.now();
    const auto due =
        queue_.claim(sub.name, options_.owner, claimed_at, claimed_at + options_.lease, kLaneBatch);
    if (!due.empty()) may_hold_claims_ = true;
    // One outcome per claimed delivery. Attempts of one batch may run on up to
    // `sub.concurrency` threads (the caller and the lane's pool): handlers are idempotent and
    // independent per event, and concurrent fsyncs share the disk's journal commits.
    struct Outcome {
      bool attempted = false;
      bool done = false;
      bool permanent = false;
      bool later = false;  // RetryLater: left claimed, so it comes back when the lease ends
      bool needs_operator = false;
      std::string error;
    };
    std::vector<Outcome> outcomes(due.size());
    const auto attempt = [&](std::size_t i) {
      // Left alone, still claimed: when stopping, stop() releases it; once its lease has ended
      // (a slow batch), another dispatcher may hold it already.
      if (stopping_ || clock_.now() >= due[i].next_attempt) return;
      Outcome& o = outcomes[i];
      o.attempted = true;
      try {
        sub.handler(due[i].event);
        o.done = true;
      } catch (...) {
        const auto failed = functions::classify_failure(std::current_exception());
        o.error = failed.error;
        o.permanent = failed.kind == functions::FailedAttempt::Kind::dead_now;
        o.later = failed.kind == functions::FailedAttempt::Kind::later;
        o.needs_operator = failed.needs_operator;
      }
    };
    pools_[index]->run(due.size(), attempt);

    std::vector<std::int64_t> done;
    for (std::size_t i = 0; i < due.size(); ++i) {
      const auto& d = due[i];
      const Outcome& o = outcomes[i];
      if (!o.attempted) continue;
      ++attempts;
      if (o.done) {
        done.push_back(d.id);
        continue;
      }
      if (o.later) {
        spdlog::info("delivery {} of event {} to {} waits for its lease to end: {}", d.id,
                     d.event.id, sub.name, o.error);
        continue;
      }
      const int failures = d.attempts + 1;
      const auto now = clock_.now();
      if (o.permanent || failures >= sub.retry.max_attempts) {
        queue_.mark_failed(d.id, o.error, std::nullopt, now);
        counters_.dead.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("delivery {} of event {} to {} is dead after {} attempts: {}", d.id,
                     d.event.id, sub.name, failures, o.error);
      } else {
        queue_.mark_failed(d.id, o.error, now + backoff(sub.retry, failures), now);
        counters_.retried.fetch_add(1, std::memory_order_relaxed);
        spdlog::log(o.needs_operator ? spdlog::level::err : spdlog::level::info,
                    "delivery {} of event {} to {} failed (attempt {}), will retry{}: {}", d.id,
                    d.event.id, sub.name, failures,
                    o.needs_operator ? " once the configuration is fixed" : "", o.error);
      }
    }
    if (!done.empty()) {
      queue_.mark_done(done, clock_.now());
      counters_.delivered.fetch_add(static_cast<std::int64_t>(done.size()),
                                    std::memory_order_relaxed);
    }
    if (static_cast<int>(due.size()) < kLaneBatch) return attempts;
  }
  return attempts;
}

int Dispatcher::run_once() {
  fan_out();
  int attempts = 0;
  for (std::size_t i = 0; i < subscriptions_.size(); ++i) attempts += run_lane(i);
  return attempts;
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  fan_out_cv_.notify_all();
}

void Dispatcher::wake_lanes() {
  {
    std::lock_guard lock(mu_);
    ++lane_generation_;
  }
  lanes_cv_.notify_all();
}

bool Dispatcher::any_due_now() {
  const auto now = clock_.now();
  for (const Subscription& sub : subscriptions_)
    if (const auto next = queue_.next_due(sub.name); next && *next <= now) return true;
  return false;
}

void Dispatcher::start() {
  std::lock_guard lock(mu_);
  if (!threads_.empty()) return;
  stopping_ = false;
  threads_.emplace_back([this] { fan_out_loop(); });
  for (std::size_t i = 0; i < subscriptions_.size(); ++i)
    threads_.emplace_back([this, i] { lane_loop(i); });
}

void Dispatcher::request_stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  fan_out_cv_.notify_all();
  lanes_cv_.notify_all();
}

void Dispatcher::stop() {
  request_stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  if (may_hold_claims_.exchange(false)) {
    try {
      if (const auto n = queue_.release(options_.owner, clock_.now()); n > 0)
        spdlog::info("dispatcher: handed on {} claimed deliveries that were not attempted", n);
    } catch (const std::exception& e) {
      spdlog::warn("dispatcher: could not release claims, they pass on when their lease ends: {}",
                   e.what());
    }
  }
  // run_once() works again after a stop.
  std::lock_guard lock(mu_);
  stopping_ = false;
}

void Dispatcher::fan_out_loop() {
  std::uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
      seen = generation_;
    }
    int n = 0;
    bool lanes_have_work = false;
    try {
      n = fan_out();
      // Nothing fanned out here, yet the commit may have made deliveries due: a redrive, or
      // another process's fan-out. One look per subscription instead of waking every lane.
      lanes_have_work = n > 0 || any_due_now();
    } catch (const std::exception& e) {
      spdlog::error("dispatcher: fan-out failed, will retry: {}", e.what());
      lanes_have_work = true;  // let the lanes look for themselves
    }
    if (lanes_have_work) wake_lanes();
    if (n > 0) continue;  // a full batch may have left more to fan out
    std::unique_lock lock(mu_);
    fan_out_cv_.wait_for(lock, kIdleTick, [&] { return stopping_ || generation_ != seen; });
  }
}

void Dispatcher::lane_loop(std::size_t index) {
  const Subscription& sub = subscriptions_[index];
  std::uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
      seen = lane_generation_;
    }
    std::chrono::milliseconds wait = kIdleTick;
    try {
      run_lane(index);
      if (const auto next = queue_.next_due(sub.name)) {
        // Rounded up: rounding down would wake just before the delivery is due and spin.
        const auto until = std::chrono::ceil<std::chrono::milliseconds>(*next - clock_.now());
        wait = std::clamp(until, std::chrono::milliseconds(0), kIdleTick);
      }
    } catch (const std::exception& e) {
      spdlog::error("dispatcher: lane {} failed, will retry: {}", sub.name, e.what());
    }
    std::unique_lock lock(mu_);
    lanes_cv_.wait_for(lock, wait, [&] { return stopping_ || lane_generation_ != seen; });
  }
}

std::string render_delivery_metrics(const DispatcherCounters& counters,
                                    ports::DeliveryAdmin& deliveries, domain::Timestamp now) {
  std::string out;
  const auto metric = [&](std::string_view name, std::string_view type, std::string_view help,
                          const std::string& value) {
    append_metric(out, name, type, help, value);
  };
  metric("orderflow_deliveries_delivered_total", "counter",
         "Deliveries completed by a subscribed function.",
         std::to_string(counters.delivered.load(std::memory_order_relaxed)));
  metric("orderflow_deliveries_retried_total", "counter", "Failed attempts that will be retried.",
         std::to_string(counters.retried.load(std::memory_order_relaxed)));
  metric("orderflow_deliveries_dead_total", "counter", "Deliveries that became dead letters.",
         std::to_string(counters.dead.load(std::memory_order_relaxed)));
  try {
    const auto stats = deliveries.delivery_stats();
    metric("orderflow_deliveries_pending", "gauge", "Deliveries waiting for an attempt.",
           std::to_string(stats.pending));
    metric("orderflow_deliveries_dead", "gauge", "Dead deliveries waiting for a redrive.",
           std::to_string(stats.dead));
    double lag = 0;
    if (stats.oldest_pending_event)
      lag = std::max(0.0, std::chrono::duration<double>(now - *stats.oldest_pending_event).count());
    metric("orderflow_delivery_lag_seconds", "gauge", "Age of the oldest undelivered event.",
           fmt::format("{:.6f}", lag));
  } catch (const std::exception&) {
    // The request counters above still help; the gauges simply go missing for this scrape.
  }
  return out;
}

}  // namespace orderflow::runtime
