// The JetStream adapter against a real nats-server: streams, de-duplication, pull consumers and
// core subscriptions, each once on a single node and once on a 3-node cluster.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "bus/bus_support.hpp"

namespace orderflow::testing::bus {
namespace {

using adapters::nats::ConsumerConfig;
using adapters::nats::Message;
using adapters::nats::OutMessage;
using adapters::nats::PullConsumer;
using adapters::nats::StreamConfig;

class JetStreamTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    cluster_ = &shared_cluster(GetParam());
    js_ = connect(cluster_->urls());
    name_ = unique_name();
    subject_ = name_ + ".events";
    js_->ensure_stream(StreamConfig{.name = name_, .subjects = {name_ + ".>"}});
  }

  std::vector<OutMessage> messages(int n, const std::string& prefix = "m") const {
    std::vector<OutMessage> out;
    for (int i = 1; i <= n; ++i)
      out.push_back({.subject = subject_,
                     .msg_id = prefix + std::to_string(i),
                     .data = prefix + "-" + std::to_string(i)});
    return out;
  }

  ConsumerConfig consumer(const std::string& durable) const {
    return {.durable = durable, .filter_subject = subject_, .ack_wait = 1s};
  }

  // Fetches until `n` messages came or 10 s passed.
  static std::vector<Message> fetch_n(PullConsumer& c, std::size_t n) {
    std::vector<Message> got;
    eventually([&] {
      for (auto& m : c.fetch(static_cast<int>(n - got.size()), 500ms)) got.push_back(std::move(m));
      return got.size() >= n;
    });
    return got;
  }

  NatsTestCluster* cluster_ = nullptr;
  std::unique_ptr<JetStream> js_;
  std::string name_, subject_;
};

TEST_P(JetStreamTest, ClusterSizeCountsTheServers) { EXPECT_EQ(js_->cluster_size(), GetParam()); }

TEST_P(JetStreamTest, EnsureStreamTwiceAndConcurrentlyGivesTheRequestedStream) {
  const StreamConfig config{
      .name = name_ + "_x", .subjects = {name_ + "_x.a", name_ + "_x.b"}, .duplicate_window = 45s};
  js_->ensure_stream(config);
  js_->ensure_stream(config);

  // Two processes starting at once.
  const StreamConfig racing{.name = name_ + "_y", .subjects = {name_ + "_y.>"}};
  auto other = connect(cluster_->urls());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (JetStream* js : {js_.get(), other.get()}) {
    threads.emplace_back([&, js] {
      try {
        js->ensure_stream(racing);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  const std::int64_t replicas = GetParam() == 3 ? 3 : 1;
  const auto config_of = [&](const std::string& stream) {
    std::optional<boost::json::object> seen;
    eventually([&] {
      const int leader = cluster_->stream_leader(stream);
      if (leader >= 0) seen = cluster_->stream_detail(leader, stream);
      return seen.has_value();
    });
    return seen ? seen->at("config").as_object() : boost::json::object{};
  };
  const auto x = config_of(config.name);
  ASSERT_FALSE(x.empty()) << "no server knows " << config.name;
  EXPECT_EQ(boost::json::serialize(x.at("subjects")),
            "[\"" + name_ + "_x.a\",\"" + name_ + "_x.b\"]");
  EXPECT_EQ(x.at("num_replicas").as_int64(), replicas);
  EXPECT_EQ(x.at("duplicate_window").as_int64(), 45'000'000'000);
  EXPECT_EQ(config_of(racing.name).at("num_replicas").as_int64(), replicas);

  // A changed config updates the stream.
  StreamConfig wider = config;
  wider.subjects.push_back(name_ + "_x.c");
  js_->ensure_stream(wider);
  EXPECT_TRUE(
      eventually([&] { return config_of(config.name).at("subjects").as_array().size() == 3; }));
}

TEST_P(JetStreamTest, TheSameMsgIdIsStoredOnceAndContentRoundTrips) {
  const std::string data = std::string("{\"description\":\"Grüße ✓ 12.50 €\",\"raw\":\"") +
                           std::string("a\0b\r\n\xff", 6) + "\"}";
  const OutMessage first{.subject = subject_,
                         .msg_id = "order-1",
                         .headers = {{"Content-Type", "application/cloudevents+json"},
                                     {"ce-source", "/orders/ünïcode"}},
                         .data = data};
  OutMessage again = first;
  again.data = "something else";

  const auto acks = js_->publish(std::vector{first, again}, 5s);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_FALSE(acks[0].duplicate);
  EXPECT_TRUE(acks[1].duplicate);
  EXPECT_EQ(acks[1].stream_seq, acks[0].stream_seq);
  const auto later = js_->publish(std::vector{again}, 5s);
  EXPECT_TRUE(later.at(0).duplicate);
  EXPECT_EQ(js_->stream_last_seq(name_), acks[0].stream_seq);

  auto c = js_->pull(name_, consumer("reader"));
  auto got = c->fetch(10, 1s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subject(), subject_);
  EXPECT_EQ(got[0].data(), data);
  EXPECT_EQ(got[0].header("Content-Type"), "application/cloudevents+json");
  EXPECT_EQ(got[0].header("ce-source"), "/orders/ünïcode");
  EXPECT_EQ(got[0].header("Nats-Msg-Id"), "order-1");
  EXPECT_EQ(got[0].header("absent"), std::nullopt);
  got[0].ack();
}

TEST_P(JetStreamTest, FetchGivesMessagesInOrderAndAckRemovesThem) {
  js_->publish(messages(5), 5s);
  auto c = js_->pull(name_, consumer("worker"));
  auto got = fetch_n(*c, 5);
  ASSERT_EQ(got.size(), 5u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].data(), "m-" + std::to_string(i + 1));
    EXPECT_EQ(got[i].delivered(), 1u);
    if (i > 0) {
      EXPECT_GT(got[i].stream_seq(), got[i - 1].stream_seq());
    }
  }
  EXPECT_EQ(c->stats().ack_pending, 5u);
  for (auto& m : got) {
    m.in_progress();
    m.ack();
  }
  const auto stats = js_->consumer_stats(name_, "worker");
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.ack_pending, 0u);
  EXPECT_TRUE(c->fetch(1, 200ms).empty());
}

TEST_P(JetStreamTest, FetchReadyTakesWhatIsThereWithoutWaitingForAFullBatch) {
  auto c = js_->pull(name_, consumer("worker"));
  EXPECT_TRUE(c->fetch_ready(4, 50ms).empty());  // nothing there: empty, not an error
  js_->publish(messages(6), 5s);
  EXPECT_TRUE(eventually([&] { return js_->consumer_stats(name_, "worker").pending == 6; }));
  auto first = c->fetch_ready(4, 5s);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0].data(), "m-1");
  EXPECT_EQ(first[3].data(), "m-4");
  EXPECT_EQ(first[3].pending(), 2u) << "two more wait";
  auto rest = c->fetch_ready(4, 5s);  // only two left: those, answered before the wait ran out
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1].data(), "m-6");
  EXPECT_EQ(rest[1].pending(), 0u);
  for (auto& m : first) m.ack_async();  // ack_wait is 1 s: settled before any redelivery
  for (auto& m : rest) m.ack_async();
  EXPECT_TRUE(eventually([&] {
    const auto s = js_->consumer_stats(name_, "worker");
    return s.pending == 0 && s.ack_pending == 0;
  }));
  EXPECT_TRUE(c->fetch(1, 1500ms).empty());  // past ack_wait: the async acks did settle
}

// nats.c 3.4 writes a late answer to a waiting pull past the end of the next multi-message
// fetch's list; with waits of a few ms that crashed (free(): invalid next size) in every run.
// fetch_ready leaves queued late answers to fetch(1): every message arrives, nothing corrupts.
TEST_P(JetStreamTest, ShortNoWaitPullsLeaveLateAnswersToSingleFetchesAndLoseNothing) {
  auto c = js_->pull(name_, consumer("drain"));
  std::thread publisher([&] {
    for (int i = 0; i < 10; ++i) {
      js_->publish(messages(30, "p" + std::to_string(i) + "-"), 5s);
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * (i % 4)));
    }
  });
  std::set<std::string> seen;
  const auto until = std::chrono::steady_clock::now() + 60s;
  for (int empty = 0; seen.size() < 300 && std::chrono::steady_clock::now() < until;) {
    // Mostly no-wait pulls, so late answers are often queued when one starts.
    auto got = c->fetch_ready(4, 1ms);
    if (got.empty() && ++empty % 4 == 0) got = c->fetch(1, 1ms);
    for (auto& m : got) {
      seen.insert(std::string(m.data()));
      m.ack_async();
    }
  }
  publisher.join();
  EXPECT_EQ(seen.size(), 300u);
}

TEST_P(JetStreamTest, AMessageOutlivesItsConsumerAndTheDurableStays) {
  js_->publish(messages(1), 5s);
  auto c = js_->pull(name_, consumer("worker"));
  auto got = fetch_n(*c, 1);
  ASSERT_EQ(got.size(), 1u);
  c.reset();
  got[0].ack();
  EXPECT_EQ(js_->consumer_stats(name_, "worker").ack_pending, 0u);
  js_->publish(messages(1, "later"), 5s);
  EXPECT_TRUE(eventually([&] { return js_->consumer_stats(name_, "worker").pending == 1; }));
}

TEST_P(JetStreamTest, PublishingWhereNoStreamListensIsTransient) {
  try {
    js_->publish(std::vector<OutMessage>{{.subject = "nostream." + name_, .data = "x"}}, 5s);
    ADD_FAILURE() << "a publish without a stream was acknowledged";
  } catch (const ports::InfraError& e) {
    EXPECT_EQ(e.kind(), ports::InfraError::Kind::transient) << e.what();
    EXPECT_NE(std::string(e.what()).find("nostream." + name_), std::string::npos) << e.what();
  }
}

TEST_P(JetStreamTest, NakWithDelayRedeliversTheMessage) {
  js_->publish(messages(1), 5s);
  auto c = js_->pull(name_, consumer("worker"));
  auto first = fetch_n(*c, 1);
  ASSERT_EQ(first.size(), 1u);
  first[0].nak(300ms);
  auto again = fetch_n(*c, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].stream_seq(), first[0].stream_seq());
  EXPECT_EQ(again[0].delivered(), 2u);
  again[0].ack();
  EXPECT_EQ(c->stats().ack_pending, 0u);
}

TEST_P(JetStreamTest, AfterMaxDeliverTheMessageIsNotDeliveredAgain) {
  js_->publish(messages(1), 5s);
  ConsumerConfig config = consumer("worker");
  config.max_deliver = 2;
  auto c = js_->pull(name_, config);
  for (std::uint64_t delivery = 1; delivery <= 2; ++delivery) {
    auto got = fetch_n(*c, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].delivered(), delivery);
    got[0].nak(0ms);
  }
  // Neither a nak nor the ack_wait (1 s) brings it back.
  EXPECT_TRUE(c->fetch(1, 1500ms).empty());
  // The consumer goes on with the next message.
  js_->publish(messages(1, "next"), 5s);
  auto next = fetch_n(*c, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].data(), "next-1");
  next[0].ack();
}

TEST_P(JetStreamTest, TermStopsRedelivery) {
  js_->publish(messages(1), 5s);
  auto c = js_->pull(name_, consumer("worker"));
  auto got = fetch_n(*c, 1);
  ASSERT_EQ(got.size(), 1u);
  got[0].term();
  EXPECT_TRUE(c->fetch(1, 1500ms).empty());  // past the ack_wait of 1 s
  EXPECT_EQ(c->stats().ack_pending, 0u);
}

TEST_P(JetStreamTest, AnUnackedMessageComesBackAfterAckWait) {
  js_->publish(messages(1), 5s);
  auto c = js_->pull(name_, consumer("worker"));
  auto first = fetch_n(*c, 1);
  ASSERT_EQ(first.size(), 1u);
  auto again = fetch_n(*c, 1);  // ack_wait is 1 s
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].delivered(), 2u);
  again[0].ack();
}

TEST_P(JetStreamTest, TwoWorkersOnOneDurableGetEveryMessageExactlyOnce) {
  constexpr int kCount = 60;
  js_->publish(messages(kCount), 10s);
  auto other = connect(cluster_->urls());
  // Both start at once, as two worker processes would, and create the durable together.
  std::vector<std::unique_ptr<PullConsumer>> workers(2);
  {
    std::vector<std::thread> starting;
    JetStream* connections[] = {js_.get(), other.get()};
    for (std::size_t w = 0; w < 2; ++w)
      starting.emplace_back([&, w] {
        try {
          workers[w] = connections[w]->pull(name_, consumer("shared"));
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
        }
      });
    for (auto& t : starting) t.join();
  }
  ASSERT_TRUE(workers[0] && workers[1]);

  std::mutex mutex;
  std::multiset<std::uint64_t> seen;
  std::vector<int> per_worker(2, 0);
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      while (std::chrono::steady_clock::now() < deadline) {
        {
          std::lock_guard lock(mutex);
          if (seen.size() >= kCount) return;
        }
        try {
          for (auto& m : workers[static_cast<std::size_t>(w)]->fetch(5, 300ms)) {
            m.ack();
            std::lock_guard lock(mutex);
            seen.insert(m.stream_seq());
            per_worker[static_cast<std::size_t>(w)]++;
          }
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
          failed = true;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(failed.load());
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(std::set<std::uint64_t>(seen.begin(), seen.end()).size(),
            static_cast<std::size_t>(kCount))
      << "a message reached both workers";
  EXPECT_EQ(js_->consumer_stats(name_, "shared").ack_pending, 0u);
}

TEST_P(JetStreamTest, CoreSubscribersSeeJetStreamPublishes) {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<std::pair<std::string, std::string>> got;  // subject, data
  std::uint64_t delivered = 99;
  auto other = connect(cluster_->urls());
  auto sub = other->subscribe(name_ + ".>", [&](const Message& m) {
    std::lock_guard lock(mutex);
    got.emplace_back(std::string(m.subject()), std::string(m.data()));
    delivered = m.delivered();
    arrived.notify_all();
  });
  // A subscription is in place once the server has processed it; a first message tells.
  ASSERT_TRUE(eventually([&] {
    js_->publish(std::vector<OutMessage>{{.subject = name_ + ".probe", .data = "probe"}}, 5s);
    std::lock_guard lock(mutex);
    return !got.empty();
  }));
  js_->publish(messages(2), 5s);
  std::unique_lock lock(mutex);
  ASSERT_TRUE(
      arrived.wait_for(lock, 10s, [&] { return got.size() >= 2 && got.back().second == "m-2"; }));
  EXPECT_EQ(got[got.size() - 2], std::make_pair(subject_, std::string("m-1")));
  EXPECT_EQ(delivered, 0u);
}

INSTANTIATE_TEST_SUITE_P(Nodes, JetStreamTest, ::testing::Values(1, 3), mode_name);

}  // namespace
}  // namespace orderflow::testing::bus

