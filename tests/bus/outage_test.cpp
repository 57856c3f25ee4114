// The adapter while servers go away and come back: each test runs servers of its own.
#include <atomic>
#include <mutex>
#include <set>
#include <vector>

#include "bus/bus_support.hpp"

namespace orderflow::testing::bus {
namespace {

using adapters::nats::ConsumerConfig;
using adapters::nats::Message;
using adapters::nats::OutMessage;
using adapters::nats::PublishAck;
using adapters::nats::StreamConfig;
using ports::InfraError;

std::vector<OutMessage> batch(const std::string& subject, const std::string& prefix, int n) {
  std::vector<OutMessage> out;
  for (int i = 1; i <= n; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    out.push_back({.subject = subject, .msg_id = id, .data = id});
  }
  return out;
}

// Publishes until the cluster takes it: after its leader died, a stream answers nothing (or "no
// responders") until the survivors elect another, which nats-server 2.9 starts only after 4-9 s
// without a leader. Every failure on the way must be transient.
std::vector<PublishAck> publish_through_election(JetStream& js, const std::vector<OutMessage>& m) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      return js.publish(m, 2s);
    } catch (const InfraError& e) {
      EXPECT_EQ(e.kind(), InfraError::Kind::transient) << e.what();
      std::this_thread::sleep_for(200ms);
    }
  }
  ADD_FAILURE() << "the cluster never took the publish";
  return {};
}

// Fetches and acks until `want` distinct payloads came or 30 s passed; failures on the way
// (an election of the consumer's leader) must be transient.
std::set<std::string> drain(adapters::nats::PullConsumer& c, std::size_t want) {
  std::set<std::string> got;
  eventually(
      [&] {
        try {
          for (auto& m : c.fetch(10, 500ms)) {
            got.insert(std::string(m.data()));
            m.ack();
          }
        } catch (const InfraError& e) {
          EXPECT_EQ(e.kind(), InfraError::Kind::transient) << e.what();
        }
        return got.size() >= want;
      },
      30s);
  return got;
}

std::set<std::string> ids(const std::string& prefix, int n) {
  std::set<std::string> out;
  for (int i = 1; i <= n; ++i) out.insert(prefix + "-" + std::to_string(i));
  return out;
}

TEST(BusOutage, PublishFailsFastWhileTheServerIsDownAndWorksAgainAfterItReturns) {
  NatsTestCluster server;
  server.start(1);
  std::mutex mutex;
  std::vector<bool> changes;
  auto options = options_for(server.urls());
  options.on_connection_change = [&](bool up) {
    std::lock_guard lock(mutex);
    changes.push_back(up);
  };
  JetStream js(options);
  ASSERT_TRUE(eventually([&] { return js.connected(); }));
  js.ensure_stream(StreamConfig{.name = "Outage", .subjects = {"outage.>"}});
  auto consumer = js.pull("Outage", ConsumerConfig{.durable = "worker", .ack_wait = 2s});
  js.publish(batch("outage.e", "before", 3), 5s);

  server.kill_node(0);
  const auto started = std::chrono::steady_clock::now();
  try {
    js.publish(batch("outage.e", "down", 1), 20s);
    ADD_FAILURE() << "publish succeeded with the server down";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::transient) << e.what();
  }
  // Promptly: long before the publish timeout of 20 s.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_FALSE(js.connected());
  EXPECT_THROW(consumer->fetch(1, 100ms), InfraError);

  server.start_node(0);
  ASSERT_TRUE(eventually([&] { return js.connected(); })) << "did not reconnect by itself";
  EXPECT_GE(js.disconnects(), 1u);
  EXPECT_TRUE(eventually([&] { return js.reconnects() >= 1; }));  // counted on nats.c's thread
  js.publish(batch("outage.e", "after", 2), 5s);
  // The stream and the durable consumer survived the restart (file store).
  EXPECT_EQ(drain(*consumer, 5), [] {
    auto all = ids("before", 3);
    all.merge(ids("after", 2));
    return all;
  }());
  std::lock_guard lock(mutex);
  ASSERT_GE(changes.size(), 2u);  // the reconnect was counted after the callback ran
  EXPECT_FALSE(changes[changes.size() - 2]);
  EXPECT_TRUE(changes.back());
}

class BusStartup : public ::testing::TestWithParam<int> {};

TEST_P(BusStartup, AJetStreamMadeWhileNoServerRunsConnectsOnceOneStarts) {
  NatsTestCluster servers;
  servers.init(GetParam());
  const auto started = std::chrono::steady_clock::now();
  JetStream js(options_for(servers.urls()));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "the constructor waited";
  EXPECT_FALSE(js.connected());
  try {
    js.publish(batch("startup.e", "early", 1), 5s);
    ADD_FAILURE() << "publish succeeded with no server";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::transient) << e.what();
  }

  std::vector<int> all;
  for (int i = 0; i < GetParam(); ++i) all.push_back(i);
  servers.start_nodes(all);
  ASSERT_TRUE(eventually([&] { return js.connected(); }));
  js.ensure_stream(StreamConfig{.name = "Startup", .subjects = {"startup.>"}});
  EXPECT_EQ(publish_through_election(js, batch("startup.e", "late", 2)).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Nodes, BusStartup, ::testing::Values(1, 3), mode_name);

TEST(BusFailover, KillingTheStreamLeaderLosesNothing) {
  NatsTestCluster cluster;
  cluster.start(3);
  auto js = connect(cluster.urls());
  js->ensure_stream(StreamConfig{.name = "Failover", .subjects = {"failover.>"}});
  auto consumer = js->pull("Failover", ConsumerConfig{.durable = "worker", .ack_wait = 2s});
  const auto before = js->publish(batch("failover.e", "before", 10), 5s);
  ASSERT_EQ(before.size(), 10u);

  int leader = -1;
  ASSERT_TRUE(eventually([&] { return (leader = cluster.stream_leader("Failover")) >= 0; }));
  cluster.kill_node(leader);

  const auto after = publish_through_election(*js, batch("failover.e", "after", 10));
  ASSERT_EQ(after.size(), 10u);
  EXPECT_GT(after.front().stream_seq, before.back().stream_seq);
  int new_leader = -1;
  EXPECT_TRUE(eventually([&] { return (new_leader = cluster.stream_leader("Failover")) >= 0; }));
  EXPECT_NE(new_leader, leader);

  auto expected = ids("before", 10);
  expected.merge(ids("after", 10));
  EXPECT_EQ(drain(*consumer, 20), expected);

  // The killed node comes back with its store and catches up.
  cluster.start_node(leader);
  EXPECT_TRUE(eventually([&] {
    const auto detail = cluster.stream_detail(leader, "Failover");
    return detail && detail->at("state").at("last_seq").as_int64() ==
                         static_cast<std::int64_t>(after.back().stream_seq);
  }));
}

}  // namespace
}  // namespace orderflow::testing::bus
