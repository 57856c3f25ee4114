// Map: free functions at the top do one SQL job each on a given connection (apply_* run on the
// writer thread inside a batch); the public methods at the bottom either read on a pooled
// connection or hand a write to the database's writer and wait for its commit.
#include "adapters/sqlite/sqlite_order_store.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters {
namespace {

using ports::InfraError;
using sqlite::Connection;
using sqlite::from_us;
using sqlite::Query;
using sqlite::to_us;

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

ports::ChangeResult apply_update(Connection& db, std::string_view order_id,
                                 const ports::OrderPatch& patch,
                                 std::optional<std::int64_t> expected_version, domain::Timestamp at,
                                 const std::string& event_id) {
  using Kind = ports::ChangeResult::Kind;
  auto before = find_order(db, order_id);
  if (!before) return {Kind::not_found, {}};
  if (!ports::version_matches(expected_version, before->version))
    return {Kind::version_mismatch, std::move(*before)};
  domain::Order after = ports::patched(*before, patch, at);
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
  if (!ports::version_matches(expected_version, order->version))
    return {Kind::version_mismatch, std::move(*order)};
  db.query("DELETE FROM orders WHERE id = ?1").bind(1, order->id).run();
  append_event(db, domain::order_deleted_event(*order, event_id, at));
  return {Kind::done, std::move(*order)};
}

}  // namespace

SqliteOrderStore::SqliteOrderStore(SqliteStoreOptions options)
    : SqliteOrderStore(std::make_shared<SqliteDatabase>(std::move(options))) {}

SqliteOrderStore::SqliteOrderStore(std::shared_ptr<SqliteDatabase> database)
    : db_(std::move(database)) {}

SqliteOrderStore::~SqliteOrderStore() = default;

ports::CreateResult SqliteOrderStore::create(const domain::Order& order,
                                             const domain::Event& created_event,
                                             const std::optional<ports::IdempotencyClaim>& claim) {
  ports::CreateResult result{ports::CreateResult::Kind::created, {}};
  db_->write([&](Connection& db) {
    result = apply_create(db, order, created_event, claim);
    return result.kind == ports::CreateResult::Kind::created;
  });
  return result;
}

void SqliteOrderStore::create_async(const domain::Order& order, const domain::Event& created_event,
                                    const std::optional<ports::IdempotencyClaim>& claim,
                                    CreateDone done) {
  auto pending = std::make_shared<PendingCreate>(
      PendingCreate{order, created_event, claim, std::move(done), {}});
  db_->write_async(
      [pending](Connection& db) {
        pending->result = apply_create(db, pending->order, pending->event, pending->claim);
        return pending->result.kind == ports::CreateResult::Kind::created;
      },
      [pending](std::exception_ptr error) { pending->finish(std::move(error)); });
}

std::optional<domain::Order> SqliteOrderStore::get(std::string_view order_id) {
  std::optional<domain::Order> order;
  db_->read([&](Connection& db) { order = find_order(db, order_id); });
  return order;
}

ports::OrderPage SqliteOrderStore::list(std::string_view after_id, int limit) {
  const auto wanted = static_cast<std::size_t>(std::max(limit, 0));
  ports::OrderPage page;
  page.orders.reserve(std::min<std::size_t>(wanted, 1000));
  db_->read([&](Connection& db) {
    auto q = db.query(kListOrders);
    q.bind(1, after_id).bind(2, static_cast<std::int64_t>(wanted) + 1);  // one more: has_more
    while (q.step()) {
      if (page.orders.size() == wanted) {
        page.has_more = true;
        break;
      }
      page.orders.push_back(order_from_row(q));
    }
  });
  return page;
}

ports::ChangeResult SqliteOrderStore::update(std::string_view order_id,
                                             const ports::OrderPatch& patch,
                                             std::optional<std::int64_t> expected_version,
                                             domain::Timestamp at, std::string event_id) {
  ports::ChangeResult result{ports::ChangeResult::Kind::not_found, {}};
  db_->write([&](Connection& db) {
    result = apply_update(db, order_id, patch, expected_version, at, event_id);
    return result.kind == ports::ChangeResult::Kind::done;
  });
  return result;
}

ports::ChangeResult SqliteOrderStore::remove(std::string_view order_id,
                                             std::optional<std::int64_t> expected_version,
                                             domain::Timestamp at, std::string event_id) {
  ports::ChangeResult result{ports::ChangeResult::Kind::not_found, {}};
  db_->write([&](Connection& db) {
    result = apply_remove(db, order_id, expected_version, at, event_id);
    return result.kind == ports::ChangeResult::Kind::done;
  });
  return result;
}

std::vector<ports::OutboxRecord> SqliteOrderStore::read_outbox(std::int64_t after_seq, int limit) {
  std::vector<ports::OutboxRecord> records;
  if (limit <= 0) return records;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT seq, event_id, type, subject, time_us, data FROM outbox "
        "WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    q.bind(1, after_seq).bind(2, std::int64_t{limit});
    while (q.step()) {
      records.push_back(ports::OutboxRecord{
          q.int64(0),
          domain::Event{q.text(1), q.text(2), q.text(3), from_us(q.int64(4)), q.text(5)}});
    }
  });
  return records;
}

void SqliteOrderStore::on_commit(std::function<void()> callback) {
  db_->set_on_commit(std::move(callback));
}

bool SqliteOrderStore::ping() {
  bool answered = false;
  try {
    db_->read([&](Connection& db) {
      auto q = db.query("SELECT 1");
      answered = q.step() && q.int64(0) == 1;
    });
  } catch (const InfraError&) {
    return false;
  }
  return answered;
}

ports::StoreStats SqliteOrderStore::stats() {
  ports::StoreStats s;
  db_->read([&](Connection& db) {
    // One statement, so the three numbers come from one snapshot.
    auto q = db.query(
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM outbox), "
        "(SELECT coalesce(max(seq), 0) FROM outbox)");
    if (q.step()) {
      s.orders = q.int64(0);
      s.outbox_events = q.int64(1);
      s.outbox_last_seq = q.int64(2);
    }
  });
  return s;
}

}  // namespace orderflow::adapters
