// The default retry policy (issue 12, item 6): a delivery is retried for at least 24 hours
// before it is dead, so an outage of the object store or mail server shorter than that ends in
// a delivery, not a dead letter. The dispatcher runs over a real SQLite store with a manual
// clock: a day of retries takes a second, and nothing sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "adapters/sqlite/sqlite_stores.hpp"
#include "domain/event.hpp"
#include "domain/order.hpp"
#include "runtime/config.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/subscription_table.hpp"
#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::runtime {
namespace {

using namespace std::chrono_literals;
using domain::Timestamp;
using ports::DeliveryState;

const Timestamp kStart{std::chrono::microseconds{1'795'606'034'000'000}};  // 2026-11-25T11:47:14Z

RetryPolicy policy_of(const DeliveryConfig& d) {
  return {d.max_attempts, std::chrono::milliseconds(d.backoff_initial_ms),
          std::chrono::milliseconds(d.backoff_max_ms)};
}

// From the first failure to the last attempt: the sum of the waits between the attempts, each
// at its shortest (`random` 0: no jitter added) or at its longest (the full backoff).
std::chrono::milliseconds shortest_horizon(const RetryPolicy& p) {
  std::chrono::milliseconds sum{0};
  for (int failures = 1; failures < p.max_attempts; ++failures) sum += retry_delay(p, failures, 0);
  return sum;
}
std::chrono::milliseconds longest_horizon(const RetryPolicy& p) {
  std::chrono::milliseconds sum{0};
  for (int failures = 1; failures < p.max_attempts; ++failures) {
    auto full = p.backoff_initial;
    for (int i = 1; i < failures && full < p.backoff_max; ++i) full *= 2;
    sum += std::min(full, p.backoff_max);
  }
  return sum;
}

TEST(RetryHorizon, TheDefaultPolicyRetriesForAtLeastADayAndAtMostTwo) {
  const RetryPolicy defaults = policy_of(DeliveryConfig{});
  EXPECT_GE(shortest_horizon(defaults), 24h);
  EXPECT_LE(longest_horizon(defaults), 48h + 5min);
  // Capped backoff: after an outage the next attempt comes within 10 minutes.
  EXPECT_LE(retry_delay(defaults, defaults.max_attempts - 1, ~std::uint64_t{0}), 10min);
  // The old defaults (8 attempts from 200 ms, at most 60 s) could give up 12.7 s after the first
  // failure.
  EXPECT_LT(shortest_horizon(RetryPolicy{8, 200ms, 60'000ms}), 20s);
}

TEST(RetryHorizon, RetryPolicyDefaultsAreTheConfigDefaults) {
  const RetryPolicy from_config = policy_of(DeliveryConfig{});
  const RetryPolicy defaults{};
  EXPECT_EQ(defaults.max_attempts, from_config.max_attempts);
  EXPECT_EQ(defaults.backoff_initial, from_config.backoff_initial);
  EXPECT_EQ(defaults.backoff_max, from_config.backoff_max);
}

class RetryHorizonDispatch : public testing::Test {
 protected:
  RetryHorizonDispatch() {
    auto stores = adapters::open_sqlite_stores({(dir_.path() / "orderflow.db").string()});
    orders_ = std::move(stores.orders);
    queue_ = std::move(stores.queue);
    deliveries_ = std::move(stores.deliveries);
  }

  // A dispatcher with one subscription on the default policy, whose function fails (as an
  // archive write does while the object store is away) until `outage_ends`.
  std::unique_ptr<Dispatcher> dispatcher_failing_until(Timestamp outage_ends) {
    std::vector<Subscription> subs{{"archive_deleted_order", std::string(domain::kOrderDeleted),
                                    RetryPolicy{}, [this, outage_ends](const domain::Event&) {
                                      ++calls_;
                                      if (clock_.now() < outage_ends)
                                        throw std::runtime_error(
                                            "object store: connection refused");
                                    }}};
    return std::make_unique<Dispatcher>(*queue_, clock_, std::move(subs),
                                        DispatcherOptions{"dispatcher-1", 30s, 42});
  }

  void delete_an_order() {
    domain::Order o;
    o.id = "order-1";
    o.description = "a widget";
    o.price = domain::Money::from_cents(1250);
    o.created = o.last_modified = clock_.now();
    o.version = 1;
    ASSERT_EQ(
        orders_->create(o, domain::order_created_event(o, "created-1", o.created), std::nullopt)
            .kind,
        ports::CreateResult::Kind::created);
    ASSERT_EQ(orders_->remove(o.id, std::nullopt, clock_.now(), "deleted-1").kind,
              ports::ChangeResult::Kind::done);
  }

  ports::Delivery the_delivery() {
    for (const auto state : {DeliveryState::pending, DeliveryState::done, DeliveryState::dead})
      for (auto& d : deliveries_->list(state, 0, 10).deliveries) return d;
    ADD_FAILURE() << "no delivery";
    return {};
  }

  // Runs the dispatcher at each delivery's next attempt until it is done or dead.
  ports::Delivery run_until_settled(Dispatcher& dispatcher) {
    for (int round = 0; round < 1000; ++round) {
      dispatcher.run_once();
      const ports::Delivery d = the_delivery();
      if (d.state != DeliveryState::pending) return d;
      clock_.set(std::max(clock_.now(), d.next_attempt));
    }
    ADD_FAILURE() << "still pending after 1000 rounds";
    return the_delivery();
  }

  test_support::TempDir dir_;
  test_support::ManualClock clock_{kStart};
  std::unique_ptr<ports::OrderStore> orders_;
  std::unique_ptr<ports::DeliveryQueue> queue_;
  std::unique_ptr<ports::DeliveryAdmin> deliveries_;
  int calls_ = 0;
};

// The case: a 20-second object-store outage used to dead-letter every deletion in it.
TEST_F(RetryHorizonDispatch, ATwentySecondOutageEndsInADelivery) {
  auto dispatcher = dispatcher_failing_until(kStart + 20s);
  delete_an_order();
  const ports::Delivery d = run_until_settled(*dispatcher);
  EXPECT_EQ(d.state, DeliveryState::done);
  EXPECT_GT(calls_, 1);
  EXPECT_EQ(dispatcher->counters().dead.load(), 0);
}

TEST_F(RetryHorizonDispatch, AnOutageOfAlmostADayEndsInADelivery) {
  auto dispatcher = dispatcher_failing_until(kStart + 23h + 50min);
  delete_an_order();
  const ports::Delivery d = run_until_settled(*dispatcher);
  EXPECT_EQ(d.state, DeliveryState::done);
  EXPECT_LT(calls_, RetryPolicy{}.max_attempts);
  EXPECT_EQ(dispatcher->counters().dead.load(), 0);
  // Delivered within one capped backoff of the end of the outage.
  EXPECT_LE(clock_.now(), kStart + 23h + 50min + 10min);
}

TEST_F(RetryHorizonDispatch, AFailureThatOutlastsTheHorizonIsDeadNoEarlierThanADay) {
  auto dispatcher = dispatcher_failing_until(Timestamp::max());
  delete_an_order();
  const ports::Delivery d = run_until_settled(*dispatcher);
  EXPECT_EQ(d.state, DeliveryState::dead);
  EXPECT_EQ(d.attempts, RetryPolicy{}.max_attempts);
  EXPECT_EQ(calls_, RetryPolicy{}.max_attempts);
  EXPECT_GE(clock_.now(), kStart + 24h);
  EXPECT_LE(clock_.now(), kStart + 48h + 5min);
  EXPECT_EQ(d.last_error, "object store: connection refused");
}

}  // namespace
}  // namespace orderflow::runtime
