// The outbox relay and the consumers of runtime::BusPipeline over a real PostgreSQL store and a
// real NATS server (one node, and a 3-node cluster): every outbox event reaches every
// subscription once, also when the relay dies between publishing and moving its cursor (a
// fault-injecting BusStore stands in for the crash, and the stream drops the repeats by
// Nats-Msg-Id). Skipped without ORDERFLOW_TEST_POSTGRES (scripts/test.sh sets it).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "adapters/postgres/postgres_stores.hpp"
#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "bus/bus_support.hpp"
#include "domain/event.hpp"
#include "domain/order.hpp"
#include "runtime/bus_pipeline.hpp"
#include "support/postgres_test_db.hpp"

namespace orderflow::testing::bus {
namespace {

using ports::InfraError;

// A BusStore whose first `crashes` relay rounds publish and then die before the cursor moves,
// as a process killed right after the bus acknowledged would.
class CrashAfterPublish final : public ports::BusStore {
 public:
  CrashAfterPublish(ports::BusStore& inner, int crashes) : inner_(inner), crashes_left_(crashes) {}

  std::optional<int> relay(int limit, const Publish& publish) override {
    return inner_.relay(limit, [&](std::span<const ports::OutboxRecord> records) {
      const std::size_t published = publish(records);
      if (crashes_left_.fetch_sub(1) > 0) {
        crashed_ += static_cast<int>(published);
        throw InfraError(InfraError::Kind::transient, "injected: died before the cursor moved");
      }
      return published;
    });
  }
  std::int64_t relay_backlog() override { return inner_.relay_backlog(); }
  std::int64_t record_dead(std::int64_t seq, std::string_view subscription, int attempts,
                           std::string_view error, domain::Timestamp at) override {
    return inner_.record_dead(seq, subscription, attempts, error, at);
  }
  int republished() const { return crashed_; }

 private:
  ports::BusStore& inner_;
  std::atomic<int> crashes_left_;
  std::atomic<int> crashed_{0};
};

class RelayPipeline : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    db_ = test_support::PostgresTestDatabase::create();
    if (!db_) GTEST_SKIP() << "ORDERFLOW_TEST_POSTGRES is not set";
    stores_ = adapters::open_postgres_stores({db_->url()});
  }

  void create_orders(int n) {
    for (int i = 0; i < n; ++i) {
      domain::Order o;
      o.id = ids_.new_id();
      o.description = "relayed " + std::to_string(i);
      o.price = domain::Money::from_cents(100 + i);
      o.created = o.last_modified = clock_.now();
      o.version = 1;
      ASSERT_EQ(
          stores_.orders
              ->create(o, domain::order_created_event(o, ids_.new_id(), o.created), std::nullopt)
              .kind,
          ports::CreateResult::Kind::created);
    }
  }

  std::optional<test_support::PostgresTestDatabase> db_;
  adapters::PostgresStores stores_;
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_{clock_};
};

TEST_P(RelayPipeline, EveryEventReachesEverySubscriptionOnceThoughTheRelayDiedAfterPublishing) {
  NatsTestCluster& nats = shared_cluster(GetParam());
  auto js = connect(nats.urls());
  constexpr int kOrders = 40;
  create_orders(kOrders);

  std::mutex mu;
  std::map<std::string, std::map<std::string, int>> handled;  // subscription -> event id -> times
  const auto counting = [&](std::string name) {
    return [&mu, &handled, name](const domain::Event& e) {
      std::lock_guard lock(mu);
      ++handled[name][e.id];
    };
  };
  std::vector<runtime::Subscription> table{
      {"audit", std::string(domain::kOrderCreated), {}, counting("audit"), 2},
      {"mirror", std::string(domain::kOrderCreated), {}, counting("mirror"), 1}};

  CrashAfterPublish store(*stores_.bus, /*crashes=*/2);
  runtime::BusOptions options;
  options.stream = unique_name();
  options.subject_prefix = "relay." + unique_name();
  options.replicas = GetParam();
  options.ack_wait = 2s;
  runtime::BusPipeline pipeline(*js, store, *stores_.queue, *stores_.deliveries, clock_, table,
                                options);
  pipeline.start(/*consumers=*/true, nullptr);
  pipeline.wake();

  const auto all_handled = [&] {
    std::lock_guard lock(mu);
    return handled["audit"].size() == kOrders && handled["mirror"].size() == kOrders;
  };
  EXPECT_TRUE(eventually(all_handled, 60s));
  EXPECT_TRUE(eventually([&] { return stores_.bus->relay_backlog() == 0; }, 30s));
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& sub : table) {
          const auto s = js->consumer_stats(options.stream, sub.name);
          if (s.pending != 0 || s.ack_pending != 0) return false;
        }
        return true;
      },
      30s));
  pipeline.stop();

  EXPECT_GT(store.republished(), 0) << "the crash was injected after events had been published";
  // The stream holds each event once although the crashed rounds published some twice.
  EXPECT_EQ(js->stream_last_seq(options.stream), static_cast<std::uint64_t>(kOrders));
  std::lock_guard lock(mu);
  for (const auto& [name, times] : handled) {
    EXPECT_EQ(times.size(), static_cast<std::size_t>(kOrders)) << name;
    for (const auto& [event, n] : times)
      EXPECT_EQ(n, 1) << name << " handled " << event << " " << n << " times";
  }
  EXPECT_EQ(pipeline.counters().delivered.load(), 2 * kOrders);
}

TEST_P(RelayPipeline, AFailingFunctionIsRetriedThenDeadAndItsRedriveCompletes) {
  NatsTestCluster& nats = shared_cluster(GetParam());
  auto js = connect(nats.urls());
  create_orders(1);

  std::atomic<bool> fixed{false};
  std::atomic<int> attempts{0};
  std::atomic<int> succeeded{0};
  std::vector<runtime::Subscription> table{{"flaky",
                                            std::string(domain::kOrderCreated),
                                            {3, 10ms, 20ms},
                                            [&](const domain::Event&) {
                                              ++attempts;
                                              if (!fixed)
                                                throw std::runtime_error("downstream refuses");
                                              ++succeeded;
                                            },
                                            1}};
  runtime::BusOptions options;
  options.stream = unique_name();
  options.subject_prefix = "dead." + unique_name();
  options.replicas = GetParam();
  runtime::BusPipeline pipeline(*js, *stores_.bus, *stores_.queue, *stores_.deliveries, clock_,
                                table, options);
  pipeline.start(true, nullptr);
  pipeline.wake();

  ports::DeliveryPage dead;
  ASSERT_TRUE(eventually(
      [&] {
        return !(dead = stores_.deliveries->list(ports::DeliveryState::dead, 0, 10))
                    .deliveries.empty();
      },
      30s));
  EXPECT_EQ(attempts.load(), 3) << "max_attempts, then no more";
  EXPECT_EQ(dead.deliveries.at(0).subscription, "flaky");
  EXPECT_EQ(dead.deliveries.at(0).last_error, "downstream refuses");
  // The counter follows the dead row (after the message is retired), so it may lag a moment.
  EXPECT_TRUE(eventually([&] { return pipeline.counters().dead.load() == 1; }, 10s));

  fixed = true;
  EXPECT_TRUE(pipeline.redrive(dead.deliveries[0].id));
  EXPECT_FALSE(pipeline.redrive(dead.deliveries[0].id)) << "no longer dead";
  EXPECT_TRUE(eventually([&] { return succeeded.load() == 1; }, 30s));
  EXPECT_TRUE(eventually(
      [&] {
        return stores_.deliveries->get(dead.deliveries[0].id)->state == ports::DeliveryState::done;
      },
      30s));
  pipeline.stop();
  EXPECT_EQ(succeeded.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Nodes, RelayPipeline, ::testing::Values(1, 3), mode_name);

}  // namespace
}  // namespace orderflow::testing::bus
