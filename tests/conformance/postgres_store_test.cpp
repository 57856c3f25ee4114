// What only the PostgreSQL adapter promises, beyond the shared conformance suites: several
// processes on one database. Each "process" is a store set of its own (its own pool, writers
// and LISTEN connection) over a fresh database on the ORDERFLOW_TEST_POSTGRES server; without
// that server every test here is skipped.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <algorithm>
#include <thread>

#include "adapters/postgres/postgres_stores.hpp"
#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "domain/event.hpp"
#include "domain/order.hpp"
#include "ports/errors.hpp"
#include "support/postgres_test_db.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using domain::Timestamp;
using ports::Delivery;
using ports::InfraError;

constexpr int kAll = 1'000'000;
const Timestamp kT0{std::chrono::microseconds{1'795'606'034'000'000}};  // 2026-11-25T11:47:14Z
const std::string kCreated(domain::kOrderCreated);

// Counts callback calls; waits for a count without sleeping. The deadline only turns a missing
// call into a failure instead of a hang.
class CallCounter {
 public:
  std::function<void()> callback() {
    return [this] {
      std::lock_guard lock(mu_);
      ++calls_;
      changed_.notify_all();
    };
  }
  int wait_for_at_least(int n) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, 30s, [&] { return calls_ >= n; });
    return calls_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int calls_ = 0;
};

// A loopback port nothing listens on (bound, then closed again).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  // When the bind fails, port 1: nothing listens there either.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test_support::PostgresTestDatabase::create();
    if (!db_) GTEST_SKIP() << "ORDERFLOW_TEST_POSTGRES is not set";
  }

  // One "process": a store set of its own over the test database.
  adapters::PostgresStores open() { return adapters::open_postgres_stores({db_->url()}); }

  std::string query(const std::string& sql) {
    return test_support::postgres_query_text(db_->url(), sql);
  }

  std::string create_order(ports::OrderStore& orders, Timestamp at = kT0) {
    domain::Order o;
    o.id = ids_.new_id();
    o.description = "a widget";
    o.price = domain::Money::from_cents(1250);
    o.created = o.last_modified = at;
    o.version = 1;
    EXPECT_EQ(
        orders.create(o, domain::order_created_event(o, ids_.new_id(), at), std::nullopt).kind,
        ports::CreateResult::Kind::created);
    return o.id;
  }

  // Fans out everything new: one "audit" delivery per order.created event.
  static int fan_out_all(ports::DeliveryQueue& queue, Timestamp now = kT0) {
    const auto subscribers = [](std::string_view type) {
      return type == kCreated ? std::vector<std::string>{"audit"} : std::vector<std::string>{};
    };
    int total = 0;
    while (const int n = queue.fan_out(subscribers, now, 50)) total += n;
    return total;
  }

  std::optional<test_support::PostgresTestDatabase> db_;
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_{clock_};
};

// --- claims with leases, across processes ---

TEST_F(PostgresStoreTest, ConcurrentClaimsFromTwoProcessesNeverHandOneDeliveryToBoth) {
  auto a = open();
  auto b = open();
  constexpr int kEvents = 150;
  for (int i = 0; i < kEvents; ++i) create_order(*a.orders);
  ASSERT_EQ(fan_out_all(*a.queue), kEvents);

  std::mutex mu;
  std::map<std::int64_t, std::string> owner_of;  // guarded by mu
  std::atomic<int> handed_out_twice{0};
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < 6; ++w) {
      ports::DeliveryQueue& queue = w % 2 == 0 ? *a.queue : *b.queue;
      const std::string owner = "worker-" + std::to_string(w);
      workers.emplace_back([&, owner, &q = queue] {
        try {
          for (;;) {
            const auto claimed = q.claim("audit", owner, kT0, kT0 + 1h, 4);
            if (claimed.empty()) return;
            std::lock_guard lock(mu);
            for (const Delivery& d : claimed) {
              EXPECT_EQ(d.next_attempt, kT0 + 1h);
              if (!owner_of.emplace(d.id, owner).second) ++handed_out_twice;
            }
          }
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
          ++failures;
        }
      });
    }
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(handed_out_twice.load(), 0);
  EXPECT_EQ(owner_of.size(), static_cast<std::size_t>(kEvents));
  // Every lease is durable: nothing is due before it ends.
  EXPECT_TRUE(a.queue->claim("audit", "late", kT0 + 59min, kT0 + 2h, kAll).empty());
  EXPECT_EQ(b.queue->next_due("audit"), kT0 + 1h);
}

TEST_F(PostgresStoreTest, AClaimWhoseLeaseEndedIsClaimedByTheOtherProcess) {
  auto a = open();
  auto b = open();
  create_order(*a.orders);
  ASSERT_EQ(fan_out_all(*a.queue), 1);

  const auto first = a.queue->claim("audit", "worker-a", kT0, kT0 + 10s, 10);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].next_attempt, kT0 + 10s);
  EXPECT_TRUE(b.queue->claim("audit", "worker-b", kT0 + 10s - 1us, kT0 + 20s, 10).empty());

  // worker-a died: once its lease ended, worker-b takes the delivery.
  const auto second = b.queue->claim("audit", "worker-b", kT0 + 10s, kT0 + 20s, 10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, first[0].id);
  EXPECT_EQ(second[0].next_attempt, kT0 + 20s);
  EXPECT_EQ(second[0].event.id, first[0].event.id);

  // A late release by the first holder does not end the second one's claim.
  EXPECT_EQ(a.queue->release("worker-a", kT0 + 11s), 0);
  EXPECT_EQ(a.queue->next_due("audit"), kT0 + 20s);
  b.queue->mark_done({second[0].id}, kT0 + 12s);
  EXPECT_EQ(a.deliveries->get(second[0].id)->state, ports::DeliveryState::done);
}

TEST_F(PostgresStoreTest, ReleaseByOwnerMakesItsDeliveriesDueAtOnceForTheOtherProcess) {
  auto a = open();
  auto b = open();
  for (int i = 0; i < 3; ++i) create_order(*a.orders);
  ASSERT_EQ(fan_out_all(*a.queue), 3);

  ASSERT_EQ(a.queue->claim("audit", "worker-a", kT0, kT0 + 1h, 10).size(), 3u);
  EXPECT_TRUE(b.queue->claim("audit", "worker-b", kT0 + 1s, kT0 + 1h, 10).empty());

  EXPECT_EQ(a.queue->release("worker-a", kT0 + 1s), 3);
  EXPECT_EQ(b.queue->next_due("audit"), kT0 + 1s);
  const auto taken = b.queue->claim("audit", "worker-b", kT0 + 1s, kT0 + 2h, 10);
  ASSERT_EQ(taken.size(), 3u);
  for (const Delivery& d : taken) {
    EXPECT_EQ(d.attempts, 0);  // a release is not a failed attempt
    EXPECT_EQ(d.next_attempt, kT0 + 2h);
  }
  EXPECT_EQ(a.queue->release("worker-a", kT0 + 2s), 0);  // nothing of worker-a's is left
  EXPECT_EQ(b.queue->release("worker-b", kT0 + 2s), 3);
}

TEST_F(PostgresStoreTest, ConcurrentFanOutsFromTwoProcessesCreateEachDeliveryOnce) {
  auto a = open();
  auto b = open();
  constexpr int kEvents = 80;
  for (int i = 0; i < kEvents; ++i) create_order(*a.orders);
  std::atomic<int> fanned_out{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      ports::DeliveryQueue& queue = t % 2 == 0 ? *a.queue : *b.queue;
      threads.emplace_back([&, &q = queue] { fanned_out += fan_out_all(q); });
    }
  }
  // A fan-out that finds another one running leaves the events to it: they add up exactly.
  fanned_out += fan_out_all(*b.queue);
  EXPECT_EQ(fanned_out.load(), kEvents);
  EXPECT_EQ(a.deliveries->delivery_stats().pending, kEvents);
  EXPECT_EQ(a.queue->claim("audit", "w", kT0, kT0 + 1h, kAll).size(),
            static_cast<std::size_t>(kEvents));
}

// --- notices, across processes ---

TEST_F(PostgresStoreTest, ANoticeClaimedAtOnceByTwoProcessesGoesToOne) {
  auto a = open();
  auto b = open();
  constexpr int kNotices = 40;
  std::atomic<int> claimed{0};
  std::atomic<int> busy{0};
  {
    std::vector<std::jthread> senders;
    for (int sender = 0; sender < 4; ++sender) {
      ports::SubscriptionStore& store = sender % 2 == 0 ? *a.subscriptions : *b.subscriptions;
      senders.emplace_back([&, &s = store] {
        for (int i = 0; i < kNotices; ++i) {
          const auto outcome =
              s.claim_notice("event-" + std::to_string(i), "Ann@Example.com", kT0, kT0 + 1min);
          if (outcome == ports::NoticeClaim::claimed) ++claimed;
          if (outcome == ports::NoticeClaim::busy) ++busy;
        }
      });
    }
  }
  EXPECT_EQ(claimed.load(), kNotices);
  EXPECT_EQ(busy.load(), 3 * kNotices);
  a.subscriptions->mark_notice_sent("event-0", "ann@example.com", kT0 + 1s);
  EXPECT_TRUE(b.subscriptions->notice_sent("event-0", "ANN@example.com"));
  EXPECT_EQ(b.subscriptions->claim_notice("event-0", "ann@example.com", kT0 + 2min, kT0 + 3min),
            ports::NoticeClaim::sent);
}

// --- on_commit through LISTEN/NOTIFY ---

TEST_F(PostgresStoreTest, OnCommitFiresInOneProcessForCommitsOfAnother) {
  CallCounter heard;  // declared first: outlives the stores whose callback it is
  auto a = open();
  auto b = open();
  b.orders->on_commit(heard.callback());

  const std::string id = create_order(*a.orders);
  EXPECT_GE(heard.wait_for_at_least(1), 1);
  // The event is committed by the time the notification arrives.
  EXPECT_EQ(b.orders->read_outbox(0, kAll).size(), 1u);

  const int after_create = heard.calls();
  ASSERT_EQ(fan_out_all(*a.queue), 1);
  EXPECT_GT(heard.wait_for_at_least(after_create + 1), after_create);

  const int after_fan_out = heard.calls();
  const auto claimed = a.queue->claim("audit", "w", kT0, kT0 + 1min, 1);
  ASSERT_EQ(claimed.size(), 1u);
  a.queue->mark_failed(claimed[0].id, "boom", std::nullopt, kT0);
  ASSERT_TRUE(a.deliveries->redrive(claimed[0].id, kT0 + 1s));
  EXPECT_GT(heard.wait_for_at_least(after_fan_out + 1), after_fan_out);
}

TEST_F(PostgresStoreTest, LostConnectionsAreReplacedAndOnCommitFiresAfterTheReconnect) {
  CallCounter commits;
  auto stores = open();
  stores.orders->on_commit(commits.callback());
  const std::string before = create_order(*stores.orders);
  ASSERT_GE(commits.wait_for_at_least(1), 1);
  const int calls = commits.calls();

  // Every connection of the store set goes away at once, as when the server restarts.
  query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");

  // The LISTEN thread reconnects and says so: something may have been missed meanwhile.
  EXPECT_GT(commits.wait_for_at_least(calls + 1), calls);
  // Reads and writes work again without anyone reopening the stores.
  EXPECT_TRUE(stores.orders->get(before).has_value());
  const std::string after = create_order(*stores.orders);
  EXPECT_TRUE(stores.orders->get(after).has_value());
  EXPECT_TRUE(stores.orders->ping());
  EXPECT_EQ(stores.orders->stats().orders, 2);
}

// --- group commit ---

TEST_F(PostgresStoreTest, AFailingWriteInABatchUndoesOnlyItsOwnChanges) {
  auto stores = open();
  const std::string taken = create_order(*stores.orders);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  {
    // Concurrent writes share batches; every fourth one reuses an order id that exists.
    std::vector<std::jthread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          domain::Order o;
          o.id = i % 4 == 3 ? taken : ids_.new_id();
          o.description = "batch mate";
          o.price = domain::Money::from_cents(100);
          o.created = o.last_modified = kT0;
          try {
            stores.orders->create(o, domain::order_created_event(o, ids_.new_id(), kT0),
                                  std::nullopt);
            ++created;
          } catch (const InfraError& e) {
            EXPECT_EQ(e.kind(), InfraError::Kind::permanent) << e.what();
            ++refused;
          }
        }
      });
    }
  }
  EXPECT_EQ(refused.load(), kThreads * kPerThread / 4);
  EXPECT_EQ(created.load(), kThreads * kPerThread * 3 / 4);
  // No event of a refused write survived, and every other write kept its own.
  const ports::StoreStats s = stores.orders->stats();
  EXPECT_EQ(s.orders, 1 + created.load());
  EXPECT_EQ(s.outbox_events, 1 + created.load());
  EXPECT_EQ(stores.orders->get(taken)->description, "a widget");
}

// --- concurrent changes of one order or one key, across processes ---

TEST_F(PostgresStoreTest, ConcurrentUpdatesFromTwoProcessesEachWinOneVersionOnce) {
  auto a = open();
  auto b = open();
  const std::string id = create_order(*a.orders);
  constexpr int kThreadsPerProcess = 4;
  constexpr int kRounds = 25;
  std::atomic<int> done{0};
  std::atomic<int> mismatched{0};
  {
    // Every thread reads the version and updates with If-Match: for each version exactly one
    // update may succeed, so the successes add up to the version reached.
    std::vector<std::jthread> threads;
    for (int t = 0; t < 2 * kThreadsPerProcess; ++t) {
      ports::OrderStore& orders = t % 2 == 0 ? *a.orders : *b.orders;
      threads.emplace_back([&, &o = orders, t] {
        for (int i = 0; i < kRounds; ++i) {
          const auto current = o.get(id);
          ASSERT_TRUE(current);
          ports::OrderPatch patch;
          patch.description = "writer " + std::to_string(t) + " round " + std::to_string(i);
          const auto r = o.update(id, patch, current->version, kT0, ids_.new_id());
          if (r.kind == ports::ChangeResult::Kind::done)
            ++done;
          else if (r.kind == ports::ChangeResult::Kind::version_mismatch)
            ++mismatched;
        }
      });
    }
  }
  EXPECT_EQ(done.load() + mismatched.load(), 2 * kThreadsPerProcess * kRounds);
  EXPECT_GT(done.load(), 0);
  EXPECT_EQ(a.orders->get(id)->version, 1 + done.load());
  // One order.updated event per successful update, and nothing for the refused ones.
  EXPECT_EQ(a.orders->stats().outbox_events, 1 + done.load());
}

TEST_F(PostgresStoreTest, OneIdempotencyKeySentToTwoProcessesAtOnceCreatesOneOrder) {
  auto a = open();
  auto b = open();
  constexpr int kThreadsPerProcess = 4;
  constexpr int kKeys = 20;
  std::map<std::string, std::set<std::string>> ids_by_key;
  std::atomic<int> created{0};
  std::mutex mu;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 2 * kThreadsPerProcess; ++t) {
      ports::OrderStore& orders = t % 2 == 0 ? *a.orders : *b.orders;
      threads.emplace_back([&, &o = orders] {
        for (int k = 0; k < kKeys; ++k) {
          domain::Order order;
          order.id = ids_.new_id();
          order.description = "keyed";
          order.price = domain::Money::from_cents(500);
          order.created = order.last_modified = kT0;
          order.version = 1;
          const ports::IdempotencyClaim claim{"key-" + std::to_string(k), "keyed|5.00",
                                              kT0 - 24h};
          const auto r =
              o.create(order, domain::order_created_event(order, ids_.new_id(), kT0), claim);
          ASSERT_NE(r.kind, ports::CreateResult::Kind::key_conflict);
          if (r.kind == ports::CreateResult::Kind::created) ++created;
          std::lock_guard lock(mu);
          ids_by_key[claim.key].insert(r.order.id);
        }
      });
    }
  }
  // Every caller of a key learnt the one order it created.
  EXPECT_EQ(created.load(), kKeys);
  ASSERT_EQ(ids_by_key.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, ids] : ids_by_key) EXPECT_EQ(ids.size(), 1u) << key;
  EXPECT_EQ(a.orders->stats().orders, kKeys);
  EXPECT_EQ(a.orders->stats().outbox_events, kKeys);
}

// --- outbox order ---

TEST_F(PostgresStoreTest, SeqOrderIsCommitOrderSoATailerNeverSkipsAnEvent) {
  auto a = open();
  auto b = open();
  constexpr int kWritersPerProcess = 4;
  constexpr int kPerWriter = 60;
  std::atomic<int> writers_left{2 * kWritersPerProcess};
  std::set<std::int64_t> tailed;
  std::int64_t out_of_order = 0;
  {
    // Reads seq > cursor, as the dispatcher does: a row that committed after a higher seq had
    // been read would never be seen.
    std::jthread tailer([&] {
      std::int64_t cursor = 0;
      for (;;) {
        const bool last_round = writers_left.load() == 0;
        const auto records = b.orders->read_outbox(cursor, 100);
        for (const auto& r : records) {
          if (r.seq <= cursor) ++out_of_order;
          tailed.insert(r.seq);
          cursor = r.seq;
        }
        if (last_round && records.empty()) return;
      }
    });
    std::vector<std::jthread> writers;
    for (int w = 0; w < 2 * kWritersPerProcess; ++w) {
      ports::OrderStore& orders = w % 2 == 0 ? *a.orders : *b.orders;
      writers.emplace_back([&, &o = orders] {
        for (int i = 0; i < kPerWriter; ++i) create_order(o);
        --writers_left;
      });
    }
  }
  const auto all = a.orders->read_outbox(0, kAll);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(2 * kWritersPerProcess * kPerWriter));
  std::size_t skipped = 0;
  for (const auto& r : all) skipped += tailed.count(r.seq) == 0 ? 1 : 0;
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(out_of_order, 0);
}

// --- the NATS bus's relay cursor and dead deliveries ---

TEST_F(PostgresStoreTest, TheRelayHandsOnEventsInSeqOrderAndMovesPastWhatWasPublished) {
  auto stores = open();
  for (int i = 0; i < 5; ++i) create_order(*stores.orders);
  EXPECT_EQ(stores.bus->relay_backlog(), 5);
  std::vector<std::int64_t> seen;
  // Publishes only the first two: the cursor moves past those, the rest come again.
  auto relayed = stores.bus->relay(10, [&](std::span<const ports::OutboxRecord> records) {
    for (const auto& r : records) seen.push_back(r.seq);
    return std::size_t{2};
  });
  ASSERT_TRUE(relayed);
  EXPECT_EQ(*relayed, 2);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(stores.bus->relay_backlog(), 3);
  std::vector<std::string> types;
  relayed = stores.bus->relay(10, [&](std::span<const ports::OutboxRecord> records) {
    EXPECT_EQ(records.front().seq, seen[2]);
    for (const auto& r : records) types.push_back(r.event.type);
    return records.size();
  });
  EXPECT_EQ(relayed.value_or(-1), 3);
  EXPECT_EQ(types, std::vector<std::string>(3, kCreated));
  EXPECT_EQ(stores.bus->relay_backlog(), 0);
  EXPECT_EQ(stores.bus->relay(10, [](auto) -> std::size_t { ADD_FAILURE() << "nothing to relay"; return 0; })
                .value_or(-1),
            0);
}

TEST_F(PostgresStoreTest, AFailedPublishMovesNothingAndTheEventsComeAgain) {
  auto stores = open();
  for (int i = 0; i < 3; ++i) create_order(*stores.orders);
  EXPECT_THROW(stores.bus->relay(10,
                                 [](auto) -> std::size_t {
                                   throw InfraError(InfraError::Kind::transient, "bus down");
                                 }),
               InfraError);
  EXPECT_EQ(stores.bus->relay_backlog(), 3);
  std::size_t handed = 0;
  EXPECT_EQ(stores.bus->relay(10, [&](auto records) { return handed = records.size(); }).value_or(-1), 3);
  EXPECT_EQ(handed, 3u);
}

TEST_F(PostgresStoreTest, TheRelayStartsWhereTheLocalFanOutStood) {
  auto stores = open();
  create_order(*stores.orders);
  create_order(*stores.orders);
  fan_out_all(*stores.queue);  // bus = local handled these two
  create_order(*stores.orders);
  std::size_t handed = 0;
  EXPECT_EQ(stores.bus->relay(10, [&](auto records) { return handed = records.size(); }).value_or(-1), 1);
  EXPECT_EQ(handed, 1u);
}

TEST_F(PostgresStoreTest, WhileOneProcessRelaysTheOtherStandsBy) {
  auto a = open();
  auto b = open();
  create_order(*a.orders);
  std::latch holding(1);
  std::latch checked(1);
  std::optional<int> other;
  std::jthread relay([&] {
    a.bus->relay(10, [&](auto records) {
      holding.count_down();
      checked.wait();  // publishing, with the cursor held
      return records.size();
    });
  });
  holding.wait();
  other = b.bus->relay(10, [](auto records) { return records.size(); });
  checked.count_down();
  relay.join();
  EXPECT_FALSE(other.has_value());
  EXPECT_EQ(b.bus->relay_backlog(), 0);
}

TEST_F(PostgresStoreTest, ADeadDeliveryFromTheBusIsListedAndRecordedOncePerEventAndSubscription) {
  auto stores = open();
  create_order(*stores.orders);
  const auto seq = stores.orders->read_outbox(0, 1).at(0).seq;
  const auto id = stores.bus->record_dead(seq, "audit", 8, "mail server down", kT0);
  EXPECT_EQ(stores.bus->record_dead(seq, "audit", 10, "still down", kT0 + 1s), id);
  const auto page = stores.deliveries->list(ports::DeliveryState::dead, 0, 10);
  ASSERT_EQ(page.deliveries.size(), 1u);
  const Delivery& d = page.deliveries[0];
  EXPECT_EQ(d.id, id);
  EXPECT_EQ(d.subscription, "audit");
  EXPECT_EQ(d.attempts, 10);
  EXPECT_EQ(d.last_error, "still down");
  EXPECT_EQ(d.event.type, kCreated);
  EXPECT_TRUE(stores.deliveries->redrive(id, kT0 + 2s));
  EXPECT_EQ(stores.deliveries->get(id)->state, ports::DeliveryState::pending);
}

// --- migrations ---

TEST_F(PostgresStoreTest, ConcurrentMigrationsMigrateOnce) {
  constexpr int kProcesses = 6;
  std::latch start(kProcesses);
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> processes;
    processes.reserve(kProcesses);
    for (int p = 0; p < kProcesses; ++p) {
      processes.emplace_back([&, p] {
        start.arrive_and_wait();
        try {
          if (p % 2 == 0)
            adapters::migrate_postgres({db_->url()});
          else
            open();
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
          ++failures;
        }
      });
    }
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(query("SELECT count(*) = count(DISTINCT version) FROM schema_migrations"), "t");
  EXPECT_EQ(query("SELECT count(*) FROM fanout_cursor"), "1");  // the first migration ran once
  auto stores = open();
  create_order(*stores.orders);
  EXPECT_EQ(stores.orders->stats().orders, 1);
}

TEST_F(PostgresStoreTest, ASchemaNewerThanTheBinaryIsRefused) {
  open();
  query("INSERT INTO schema_migrations (version) VALUES (999)");
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (attempt == 0)
        open();
      else
        adapters::migrate_postgres({db_->url()});
      ADD_FAILURE() << "a newer schema was accepted";
    } catch (const InfraError& e) {
      EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
      EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
  }
}

// --- errors ---

TEST_F(PostgresStoreTest, NothingListeningIsATransientErrorWithoutThePassword) {
  const std::string url =
      "postgresql://orderflow:s3cret-pw@127.0.0.1:" + std::to_string(free_port()) + "/orderflow";
  const auto started = std::chrono::steady_clock::now();
  try {
    adapters::open_postgres_stores({url});
    ADD_FAILURE() << "opened a store on a port nothing listens on";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::transient);
    const std::string what = e.what();
    EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
    EXPECT_NE(what.find("store"), std::string::npos) << what;
  }
  // Not a performance figure: a refused connection must fail, not wait for a timeout or hang.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

TEST_F(PostgresStoreTest, AMalformedUrlIsAPermanentErrorNamingTheSetting) {
  for (const std::string url : {"postgresql://orderflow:s3cret-pw@[::1/orderflow",
                                "postgresql://orderflow:s3cret-pw@localhost/db?no_such_option=1",
                                "postgresql://orderflow:s3cret-pw@localhost/db?sslmode=%zz"}) {
    try {
      adapters::open_postgres_stores({url});
      ADD_FAILURE() << "accepted " << url;
    } catch (const InfraError& e) {
      EXPECT_EQ(e.kind(), InfraError::Kind::permanent) << e.what();
      const std::string what = e.what();
      EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
      EXPECT_EQ(what.rfind("store", 0), 0u) << what;
    }
  }
}

}  // namespace
}  // namespace orderflow::testing
