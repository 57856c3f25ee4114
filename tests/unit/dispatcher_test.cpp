// The dispatcher over a real SQLite store in a temp dir, driven by run_once() and a manual clock:
// no threads and no sleeps, except in the tests of start()/stop(), which wait on a condition
// variable for the handlers' calls.
#include "runtime/dispatcher.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>

#include "adapters/sqlite/sqlite_stores.hpp"
#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"
#include "domain/event.hpp"
#include "domain/order.hpp"
#include "functions/event_functions.hpp"
#include "ports/errors.hpp"

namespace orderflow::runtime {
namespace {

using namespace std::chrono_literals;
using domain::Timestamp;
using ports::DeliveryState;

const Timestamp kStart{std::chrono::microseconds{1'795'606'034'000'000}};  // 2026-11-25T11:47:14Z

using test_support::ManualClock;
using TempDir = test_support::TempDir;

// A subscribed function's stand-in: records every event it is given, then fails (or blocks)
// while told to.
class Recorder {
 public:
  enum class Mode {
    succeed,
    fail,
    fail_permanently,
    misconfigured,
    retry_later,
    throw_non_standard,
    block
  };

  void handle(const domain::Event& e) {
    Mode mode;
    {
      std::unique_lock lock(mu_);
      calls_.push_back(e.id);
      changed_.notify_all();
      changed_.wait(lock, [&] { return mode_ != Mode::block; });  // a stuck call, until set()
      mode = mode_;
    }
    switch (mode) {
      case Mode::succeed:
      case Mode::block:
        return;
      case Mode::fail:
        throw std::runtime_error("disk full");
      case Mode::fail_permanently:
        throw functions::PermanentFailure("malformed event");
      case Mode::misconfigured:
        throw ports::InfraError(ports::InfraError::Kind::permanent, "access denied to the bucket");
      case Mode::retry_later:
        throw functions::RetryLater("another worker holds a part of it");
      case Mode::throw_non_standard:
        throw 42;
    }
  }

  void set(Mode mode) {
    {
      std::lock_guard lock(mu_);
      mode_ = mode;
    }
    changed_.notify_all();
  }

  std::vector<std::string> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

  // True once the handler has been called `n` times; false after `timeout` without that.
  bool wait_for_calls(std::size_t n, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;  // a call was recorded, or the mode changed
  std::vector<std::string> calls_;   // guarded by mu_
  Mode mode_ = Mode::succeed;        // guarded by mu_
};

// mark_done, mark_failed and release "crash": they throw before reaching the queue, as if the
// process had died between running a handler and recording the outcome.
class CrashBeforeMarking final : public ports::DeliveryQueue {
 public:
  struct Crash : std::runtime_error {
    Crash() : std::runtime_error("simulated crash") {}
  };

  explicit CrashBeforeMarking(ports::DeliveryQueue& real) : real_(real) {}

  int fan_out(const std::function<std::vector<std::string>(std::string_view)>& subscribers,
              Timestamp now, int limit) override {
    return real_.fan_out(subscribers, now, limit);
  }
  std::vector<ports::Delivery> claim(std::string_view subscription, std::string_view owner,
                                     Timestamp now, Timestamp lease_until, int limit) override {
    return real_.claim(subscription, owner, now, lease_until, limit);
  }
  std::optional<Timestamp> next_due(std::string_view subscription) override {
    return real_.next_due(subscription);
  }
  void mark_done(const std::vector<std::int64_t>&, Timestamp) override { throw Crash(); }
  void mark_failed(std::int64_t, std::string_view, std::optional<Timestamp>, Timestamp) override {
    throw Crash();
  }
  std::int64_t release(std::string_view, Timestamp) override { throw Crash(); }

 private:
  ports::DeliveryQueue& real_;
};

constexpr const char* kArchive = "archive_deleted_order";
constexpr const char* kNotify = "notify_subscribers";

class DispatcherTest : public ::testing::Test {
 protected:
  // archive: 4 attempts, 200 ms doubling up to 500 ms; notify: the defaults.
  static constexpr RetryPolicy kArchivePolicy{4, 200ms, 500ms};
  static constexpr std::chrono::milliseconds kLease = 30s;

  DispatcherTest() { open_stores(); }

  void open_stores() {
    auto stores = adapters::open_sqlite_stores({(dir_.path() / "orderflow.db").string()});
    orders_ = std::move(stores.orders);
    queue_ = std::move(stores.queue);
    deliveries_ = std::move(stores.deliveries);
  }

  void close_stores() {
    orders_.reset();
    queue_.reset();
    deliveries_.reset();
  }

  Subscription archive_subscription() {
    return {kArchive, std::string(domain::kOrderDeleted), kArchivePolicy,
            [this](const domain::Event& e) { archive_.handle(e); }};
  }
  std::vector<Subscription> subscriptions() {
    return {
        archive_subscription(),
        {kNotify, std::string(domain::kOrderDeleted), RetryPolicy{},
         [this](const domain::Event& e) { notify_.handle(e); }},
    };
  }

  // A dispatcher of its own process: `owner` stands for its owner id.
  std::unique_ptr<Dispatcher> make_dispatcher(ports::DeliveryQueue& queue,
                                              std::string owner = "dispatcher-1",
                                              std::vector<Subscription> subs = {}) {
    if (subs.empty()) subs = subscriptions();
    return std::make_unique<Dispatcher>(queue, clock_, std::move(subs),
                                        DispatcherOptions{std::move(owner), kLease, 42});
  }
  std::unique_ptr<Dispatcher> make_dispatcher() { return make_dispatcher(*queue_); }

  // Creates an order (an order.created event) and returns its id.
  std::string create_order() {
    domain::Order o;
    o.id = "order-" + std::to_string(++orders_made_);
    o.description = "a widget";
    o.price = domain::Money::from_cents(1250);
    o.created = o.last_modified = clock_.now();
    o.version = 1;
    const domain::Event created =
        domain::order_created_event(o, "created-" + std::to_string(orders_made_), o.created);
    EXPECT_EQ(orders_->create(o, created, std::nullopt).kind, ports::CreateResult::Kind::created);
    return o.id;
  }

  // Creates and deletes an order; returns the id of its order.deleted event.
  std::string delete_order() {
    const std::string order_id = create_order();
    const std::string event_id = "deleted-" + std::to_string(orders_made_);
    EXPECT_EQ(orders_->remove(order_id, std::nullopt, clock_.now(), event_id).kind,
              ports::ChangeResult::Kind::done);
    return event_id;
  }

  // The one delivery of `subscription` (whatever its state).
  ports::Delivery only_delivery(std::string_view subscription) {
    std::vector<ports::Delivery> found;
    for (const auto state : {DeliveryState::pending, DeliveryState::done, DeliveryState::dead})
      for (auto& d : deliveries_->list(state, 0, 1000).deliveries)
        if (d.subscription == subscription) found.push_back(std::move(d));
    EXPECT_EQ(found.size(), 1u) << subscription;
    return found.empty() ? ports::Delivery{} : found.front();
  }

  TempDir dir_;
  ManualClock clock_{kStart};
  Recorder archive_;
  Recorder notify_;
  std::unique_ptr<ports::OrderStore> orders_;
  std::unique_ptr<ports::DeliveryQueue> queue_;
  std::unique_ptr<ports::DeliveryAdmin> deliveries_;
  int orders_made_ = 0;
};

using Strings = std::vector<std::string>;

TEST_F(DispatcherTest, DeletedOrderReachesBothSubscribersOnce) {
  auto dispatcher = make_dispatcher();
  const std::string event_id = delete_order();

  EXPECT_EQ(dispatcher->run_once(), 2);
  EXPECT_EQ(archive_.calls(), Strings{event_id});
  EXPECT_EQ(notify_.calls(), Strings{event_id});

  EXPECT_EQ(dispatcher->run_once(), 0);
  clock_.advance(24h);
  EXPECT_EQ(dispatcher->run_once(), 0);
  EXPECT_EQ(archive_.calls(), Strings{event_id});
  EXPECT_EQ(notify_.calls(), Strings{event_id});

  EXPECT_EQ(dispatcher->counters().delivered.load(), 2);
  EXPECT_EQ(dispatcher->counters().retried.load(), 0);
  EXPECT_EQ(dispatcher->counters().dead.load(), 0);
  const ports::DeliveryStats s = deliveries_->delivery_stats();
  EXPECT_EQ(s.done, 2);
  EXPECT_EQ(s.pending, 0);
}

TEST_F(DispatcherTest, EventTypeWithoutSubscriberReachesNobody) {
  auto dispatcher = make_dispatcher();
  create_order();  // order.created: nobody subscribes to it
  EXPECT_EQ(dispatcher->run_once(), 0);
  EXPECT_TRUE(archive_.calls().empty());
  EXPECT_TRUE(notify_.calls().empty());
  const ports::DeliveryStats s = deliveries_->delivery_stats();
  EXPECT_EQ(s.pending + s.done + s.dead, 0);
  EXPECT_EQ(s.fanned_out_seq, orders_->stats().outbox_last_seq);  // seen, and passed by
}

TEST_F(DispatcherTest, FailedDeliveryIsRetriedOnlyOnceItsBackoffIsOver) {
  auto dispatcher = make_dispatcher();
  archive_.set(Recorder::Mode::fail);
  const std::string event_id = delete_order();

  EXPECT_EQ(dispatcher->run_once(), 2);
  ports::Delivery d = only_delivery(kArchive);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_error, "disk full");
  EXPECT_GE(d.next_attempt, kStart + 100ms);  // 200 ms with equal jitter: 100..200 ms
  EXPECT_LE(d.next_attempt, kStart + 200ms);

  clock_.set(d.next_attempt - 1us);
  EXPECT_EQ(dispatcher->run_once(), 0);
  EXPECT_EQ(archive_.calls().size(), 1u);

  clock_.set(d.next_attempt);
  archive_.set(Recorder::Mode::succeed);
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(archive_.calls(), (Strings{event_id, event_id}));
  EXPECT_EQ(only_delivery(kArchive).state, DeliveryState::done);
  EXPECT_EQ(notify_.calls(), Strings{event_id});  // delivered the first time, never again

  EXPECT_EQ(dispatcher->counters().delivered.load(), 2);
  EXPECT_EQ(dispatcher->counters().retried.load(), 1);
  EXPECT_EQ(dispatcher->counters().dead.load(), 0);
}

TEST_F(DispatcherTest, BackoffDoublesFromInitialUpToMaxWithEqualJitter) {
  auto dispatcher = make_dispatcher();
  const RetryPolicy policy{8, 200ms, 60'000ms};
  for (int attempts = 1; attempts <= 12; ++attempts) {
    const std::chrono::milliseconds full =
        std::min(std::chrono::milliseconds(200 << (attempts - 1)), 60'000ms);
    std::chrono::milliseconds lowest = full;
    std::chrono::milliseconds highest = 0ms;
    for (int sample = 0; sample < 200; ++sample) {
      const auto b = dispatcher->backoff(policy, attempts);
      lowest = std::min(lowest, b);
      highest = std::max(highest, b);
    }
    EXPECT_GE(lowest, full / 2) << "attempts " << attempts;
    EXPECT_LE(highest, full) << "attempts " << attempts;
    EXPECT_LT(lowest, highest) << "no jitter at attempts " << attempts;
  }
  // Far past the cap: still capped, no overflow.
  for (int attempts : {40, 64, 1000, 1 << 30}) {
    const auto b = dispatcher->backoff(policy, attempts);
    EXPECT_GE(b, 30'000ms);
    EXPECT_LE(b, 60'000ms);
  }
  EXPECT_LE(dispatcher->backoff(RetryPolicy{8, 0ms, 0ms}, 3), 0ms);
}

TEST_F(DispatcherTest, RetriesBackOffFurtherUntilDeadThenRedriveDelivers) {
  auto dispatcher = make_dispatcher();
  archive_.set(Recorder::Mode::fail);
  const std::string event_id = delete_order();

  // kArchivePolicy: 200 ms, 400 ms, then capped at 500 ms, each with equal jitter; the 4th
  // failure is the last.
  const std::chrono::milliseconds full_delay[] = {200ms, 400ms, 500ms};
  for (int failure = 1; failure <= 3; ++failure) {
    const Timestamp attempted_at = clock_.now();
    ASSERT_GE(dispatcher->run_once(), 1);
    const ports::Delivery d = only_delivery(kArchive);
    ASSERT_EQ(d.state, DeliveryState::pending);
    EXPECT_EQ(d.attempts, failure);
    const auto delay = d.next_attempt - attempted_at;
    EXPECT_GE(delay, full_delay[failure - 1] / 2) << "failure " << failure;
    EXPECT_LE(delay, full_delay[failure - 1]) << "failure " << failure;
    clock_.set(d.next_attempt);
  }
  EXPECT_EQ(dispatcher->run_once(), 1);
  ports::Delivery d = only_delivery(kArchive);
  EXPECT_EQ(d.state, DeliveryState::dead);
  EXPECT_EQ(d.attempts, 4);
  EXPECT_EQ(d.last_error, "disk full");
  EXPECT_EQ(dispatcher->counters().retried.load(), 3);
  EXPECT_EQ(dispatcher->counters().dead.load(), 1);

  // Dead: never attempted again, however long we wait.
  clock_.advance(24h);
  EXPECT_EQ(dispatcher->run_once(), 0);
  EXPECT_EQ(archive_.calls().size(), 4u);

  // Fixed and redriven: delivered once more.
  archive_.set(Recorder::Mode::succeed);
  ASSERT_TRUE(deliveries_->redrive(d.id, clock_.now()));
  d = only_delivery(kArchive);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(archive_.calls().size(), 5u);
  EXPECT_EQ(archive_.calls().back(), event_id);
  EXPECT_EQ(only_delivery(kArchive).state, DeliveryState::done);
  EXPECT_EQ(dispatcher->counters().delivered.load(), 2);  // notify's, then archive's
}

TEST_F(DispatcherTest, FailingSubscriberDoesNotHoldBackTheOther) {
  auto dispatcher = make_dispatcher();
  archive_.set(Recorder::Mode::fail);
  Strings events;
  for (int i = 0; i < 3; ++i) events.push_back(delete_order());
  dispatcher->run_once();
  EXPECT_EQ(notify_.calls(), events);
  EXPECT_EQ(archive_.calls(), events);  // each attempted once, all waiting for a retry

  // More events while archive's retries wait: notify gets them at once.
  events.push_back(delete_order());
  events.push_back(delete_order());
  clock_.advance(1ms);
  dispatcher->run_once();
  EXPECT_EQ(notify_.calls(), events);
  EXPECT_EQ(dispatcher->counters().delivered.load(), 5);
  EXPECT_EQ(deliveries_->delivery_stats().pending, 5);  // archive's five
}

TEST_F(DispatcherTest, PermanentFailureIsDeadAtOnce) {
  auto dispatcher = make_dispatcher();
  archive_.set(Recorder::Mode::fail_permanently);
  delete_order();
  EXPECT_EQ(dispatcher->run_once(), 2);
  const ports::Delivery d = only_delivery(kArchive);
  EXPECT_EQ(d.state, DeliveryState::dead);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_error, "malformed event");
  clock_.advance(24h);
  EXPECT_EQ(dispatcher->run_once(), 0);
  EXPECT_EQ(archive_.calls().size(), 1u);
  EXPECT_EQ(dispatcher->counters().dead.load(), 1);
  EXPECT_EQ(dispatcher->counters().retried.load(), 0);
  EXPECT_EQ(dispatcher->counters().delivered.load(), 1);
}

// The one rule (functions::classify_failure): a permanent InfraError is the infrastructure's
// fault, which an operator can fix, not the event's: retried like any failure, never dead early.
TEST_F(DispatcherTest, PermanentInfraErrorIsRetriedAndDeliversOnceFixed) {
  auto dispatcher = make_dispatcher();
  archive_.set(Recorder::Mode::misconfigured);
  delete_order();
  EXPECT_EQ(dispatcher->run_once(), 2);
  ports::Delivery d = only_delivery(kArchive);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_error, "access denied to the bucket");
  EXPECT_EQ(dispatcher->counters().retried.load(), 1);
  EXPECT_EQ(dispatcher->counters().dead.load(), 0);

  archive_.set(Recorder::Mode::succeed);  // the configuration was fixed
  clock_.advance(24h);
  EXPECT_EQ(dispatcher->run_once(), 1);
  d = only_delivery(kArchive);
  EXPECT_EQ(d.state, DeliveryState::done);
  EXPECT_EQ(d.attempts, 1);
}

// RetryLater is no failure: the delivery stays claimed, comes back when the lease ends, and
// keeps its attempts.
TEST_F(DispatcherTest, RetryLaterWaitsForTheLeaseWithoutCountingAFailure) {
  auto dispatcher = make_dispatcher();
  notify_.set(Recorder::Mode::retry_later);
  const std::string event_id = delete_order();
  EXPECT_EQ(dispatcher->run_once(), 2);
  ports::Delivery d = only_delivery(kNotify);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(d.next_attempt, kStart + kLease);
  EXPECT_EQ(dispatcher->counters().retried.load(), 0);

  clock_.advance(kLease - 1us);
  EXPECT_EQ(dispatcher->run_once(), 0);
  notify_.set(Recorder::Mode::succeed);
  clock_.advance(1us);
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(notify_.calls(), (Strings{event_id, event_id}));
  d = only_delivery(kNotify);
  EXPECT_EQ(d.state, DeliveryState::done);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(dispatcher->counters().delivered.load(), 2);
}

// Regression: a handler throwing something that is not a std::exception escaped the lane.
TEST_F(DispatcherTest, NonStandardExceptionIsAFailedAttempt) {
  auto dispatcher = make_dispatcher();
  archive_.set(Recorder::Mode::throw_non_standard);
  delete_order();
  EXPECT_EQ(dispatcher->run_once(), 2);
  const ports::Delivery d = only_delivery(kArchive);
  EXPECT_EQ(d.state, DeliveryState::pending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_error, "unknown exception");
  EXPECT_EQ(dispatcher->counters().retried.load(), 1);
}

TEST_F(DispatcherTest, CrashBetweenHandlingAndMarkingRedeliversOnceTheLeaseEnds) {
  const std::string event_id = delete_order();
  {
    CrashBeforeMarking crashing(*queue_);
    auto dispatcher = make_dispatcher(crashing);
    EXPECT_THROW(dispatcher->run_once(), CrashBeforeMarking::Crash);
  }  // its stop() cannot release the claim either
  EXPECT_EQ(archive_.calls(), Strings{event_id});  // handled, but never marked

  // The process "restarts": the same file, a new dispatcher of a new owner.
  close_stores();
  open_stores();
  EXPECT_EQ(only_delivery(kArchive).state, DeliveryState::pending);
  auto dispatcher = make_dispatcher(*queue_, "dispatcher-2");
  EXPECT_EQ(dispatcher->run_once(), 1);  // notify's, never claimed; archive's is still leased
  clock_.advance(kLease);
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(archive_.calls(), (Strings{event_id, event_id}));
  EXPECT_EQ(notify_.calls(), Strings{event_id});
  EXPECT_EQ(deliveries_->delivery_stats().done, 2);
}

// A worker that died holding a claim (it claimed, then never marked or released): another
// process's dispatcher delivers once the lease has ended, and not before.
TEST_F(DispatcherTest, ClaimOfADeadWorkerIsDeliveredByAnotherAfterTheLease) {
  const std::string event_id = delete_order();
  const auto both = [](std::string_view type) {
    return type == domain::kOrderDeleted ? std::vector<std::string>{kArchive, kNotify}
                                         : std::vector<std::string>{};
  };
  ASSERT_EQ(queue_->fan_out(both, clock_.now(), 100), 2);
  ASSERT_EQ(queue_->claim(kArchive, "dead-worker", clock_.now(), clock_.now() + kLease, 100).size(),
            1u);

  auto dispatcher = make_dispatcher(*queue_, "live-worker");
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(notify_.calls(), Strings{event_id});
  EXPECT_TRUE(archive_.calls().empty());
  clock_.advance(kLease - 1us);
  EXPECT_EQ(dispatcher->run_once(), 0);
  EXPECT_TRUE(archive_.calls().empty());

  clock_.advance(1us);
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(archive_.calls(), Strings{event_id});
  EXPECT_EQ(only_delivery(kArchive).state, DeliveryState::done);
}

// A clean stop hands the claims it did not get to on at once: a second dispatcher on the same
// queue delivers them at the same instant, without waiting for the lease.
TEST_F(DispatcherTest, StoppedDispatcherReleasesItsClaimsToTheNext) {
  const Strings events = {delete_order(), delete_order(), delete_order()};
  archive_.set(Recorder::Mode::block);
  auto first = make_dispatcher(*queue_, "dispatcher-1", {archive_subscription()});
  first->start();
  ASSERT_TRUE(archive_.wait_for_calls(1, 30s));  // all three claimed, stuck in the first
  first->request_stop();
  archive_.set(Recorder::Mode::succeed);
  first->stop();
  EXPECT_EQ(archive_.calls(), Strings{events[0]});  // the rest were not attempted
  EXPECT_EQ(first->counters().delivered.load(), 1);

  auto second = make_dispatcher(*queue_, "dispatcher-2", {archive_subscription()});
  EXPECT_EQ(second->run_once(), 2);
  EXPECT_EQ(archive_.calls(), events);
  EXPECT_EQ(deliveries_->delivery_stats().done, 3);
}

// A batch that outlasts its lease stops there: what is left may be someone else's by now, and
// is claimed afresh (here, by the next pass).
TEST_F(DispatcherTest, LaneAttemptsNothingWhoseLeaseHasEnded) {
  const Strings events = {delete_order(), delete_order(), delete_order()};
  Subscription slow = archive_subscription();
  slow.handler = [this](const domain::Event& e) {
    archive_.handle(e);
    clock_.advance(kLease);  // this attempt took the whole lease
  };
  auto dispatcher = make_dispatcher(*queue_, "dispatcher-1", {slow});
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(archive_.calls(), Strings{events[0]});
  EXPECT_EQ(dispatcher->run_once(), 1);  // claims the two again, and again runs out of lease
  EXPECT_EQ(dispatcher->run_once(), 1);
  EXPECT_EQ(archive_.calls(), events);
  EXPECT_EQ(deliveries_->delivery_stats().done, 3);
}

TEST_F(DispatcherTest, StartedDispatcherDeliversACommittedDeletion) {
  auto dispatcher = make_dispatcher();
  orders_->on_commit([&dispatcher] { dispatcher->wake(); });
  dispatcher->start();
  const std::string event_id = delete_order();
  EXPECT_TRUE(archive_.wait_for_calls(1, 30s));
  EXPECT_TRUE(notify_.wait_for_calls(1, 30s));
  dispatcher->stop();
  orders_->on_commit({});

  EXPECT_EQ(archive_.calls(), Strings{event_id});
  EXPECT_EQ(notify_.calls(), Strings{event_id});
  // stop() lets the attempts in progress finish, marks included.
  EXPECT_EQ(dispatcher->counters().delivered.load(), 2);
  EXPECT_EQ(deliveries_->delivery_stats().done, 2);
  dispatcher->stop();  // idempotent
}

TEST_F(DispatcherTest, StuckSubscriberDoesNotHoldBackTheOtherLane) {
  auto dispatcher = make_dispatcher();
  orders_->on_commit([&dispatcher] { dispatcher->wake(); });
  archive_.set(Recorder::Mode::block);
  dispatcher->start();
  const std::string first = delete_order();
  EXPECT_TRUE(archive_.wait_for_calls(1, 30s));  // archive's lane is now stuck in that call

  const std::string second = delete_order();
  EXPECT_TRUE(notify_.wait_for_calls(2, 30s));
  EXPECT_EQ(notify_.calls(), (Strings{first, second}));
  EXPECT_EQ(archive_.calls(), Strings{first});

  archive_.set(Recorder::Mode::succeed);  // unstuck, before stop() waits for the lane
  EXPECT_TRUE(archive_.wait_for_calls(2, 30s));
  dispatcher->stop();
  orders_->on_commit({});
  EXPECT_EQ(archive_.calls(), (Strings{first, second}));
  EXPECT_EQ(deliveries_->delivery_stats().done, 4);
}

}  // namespace
}  // namespace orderflow::runtime

namespace orderflow::runtime {
namespace {

// A lane allowed to run several attempts of a batch at once still delivers each event exactly
// once per run, records every failure, and counts each outcome once.
TEST_F(DispatcherTest, ConcurrentLaneDeliversEachEventOnceAndRecordsFailures) {
  std::mutex mu;
  std::multiset<std::string> seen;
  std::atomic<int> calls{0};
  std::vector<Subscription> subs = {
      {kArchive, std::string(domain::kOrderDeleted), kArchivePolicy,
       [&](const domain::Event& e) {
         calls.fetch_add(1);
         std::lock_guard lock(mu);
         seen.insert(e.id);
         // Every fifth event fails once, then succeeds on its retry.
         if (seen.count(e.id) == 1 && std::hash<std::string>{}(e.id) % 5 == 0)
           throw std::runtime_error("flaky");
       },
       /*concurrency=*/6},
  };
  Dispatcher dispatcher(*queue_, clock_, std::move(subs), {"dispatcher-1", kLease, 7});
  std::set<std::string> events;
  for (int i = 0; i < 150; ++i) events.insert(delete_order());  // more than one batch of 64

  dispatcher.run_once();
  const auto failed = static_cast<std::size_t>(dispatcher.counters().retried.load());
  EXPECT_EQ(static_cast<std::size_t>(dispatcher.counters().delivered.load()) + failed, events.size());
  EXPECT_EQ(static_cast<std::size_t>(calls.load()), events.size());
  {
    std::lock_guard lock(mu);
    for (const auto& e : events) EXPECT_EQ(seen.count(e), 1u) << e;
  }
  EXPECT_EQ(deliveries_->delivery_stats().pending, static_cast<std::int64_t>(failed));

  clock_.advance(1h);  // past every backoff
  dispatcher.run_once();
  EXPECT_EQ(dispatcher.counters().delivered.load(), static_cast<std::int64_t>(events.size()));
  EXPECT_EQ(deliveries_->delivery_stats().pending, 0);
  EXPECT_EQ(deliveries_->delivery_stats().done, static_cast<std::int64_t>(events.size()));
}

}  // namespace
}  // namespace orderflow::runtime
