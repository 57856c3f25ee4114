// What the SQLite adapter promises beyond the port contracts: schema migrations, refusing
// a newer schema, errors that name the file, failed writes undone alone inside a group commit,
// acknowledged writes surviving a kill -9, the four stores sharing one file and writer, and
// which of their commits wake on_commit.
#include "adapters/sqlite/sqlite_order_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "adapters/sqlite/migrations.hpp"
#include "adapters/sqlite/sqlite_stores.hpp"
#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "conformance/store_factories.hpp"
#include "domain/event.hpp"
#include "ports/errors.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using adapters::SqliteOrderStore;
using adapters::SqliteStoreOptions;
using domain::Order;
using ports::InfraError;

// A plain connection for looking at (or tampering with) the file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path.string());
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error(message);
    }
  }

  // Every row of a one-column query, as text.
  std::vector<std::string> column(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
    std::vector<std::string> rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      rows.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteOrderStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteOrderStore> open(int max_batch = 256) {
    return std::make_unique<SqliteOrderStore>(SqliteStoreOptions{db_path_.string(), max_batch, 2});
  }

  Order new_order(std::string description = "a widget") {
    Order o;
    o.id = ids_.new_id();
    o.description = std::move(description);
    o.price = domain::Money::from_cents(1000);
    o.created = o.last_modified = clock_.now();
    return o;
  }

  ports::CreateResult create(ports::OrderStore& store, const Order& o) {
    return store.create(o, domain::order_created_event(o, ids_.new_id(), o.created), std::nullopt);
  }

  TempDir dir_;
  std::filesystem::path db_path_ = dir_.path() / "orders.db";
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_{clock_};
};

TEST_F(SqliteOrderStoreTest, OpeningRecordsEveryMigrationOnceInWalMode) {
  open().reset();
  open().reset();  // a second open applies nothing again
  RawDb raw(db_path_);
  std::vector<std::string> expected;
  for (const auto& m : adapters::sqlite::migrations())
    expected.push_back(std::to_string(m.version));
  EXPECT_EQ(raw.column("SELECT version FROM schema_migrations ORDER BY version"), expected);
  for (const std::string& applied : raw.column("SELECT applied_at FROM schema_migrations"))
    EXPECT_FALSE(applied.empty());
  EXPECT_EQ(raw.column("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  const auto tables = raw.column("SELECT name FROM sqlite_master WHERE type = 'table'");
  const std::set<std::string> names(tables.begin(), tables.end());
  for (const char* table : {"orders", "outbox", "idempotency_keys", "schema_migrations",
                            "deliveries", "fanout_cursor", "subscriptions", "notifications"})
    EXPECT_TRUE(names.contains(table)) << table;
}

TEST_F(SqliteOrderStoreTest, RefusesADatabaseWithANewerSchema) {
  open().reset();
  RawDb(db_path_).exec(
      "INSERT INTO schema_migrations(version, applied_at) VALUES (9999, 'from the future')");
  try {
    open();
    FAIL() << "opened a database with a newer schema";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
    EXPECT_NE(std::string(e.what()).find(db_path_.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteOrderStoreTest, OpenFailureIsPermanentAndNamesThePath) {
  const std::string path = (dir_.path() / "missing-dir" / "orders.db").string();
  try {
    SqliteOrderStore store(SqliteStoreOptions{path});
    FAIL() << "opened a file in a directory that does not exist";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST_F(SqliteOrderStoreTest, RejectsSettingsThatCannotWork) {
  EXPECT_THROW(SqliteOrderStore(SqliteStoreOptions{""}), InfraError);
  EXPECT_THROW(SqliteOrderStore(SqliteStoreOptions{db_path_.string(), 0, 4}), InfraError);
  EXPECT_THROW(SqliteOrderStore(SqliteStoreOptions{db_path_.string(), 256, 0}), InfraError);
}

TEST_F(SqliteOrderStoreTest, DuplicateOrderIdIsAPermanentErrorAndWritesNothing) {
  auto store = open();
  const Order o = new_order();
  ASSERT_EQ(create(*store, o).kind, ports::CreateResult::Kind::created);
  Order twin = new_order("twin");
  twin.id = o.id;
  try {
    create(*store, twin);
    FAIL() << "a second order with the same id was accepted";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
  }
  EXPECT_EQ(store->get(o.id), o);
  EXPECT_EQ(store->stats().outbox_events, 1);
}

// A permanent error is the write's own fault (here a duplicate id), not the database's: the
// store stays writable. One that passes (the file locked by another process past the busy
// timeout, as with a full disk) makes it unwritable until a write, its own probe, succeeds.
TEST_F(SqliteOrderStoreTest, WritableUntilAWriteFailsForTheDatabasesSakeAndAgainOnceOneSucceeds) {
  auto store = open();
  const Order o = new_order();
  ASSERT_EQ(create(*store, o).kind, ports::CreateResult::Kind::created);
  Order twin = new_order("twin");
  twin.id = o.id;
  EXPECT_THROW(create(*store, twin), InfraError);
  EXPECT_TRUE(store->writable()) << "a duplicate id says nothing about the database";

  RawDb other(db_path_);
  other.exec("BEGIN IMMEDIATE");  // holds the write lock
  try {
    create(*store, new_order("while locked"));
    FAIL() << "a write went through a held write lock";
  } catch (const InfraError& e) {
    EXPECT_EQ(e.kind(), InfraError::Kind::transient) << e.what();
  }
  EXPECT_FALSE(store->writable()) << "its probe write waits for the lock too, and fails";
  EXPECT_TRUE(store->ping()) << "reads still work: only writes fail";

  other.exec("ROLLBACK");
  EXPECT_TRUE(store->writable()) << "the probe write succeeds, with no other write needed";
  EXPECT_EQ(RawDb(db_path_).column("SELECT writes FROM write_probe"),
            std::vector<std::string>{"1"})
      << "the probe is a real write: the one after the lock committed, the one during it not";
  EXPECT_EQ(create(*store, new_order("after")).kind, ports::CreateResult::Kind::created);
}

// An update whose event cannot be stored (its id is already in the outbox) fails after its
// UPDATE ran; the savepoint must undo that UPDATE, while the writes batched with it commit.
TEST_F(SqliteOrderStoreTest, FailedWriteIsUndoneAloneWithinItsBatch) {
  auto store = open();
  const Order target = new_order("target");
  const domain::Event created = domain::order_created_event(target, ids_.new_id(), target.created);
  ASSERT_EQ(store->create(target, created, std::nullopt).kind, ports::CreateResult::Kind::created);

  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> bad_rejected{0};
  std::atomic<int> unexpected{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          try {
            if (create(*store, new_order()).kind != ports::CreateResult::Kind::created)
              ++unexpected;
          } catch (const std::exception&) {
            ++unexpected;
          }
        }
      });
    }
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        try {
          ports::OrderPatch patch;
          patch.description = "must not stick";
          store->update(target.id, patch, std::nullopt, clock_.now(), created.id);
          ++unexpected;
        } catch (const InfraError& e) {
          if (e.kind() == InfraError::Kind::permanent) ++bad_rejected;
        }
      }
    });
  }
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(bad_rejected.load(), kPerThread);
  EXPECT_EQ(store->get(target.id), target);
  const ports::StoreStats s = store->stats();
  EXPECT_EQ(s.orders, 1 + kThreads * kPerThread);
  EXPECT_EQ(s.outbox_events, 1 + kThreads * kPerThread);
}

TEST_F(SqliteOrderStoreTest, BatchesOfOneStillCommitEverything) {
  auto store = open(/*max_batch=*/1);
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) create(*store, new_order());
    });
  threads.clear();
  EXPECT_EQ(store->stats().orders, 100);
}

// More reading threads than read connections: each takes its turn on the one connection, none
// waits for ever (a lost wake-up would hang here), and each sees what was committed.
TEST_F(SqliteOrderStoreTest, MoreReadersThanConnectionsEachGetTheirTurn) {
  SqliteOrderStore store(SqliteStoreOptions{db_path_.string(), 256, /*read_connections=*/1});
  std::vector<Order> orders;
  for (int i = 0; i < 10; ++i) {
    orders.push_back(new_order("order " + std::to_string(i)));
    ASSERT_EQ(create(store, orders.back()).kind, ports::CreateResult::Kind::created);
  }
  std::atomic<int> wrong{0};
  std::atomic<int> reads{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          const Order& want = orders[static_cast<std::size_t>((t + i) % 10)];
          const auto got = store.get(want.id);
          if (!got || got->description != want.description) ++wrong;
          if (store.list("", 50).orders.size() < 10) ++wrong;
          reads += 2;
        }
      });
    threads.emplace_back([&] {  // a writer meanwhile: readers never wait for it
      for (int i = 0; i < 20; ++i) create(store, new_order("more"));
    });
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(reads.load(), 8 * 200 * 2);
  EXPECT_EQ(store.list("", 100).orders.size(), 30U);
}

TEST_F(SqliteOrderStoreTest, DestructorFinishesQueuedWrites) {
  std::atomic<int> acknowledged{0};
  {
    auto store = open();
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 25; ++i)
          if (create(*store, new_order()).kind == ports::CreateResult::Kind::created)
            ++acknowledged;
      });
  }
  EXPECT_EQ(acknowledged.load(), 100);
  EXPECT_EQ(open()->stats().orders, 100);
}

// A child process writes orders and reports each id once create() returned; the parent kills
// it with SIGKILL mid-stream. Every reported order must be in the file afterwards.
TEST_F(SqliteOrderStoreTest, AcknowledgedWritesSurviveKill9) {
  constexpr int kAcknowledgedBeforeKill = 150;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    close(fds[0]);
    try {
      auto store = open();
      for (;;) {  // until killed
        const Order o = new_order();
        create(*store, o);
        const std::string line = o.id + "\n";
        if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) break;
      }
    } catch (...) {
    }
    _exit(1);
  }
  close(fds[1]);
  std::vector<std::string> acknowledged;
  {
    FILE* in = fdopen(fds[0], "r");
    ASSERT_NE(in, nullptr);
    char line[128];
    while (acknowledged.size() < kAcknowledgedBeforeKill &&
           fgets(line, sizeof line, in) != nullptr) {
      std::string id(line);
      if (!id.empty() && id.back() == '\n') id.pop_back();
      acknowledged.push_back(id);
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    fclose(in);
  }
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(kAcknowledgedBeforeKill));

  auto store = open();
  for (const std::string& id : acknowledged) EXPECT_TRUE(store->get(id).has_value()) << id;
  // Each committed order came with its event, never one without the other.
  const ports::StoreStats s = store->stats();
  EXPECT_EQ(s.orders, s.outbox_events);
  EXPECT_GE(s.orders, kAcknowledgedBeforeKill);
}

// --- the four stores over one database ---

std::vector<std::string> subscribers_of_deleted(std::string_view type) {
  if (type == domain::kOrderDeleted) return {"archive", "notify"};
  return {};
}

TEST_F(SqliteOrderStoreTest, StoresOfOneDatabaseShareItsFile) {
  {
    auto stores = adapters::open_sqlite_stores({db_path_.string()});
    const Order o = new_order();
    ASSERT_EQ(create(*stores.orders, o).kind, ports::CreateResult::Kind::created);
    ASSERT_EQ(stores.orders->remove(o.id, std::nullopt, clock_.now(), ids_.new_id()).kind,
              ports::ChangeResult::Kind::done);
    // The delivery stores see the order store's outbox at once: same file.
    EXPECT_EQ(stores.queue->fan_out(subscribers_of_deleted, clock_.now(), 100), 2);
    EXPECT_EQ(stores.deliveries->delivery_stats().pending, 2);
    stores.subscriptions->subscribe("ada@example.com", clock_.now());

    // Destroyed in any order: the database lives until its last store goes.
    stores.orders.reset();
    EXPECT_EQ(stores.deliveries->redrive_all_dead(clock_.now()), 0);
    stores.deliveries.reset();
    EXPECT_EQ(stores.queue->release("nobody", clock_.now()), 0);
    stores.queue.reset();
    EXPECT_TRUE(stores.subscriptions->confirm("ada@example.com", clock_.now()));
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_TRUE(entry.path().filename().string().starts_with("orders.db")) << entry.path();
  RawDb raw(db_path_);
  EXPECT_EQ(raw.column("SELECT count(*) FROM deliveries"), std::vector<std::string>{"2"});
  EXPECT_EQ(raw.column("SELECT state FROM subscriptions"), std::vector<std::string>{"confirmed"});
}

TEST_F(SqliteOrderStoreTest, WritesOfAllStoresShareTheGroupCommitWriter) {
  auto stores = adapters::open_sqlite_stores({db_path_.string(), 256, 2});
  constexpr int kPerThread = 30;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          const Order o = new_order();
          create(*stores.orders, o);
          stores.orders->remove(o.id, std::nullopt, clock_.now(), ids_.new_id());
        }
      });
    threads.emplace_back([&] {
      for (int i = 0; i < 3 * kPerThread; ++i)
        stores.queue->fan_out(subscribers_of_deleted, clock_.now(), 5);
    });
    threads.emplace_back([&] {
      for (int i = 0; i < 3 * kPerThread; ++i)
        stores.subscriptions->subscribe("user" + std::to_string(i) + "@example.com", clock_.now());
    });
  }
  while (stores.queue->fan_out(subscribers_of_deleted, clock_.now(), 100) > 0) {
  }
  const ports::DeliveryStats s = stores.deliveries->delivery_stats();
  EXPECT_EQ(s.pending, 2 * 3 * kPerThread);  // two subscribers of each deletion
  EXPECT_EQ(s.fanned_out_seq, stores.orders->stats().outbox_last_seq);
  EXPECT_EQ(stores.orders->stats().outbox_events, 2 * 3 * kPerThread);
  EXPECT_EQ(stores.subscriptions->confirmed("", 1000).size(), 0u);
  EXPECT_EQ(stores.subscriptions->state("user89@example.com"), ports::SubscriberState::pending);
}

// The subscribers callback runs inside the fan-out's transaction: when it throws, nothing of
// that fan-out is kept and the cursor stays, so the next fan-out does the whole work.
TEST_F(SqliteOrderStoreTest, FailedFanOutWritesNothing) {
  auto stores = adapters::open_sqlite_stores({db_path_.string()});
  for (int i = 0; i < 3; ++i) {
    const Order o = new_order();
    create(*stores.orders, o);
    stores.orders->remove(o.id, std::nullopt, clock_.now(), ids_.new_id());
  }
  int calls = 0;
  const auto fails_on_second_type = [&](std::string_view type) -> std::vector<std::string> {
    if (++calls == 2) throw std::runtime_error("subscription table unavailable");
    return subscribers_of_deleted(type);
  };
  EXPECT_THROW(stores.queue->fan_out(fails_on_second_type, clock_.now(), 100), std::runtime_error);
  EXPECT_EQ(stores.deliveries->delivery_stats().fanned_out_seq, 0);
  EXPECT_EQ(stores.deliveries->delivery_stats().pending, 0);
  EXPECT_EQ(stores.queue->fan_out(subscribers_of_deleted, clock_.now(), 100), 6);
  EXPECT_EQ(stores.deliveries->delivery_stats().pending, 6);
}

// A file written by a binary that knew only migration 1 gets migration 2 at open, and its
// existing events are fanned out (the cursor starts before them).
TEST_F(SqliteOrderStoreTest, UpgradesAVersionOneFileAndDeliversItsEvents) {
  {
    RawDb raw(db_path_);
    raw.exec("PRAGMA journal_mode=WAL");
    raw.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)");
    raw.exec(adapters::sqlite::migrations()[0].sql);
    raw.exec("INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z')");
    raw.exec(
        "INSERT INTO outbox(event_id, type, subject, time_us, data) VALUES "
        "('e-1', 'orderflow.order.deleted', 'o-1', 1000000, '{}')");
  }
  auto stores = adapters::open_sqlite_stores({db_path_.string()});
  EXPECT_EQ(stores.queue->fan_out(subscribers_of_deleted, clock_.now(), 100), 1);
  const auto due = stores.queue->claim("archive", "worker", clock_.now(), clock_.now() + 1min, 100);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].event.id, "e-1");
  EXPECT_EQ(due[0].event.time, domain::Timestamp{std::chrono::seconds{1}});
  RawDb raw(db_path_);
  EXPECT_EQ(raw.column("SELECT version FROM schema_migrations ORDER BY version"),
            (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"}));
}

TEST_F(SqliteOrderStoreTest, DeliveryStatesOutsideTheSchemaAreRejected) {
  open().reset();
  RawDb raw(db_path_);
  raw.exec(
      "INSERT INTO outbox(event_id, type, subject, time_us, data) VALUES "
      "('e-1', 'orderflow.order.deleted', 'o-1', 1, '{}')");
  EXPECT_THROW(raw.exec("INSERT INTO deliveries(event_seq, subscription, state, attempts, "
                        "next_attempt_us, updated_us) VALUES (1, 'archive', 'lost', 0, 0, 0)"),
               std::runtime_error);
  EXPECT_THROW(raw.exec("INSERT INTO fanout_cursor(id, seq) VALUES (2, 0)"), std::runtime_error);
  raw.exec(
      "INSERT INTO deliveries(event_seq, subscription, state, attempts, next_attempt_us, "
      "updated_us) VALUES (1, 'archive', 'pending', 0, 0, 0)");
  EXPECT_THROW(raw.exec("INSERT INTO deliveries(event_seq, subscription, state, attempts, "
                        "next_attempt_us, updated_us) VALUES (1, 'archive', 'pending', 0, 0, 0)"),
               std::runtime_error);
}

// A file written by a binary that knew migrations 1-3 gets migration 4 at open: its notices
// stay sent, and its pending deliveries are claimable (nobody holds them).
TEST_F(SqliteOrderStoreTest, UpgradesAVersionThreeFileKeepingItsNoticesSent) {
  {
    RawDb raw(db_path_);
    raw.exec("PRAGMA journal_mode=WAL");
    raw.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)");
    for (int v = 1; v <= 3; ++v) {
      raw.exec(adapters::sqlite::migrations()[static_cast<std::size_t>(v - 1)].sql);
      raw.exec("INSERT INTO schema_migrations VALUES (" + std::to_string(v) +
               ", '2026-01-01T00:00:00Z')");
    }
    raw.exec(
        "INSERT INTO outbox(event_id, type, subject, time_us, data) VALUES "
        "('e-1', 'orderflow.order.deleted', 'o-1', 1000000, '{}')");
    raw.exec(
        "INSERT INTO deliveries(event_seq, subscription, state, attempts, next_attempt_us, "
        "updated_us) VALUES (1, 'archive', 'pending', 0, 1000000, 1000000)");
    raw.exec("UPDATE fanout_cursor SET seq = 1");
    raw.exec("INSERT INTO notifications VALUES ('e-1', 'ada@example.com', 2000000)");
  }
  auto stores = adapters::open_sqlite_stores({db_path_.string()});
  const auto now = clock_.now();
  EXPECT_TRUE(stores.subscriptions->notice_sent("e-1", "Ada@example.com"));
  EXPECT_EQ(stores.subscriptions->claim_notice("e-1", "ada@example.com", now, now + 1min),
            ports::NoticeClaim::sent);
  EXPECT_EQ(stores.subscriptions->claim_notice("e-1", "bob@example.com", now, now + 1min),
            ports::NoticeClaim::claimed);
  EXPECT_EQ(stores.queue->release("", now), 0);  // "" is nobody's claim
  const auto claimed = stores.queue->claim("archive", "worker", now, now + 1min, 100);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].event.id, "e-1");
  EXPECT_EQ(stores.queue->release("worker", now), 1);
  RawDb raw(db_path_);
  EXPECT_EQ(raw.column("SELECT version FROM schema_migrations ORDER BY version"),
            (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"}));
  EXPECT_EQ(raw.column("SELECT state FROM notifications ORDER BY email_key"),
            (std::vector<std::string>{"sent", "claimed"}));
  EXPECT_THROW(raw.exec("INSERT INTO notifications(event_id, email_key, state, lease_until_us) "
                        "VALUES ('e-2', 'ada@example.com', 'lost', 0)"),
               std::runtime_error);
}

// on_commit is what wakes the dispatcher: new events, fan-outs and redrives that changed
// something call it; claims, marks, releases and writes that changed nothing do not.
TEST_F(SqliteOrderStoreTest, OnCommitFiresForNewEventsFanOutsAndRedrives) {
  auto stores = adapters::open_sqlite_stores({db_path_.string()});
  std::atomic<int> commits{0};
  stores.orders->on_commit([&] { ++commits; });
  const auto now = clock_.now();

  const Order o = new_order();
  ASSERT_EQ(create(*stores.orders, o).kind, ports::CreateResult::Kind::created);
  ASSERT_EQ(stores.orders->remove(o.id, std::nullopt, now, ids_.new_id()).kind,
            ports::ChangeResult::Kind::done);
  EXPECT_EQ(commits.load(), 2);
  EXPECT_EQ(stores.queue->fan_out(subscribers_of_deleted, now, 100), 2);
  EXPECT_EQ(commits.load(), 3);
  EXPECT_EQ(stores.queue->fan_out(subscribers_of_deleted, now, 100), 0);

  const auto claimed = stores.queue->claim("archive", "worker", now, now + 1min, 100);
  ASSERT_EQ(claimed.size(), 1u);
  stores.queue->mark_failed(claimed[0].id, "boom", std::nullopt, now);
  EXPECT_EQ(stores.queue->release("worker", now), 0);
  EXPECT_EQ(commits.load(), 3);

  EXPECT_TRUE(stores.deliveries->redrive(claimed[0].id, now));
  EXPECT_EQ(commits.load(), 4);
  EXPECT_FALSE(stores.deliveries->redrive(claimed[0].id, now));
  EXPECT_EQ(stores.deliveries->redrive_all_dead(now), 0);
  EXPECT_EQ(commits.load(), 4);
  ASSERT_EQ(stores.queue->claim("archive", "worker", now, now + 1min, 100).size(), 1u);
  stores.queue->mark_failed(claimed[0].id, "boom", std::nullopt, now);
  EXPECT_EQ(stores.deliveries->redrive_all_dead(now), 1);
  EXPECT_EQ(commits.load(), 5);
  stores.orders->on_commit({});
}

}  // namespace
}  // namespace orderflow::testing
