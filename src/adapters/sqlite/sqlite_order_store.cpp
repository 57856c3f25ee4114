// Map: free functions at the top do one SQL job each on a given connection (apply_* run on the
// writer thread inside a batch); ReaderPool lends read-only connections; Impl owns the write
// connection, the writer thread and its queue (group commit); the public methods at the bottom
// either borrow a reader or enqueue a write and wait for its commit.
#include "adapters/sqlite/sqlite_order_store.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <span>
#include <thread>
#include <utility>

#include "adapters/sqlite/migrations.hpp"
#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters {
namespace {

using ports::InfraError;
using sqlite::Connection;
using sqlite::Query;

constexpr int kBusyTimeoutMs = 5000;

std::int64_t to_us(domain::Timestamp t) { return t.time_since_epoch().count(); }
domain::Timestamp from_us(std::int64_t us) {
  return domain::Timestamp{std::chrono::microseconds{us}};
}

constexpr std::string_view kSelectOrder =
    "SELECT id, description, price_cents, created_us, modified_us, version, image_key, "
    "detected_labels, validation_status FROM orders WHERE id = ?1";
constexpr std::string_view kListOrders =
    "SELECT id, description, price_cents, created_us, modified_us, version, image_key, "
    "detected_labels, validation_status FROM orders WHERE id > ?1 ORDER BY id LIMIT ?2";

domain::Order order_from_row(const Query& q) {
  domain::Order o;
  o.id = q.text(0);
  o.description = q.text(1);
  o.price = domain::Money::from_cents(q.int64(2));
  o.created = from_us(q.int64(3));
  o.last_modified = from_us(q.int64(4));
  o.version = q.int64(5);
  o.image_key = q.text(6);
  o.detected_labels = q.text(7);
  o.validation_status = q.text(8);
  return o;
}

std::optional<domain::Order> find_order(Connection& db, std::string_view id) {
  auto q = db.query(kSelectOrder);
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return order_from_row(q);
}

void append_event(Connection& db, const domain::Event& e) {
  db.query("INSERT INTO outbox(event_id, type, subject, time_us, data) VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind(1, e.id)
      .bind(2, e.type)
      .bind(3, e.subject)
      .bind(4, to_us(e.time))
      .bind(5, e.data)
      .run();
}

struct StoredClaim {
  std::string fingerprint;
  std::string order_id;
  std::int64_t created_us;
};

std::optional<StoredClaim> find_claim(Connection& db, std::string_view key) {
  auto q =
      db.query("SELECT fingerprint, order_id, created_us FROM idempotency_keys WHERE key = ?1");
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  return StoredClaim{q.text(0), q.text(1), q.int64(2)};
}

ports::CreateResult apply_create(Connection& db, const domain::Order& order,
                                 const domain::Event& created_event,
                                 const std::optional<ports::IdempotencyClaim>& claim) {
  using Kind = ports::CreateResult::Kind;
  if (claim) {
    // A claim older than not_before has expired: it is overwritten below as if absent.
    const auto stored = find_claim(db, claim->key);
    if (stored && stored->created_us >= to_us(claim->not_before)) {
      if (stored->fingerprint != claim->fingerprint) return {Kind::key_conflict, {}};
      auto first = find_order(db, stored->order_id);
      if (!first) {  // created, then deleted: the caller still learns which order it was
        first.emplace();
        first->id = stored->order_id;
      }
      return {Kind::replayed, std::move(*first)};
    }
  }
  db.query(
        "INSERT INTO orders(id, description, price_cents, created_us, modified_us, version, "
        "image_key, detected_labels, validation_status) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
      .bind(1, order.id)
      .bind(2, order.description)
      .bind(3, order.price.cents())
      .bind(4, to_us(order.created))
      .bind(5, to_us(order.last_modified))
      .bind(6, order.version)
      .bind(7, order.image_key)
      .bind(8, order.detected_labels)
      .bind(9, order.validation_status)
      .run();
  append_event(db, created_event);
  if (claim) {
    db.query(
          "INSERT INTO idempotency_keys(key, fingerprint, order_id, created_us) "
          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET "
          "fingerprint = excluded.fingerprint, order_id = excluded.order_id, "
          "created_us = excluded.created_us")
        .bind(1, claim->key)
        .bind(2, claim->fingerprint)
        .bind(3, order.id)
        .bind(4, to_us(order.created))
        .run();
  }
  return {Kind::created, order};
}

bool version_matches(std::optional<std::int64_t> expected, std::int64_t actual) {
  return !expected || *expected == 0 || *expected == actual;  // 0 is If-Match: *
}

ports::ChangeResult apply_update(Connection& db, std::string_view order_id,
                                 const ports::OrderPatch& patch,
                                 std::optional<std::int64_t> expected_version, domain::Timestamp at,
                                 const std::string& event_id) {
  using Kind = ports::ChangeResult::Kind;
  auto before = find_order(db, order_id);
  if (!before) return {Kind::not_found, {}};
  if (!version_matches(expected_version, before->version))
    return {Kind::version_mismatch, std::move(*before)};
  domain::Order after = *before;
  if (patch.description) after.description = *patch.description;
  if (patch.price) after.price = *patch.price;
  after.version += 1;
  after.last_modified = at;
  db.query(
        "UPDATE orders SET description = ?2, price_cents = ?3, modified_us = ?4, version = ?5 "
        "WHERE id = ?1")
      .bind(1, after.id)
      .bind(2, after.description)
      .bind(3, after.price.cents())
      .bind(4, to_us(after.last_modified))
      .bind(5, after.version)
      .run();
  append_event(db, domain::order_updated_event(*before, after, event_id, at));
  return {Kind::done, std::move(after)};
}

ports::ChangeResult apply_remove(Connection& db, std::string_view order_id,
                                 std::optional<std::int64_t> expected_version, domain::Timestamp at,
                                 const std::string& event_id) {
  using Kind = ports::ChangeResult::Kind;
  auto order = find_order(db, order_id);
  if (!order) return {Kind::not_found, {}};
  if (!version_matches(expected_version, order->version))
    return {Kind::version_mismatch, std::move(*order)};
  db.query("DELETE FROM orders WHERE id = ?1").bind(1, order->id).run();
  append_event(db, domain::order_deleted_event(*order, event_id, at));
  return {Kind::done, std::move(*order)};
}

// Read-only connections lent to one thread at a time. WAL readers see the last commit and
// never block on the writer.
class ReaderPool {
 public:
  ReaderPool(const std::string& path, int size) {
    for (int i = 0; i < size; ++i) {
      all_.push_back(std::make_unique<Connection>(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                                                  kBusyTimeoutMs));
      idle_.push_back(all_.back().get());
    }
  }

  class Lease {
   public:
    Lease(ReaderPool& pool, Connection& db) : pool_(pool), db_(db) {}
    ~Lease() { pool_.give_back(db_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() const { return db_; }
    Connection* operator->() const { return &db_; }

   private:
    ReaderPool& pool_;
    Connection& db_;
  };

  Lease acquire() {
    std::unique_lock lock(mu_);
    idle_available_.wait(lock, [&] { return !idle_.empty(); });
    Connection* db = idle_.back();
    idle_.pop_back();
    return Lease(*this, *db);
  }

 private:
  void give_back(Connection& db) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(&db);
    }
    idle_available_.notify_one();
  }

  std::vector<std::unique_ptr<Connection>> all_;
  std::mutex mu_;
  std::condition_variable idle_available_;
  std::vector<Connection*> idle_;  // guarded by mu_
};

}  // namespace

class SqliteOrderStore::Impl {
 public:
  explicit Impl(SqliteStoreOptions options);
  ~Impl();

  // Runs `apply` on the writer thread inside the next batch's transaction and returns once
  // that batch is committed; `apply` returns true when it appended an event. Rethrows the
  // op's InfraError when it, or the batch's commit, failed.
  void write(std::function<bool(Connection&)> apply);
  ReaderPool::Lease reader() { return readers_->acquire(); }
  void set_on_commit(std::function<void()> callback) {
    std::lock_guard lock(on_commit_mu_);
    on_commit_ = std::move(callback);
  }

 private:
  struct WriteOp {
    std::function<bool(Connection&)> apply;
    std::exception_ptr error;
    std::promise<void> done;
  };

  void writer_loop();
  void run_batch(std::span<WriteOp* const> batch);
  void notify_commit();

  const SqliteStoreOptions options_;
  std::unique_ptr<Connection> write_db_;  // used only by the writer thread once it runs
  std::unique_ptr<ReaderPool> readers_;   // declared after write_db_: closed before it

  std::mutex queue_mu_;
  std::condition_variable queue_ready_;
  std::deque<WriteOp*> queue_;  // guarded by queue_mu_; each op lives on its waiting caller's stack
  bool stopping_ = false;       // guarded by queue_mu_

  std::mutex on_commit_mu_;
  std::function<void()> on_commit_;  // guarded by on_commit_mu_

  std::thread writer_;  // started last, joined first
};

SqliteOrderStore::Impl::Impl(SqliteStoreOptions options) : options_(std::move(options)) {
  const std::string& path = options_.path;
  const auto fail = [&](const std::string& why) {
    throw InfraError(InfraError::Kind::permanent,
                     "cannot open the SQLite store '" + path + "': " + why);
  };
  if (path.empty() || path == ":memory:")
    fail("the path must name a file (readers and the writer share it)");
  if (options_.max_batch < 1) fail("max_batch must be at least 1");
  if (options_.read_connections < 1) fail("read_connections must be at least 1");
  try {
    write_db_ = std::make_unique<Connection>(
        path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, kBusyTimeoutMs);
    {
      auto q = write_db_->query("PRAGMA journal_mode=WAL");
      if (!q.step() || q.text(0) != "wal")
        throw InfraError(InfraError::Kind::permanent, "WAL journal mode is not available");
    }
    sqlite::migrate(*write_db_);
    readers_ = std::make_unique<ReaderPool>(path, options_.read_connections);
  } catch (const InfraError& e) {
    fail(e.what());
  }
  writer_ = std::thread([this] { writer_loop(); });
}

SqliteOrderStore::Impl::~Impl() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_ready_.notify_one();
  writer_.join();
}

void SqliteOrderStore::Impl::write(std::function<bool(Connection&)> apply) {
  WriteOp op{std::move(apply), nullptr, {}};
  std::future<void> committed = op.done.get_future();
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) throw InfraError(InfraError::Kind::permanent, "the SQLite store is closing");
    queue_.push_back(&op);
  }
  queue_ready_.notify_one();
  committed.get();
  if (op.error) std::rethrow_exception(op.error);
}

void SqliteOrderStore::Impl::writer_loop() {
  const auto max_batch = static_cast<std::size_t>(options_.max_batch);
  std::vector<WriteOp*> batch;
  batch.reserve(max_batch);
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      while (!queue_.empty() && batch.size() < max_batch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

void SqliteOrderStore::Impl::run_batch(std::span<WriteOp* const> batch) {
  Connection& db = *write_db_;
  bool appended = false;
  try {
    db.query("BEGIN IMMEDIATE").run();
    for (WriteOp* op : batch) {
      // A savepoint per op: one failing write is undone alone, the others still commit.
      db.query("SAVEPOINT op").run();
      try {
        const bool op_appended = op->apply(db);
        db.query("RELEASE op").run();
        appended = appended || op_appended;
      } catch (...) {
        op->error = std::current_exception();
        // After some errors (IOERR, FULL, NOMEM) SQLite has already rolled back the whole
        // transaction, taking the ops before this one with it.
        if (!db.in_transaction())
          throw InfraError(InfraError::Kind::transient,
                           "SQLite rolled the transaction back after another write failed");
        db.query("ROLLBACK TO op").run();
        db.query("RELEASE op").run();
      }
    }
    db.query("COMMIT").run();
  } catch (const std::exception& e) {
    if (db.in_transaction()) sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    const auto error = std::make_exception_ptr(InfraError(
        InfraError::Kind::transient, std::string("SQLite: write not committed: ") + e.what()));
    for (WriteOp* op : batch)
      if (!op->error) op->error = error;
    appended = false;
  }
  if (appended) notify_commit();
  // The last touch of each op: once released, its caller returns and the op is gone.
  for (WriteOp* op : batch) op->done.set_value();
}

void SqliteOrderStore::Impl::notify_commit() {
  std::lock_guard lock(on_commit_mu_);
  if (!on_commit_) return;
  try {
    on_commit_();
  } catch (...) {
    // A throwing callback must not take down the writer; the events are committed and a
    // dispatcher also polls the outbox, so a missed nudge only delays delivery.
  }
}

SqliteOrderStore::SqliteOrderStore(SqliteStoreOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SqliteOrderStore::~SqliteOrderStore() = default;

ports::CreateResult SqliteOrderStore::create(const domain::Order& order,
                                             const domain::Event& created_event,
                                             const std::optional<ports::IdempotencyClaim>& claim) {
  ports::CreateResult result{ports::CreateResult::Kind::created, {}};
  impl_->write([&](Connection& db) {
    result = apply_create(db, order, created_event, claim);
    return result.kind == ports::CreateResult::Kind::created;
  });
  return result;
}

std::optional<domain::Order> SqliteOrderStore::get(std::string_view order_id) {
  auto db = impl_->reader();
  return find_order(*db, order_id);
}

ports::OrderPage SqliteOrderStore::list(std::string_view after_id, int limit) {
  const auto wanted = static_cast<std::size_t>(std::max(limit, 0));
  ports::OrderPage page;
  auto db = impl_->reader();
  auto q = db->query(kListOrders);
  q.bind(1, after_id).bind(2, static_cast<std::int64_t>(wanted) + 1);  // one more: has_more
  while (q.step()) {
    if (page.orders.size() == wanted) {
      page.has_more = true;
      break;
    }
    page.orders.push_back(order_from_row(q));
  }
  return page;
}

ports::ChangeResult SqliteOrderStore::update(std::string_view order_id,
                                             const ports::OrderPatch& patch,
                                             std::optional<std::int64_t> expected_version,
                                             domain::Timestamp at, std::string event_id) {
  ports::ChangeResult result{ports::ChangeResult::Kind::not_found, {}};
  impl_->write([&](Connection& db) {
    result = apply_update(db, order_id, patch, expected_version, at, event_id);
    return result.kind == ports::ChangeResult::Kind::done;
  });
  return result;
}

ports::ChangeResult SqliteOrderStore::remove(std::string_view order_id,
                                             std::optional<std::int64_t> expected_version,
                                             domain::Timestamp at, std::string event_id) {
  ports::ChangeResult result{ports::ChangeResult::Kind::not_found, {}};
  impl_->write([&](Connection& db) {
    result = apply_remove(db, order_id, expected_version, at, event_id);
    return result.kind == ports::ChangeResult::Kind::done;
  });
  return result;
}

std::vector<ports::OutboxRecord> SqliteOrderStore::read_outbox(std::int64_t after_seq, int limit) {
  std::vector<ports::OutboxRecord> records;
  if (limit <= 0) return records;
  auto db = impl_->reader();
  auto q = db->query(
      "SELECT seq, event_id, type, subject, time_us, data FROM outbox "
      "WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  q.bind(1, after_seq).bind(2, std::int64_t{limit});
  while (q.step()) {
    records.push_back(ports::OutboxRecord{
        q.int64(0),
        domain::Event{q.text(1), q.text(2), q.text(3), from_us(q.int64(4)), q.text(5)}});
  }
  return records;
}

void SqliteOrderStore::on_commit(std::function<void()> callback) {
  impl_->set_on_commit(std::move(callback));
}

bool SqliteOrderStore::ping() {
  try {
    auto db = impl_->reader();
    auto q = db->query("SELECT 1");
    return q.step() && q.int64(0) == 1;
  } catch (const InfraError&) {
    return false;
  }
}

ports::StoreStats SqliteOrderStore::stats() {
  auto db = impl_->reader();
  // One statement, so the three numbers come from one snapshot.
  auto q = db->query(
      "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM outbox), "
      "(SELECT coalesce(max(seq), 0) FROM outbox)");
  ports::StoreStats s;
  if (q.step()) {
    s.orders = q.int64(0);
    s.outbox_events = q.int64(1);
    s.outbox_last_seq = q.int64(2);
  }
  return s;
}

}  // namespace orderflow::adapters
