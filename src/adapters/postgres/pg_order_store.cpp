// Map: free functions at the top do one SQL job each on a given connection (apply_* run on a
// writer thread inside a batch, and hand their events, and new orders, to the batch through
// Database::Appends); the public methods at the bottom either read on a pooled connection or
// hand a write to the writers and wait.
#include "adapters/postgres/pg_order_store.hpp"

#include <algorithm>
#include <memory>
#include <utility>

namespace orderflow::adapters::pg {
namespace {

using ports::InfraError;

constexpr std::string_view kSelectOrder =
    "SELECT id, description, price_cents, created_us, modified_us, version, image_key, "
    "detected_labels, validation_status FROM orders WHERE id = $1";
constexpr std::string_view kListOrders =
    "SELECT id, description, price_cents, created_us, modified_us, version, image_key, "
    "detected_labels, validation_status FROM orders WHERE id > $1 ORDER BY id LIMIT $2";

constexpr std::string_view kLockOrder = " FOR UPDATE";
// New orders of a whole batch in one statement (Database::Appends); every column as text.
constexpr Database::Appends::Insert kInsertOrders{
    "INSERT INTO orders (id, description, price_cents, created_us, modified_us, version,"
    " image_key, detected_labels, validation_status) "
    "SELECT i, d, p::bigint, c::bigint, m::bigint, v::bigint, k, l, s FROM unnest($1::text[],"
    " $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
    " $9::text[]) AS r(i, d, p, c, m, v, k, l, s)",
    9};
// An order created under an idempotency key, and the key, in one statement; a claim that had
// expired is taken over.
constexpr std::string_view kInsertOrderWithKey =
    "WITH new_order AS ("
    " INSERT INTO orders (id, description, price_cents, created_us, modified_us, version,"
    " image_key, detected_labels, validation_status)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)) "
    "INSERT INTO idempotency_keys (key, fingerprint, order_id, created_us) VALUES ($10, $11, $1, "
    "$4) ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,"
    " order_id = excluded.order_id, created_us = excluded.created_us";
// Writers of one key queue behind each other until the first commits (a key space of its own:
// two-int advisory keys never meet the outbox lock's bigint key).
constexpr std::string_view kLockKey = "SELECT pg_advisory_xact_lock(7, hashtext($1))";
constexpr std::string_view kUpdateOrder =
    "UPDATE orders SET description = $2, price_cents = $3, modified_us = $4, version = $5"
    " WHERE id = $1";
constexpr std::string_view kDeleteOrder = "DELETE FROM orders WHERE id = $1";

domain::Order order_from_row(const Result& r, int row) {
  domain::Order o;
  o.id = r.text(row, 0);
  o.description = r.text(row, 1);
  o.price = domain::Money::from_cents(r.int64(row, 2));
  o.created = from_us(r.int64(row, 3));
  o.last_modified = from_us(r.int64(row, 4));
  o.version = r.int64(row, 5);
  o.image_key = r.text(row, 6);
  o.detected_labels = r.text(row, 7);
  o.validation_status = r.text(row, 8);
  return o;
}

std::optional<domain::Order> find_order(Connection& db, std::string_view id) {
  const Result r = db.query(kSelectOrder, id);
  if (r.rows() == 0) return std::nullopt;
  return order_from_row(r, 0);
}

// The order, locked until the batch commits: a concurrent change of it (another batch, another
// process) waits, and then reads what this one wrote.
std::optional<domain::Order> find_order_for_update(Connection& db, std::string_view id) {
  static const std::string sql = std::string(kSelectOrder) + std::string(kLockOrder);
  const Result r = db.query(sql, id);
  if (r.rows() == 0) return std::nullopt;
  return order_from_row(r, 0);
}

ports::CreateResult apply_create(Connection& db, Database::Appends& appends,
                                 const domain::Order& order, const domain::Event& e,
                                 const std::optional<ports::IdempotencyClaim>& claim) {
  using Kind = ports::CreateResult::Kind;
  if (claim) {
    db.query(kLockKey, claim->key);
    // A claim older than not_before has expired: it is overwritten below as if absent.
    const Result r =
        db.query("SELECT fingerprint, order_id, created_us FROM idempotency_keys WHERE key = $1",
                 claim->key);
    if (r.rows() == 1 && r.int64(0, 2) >= to_us(claim->not_before)) {
      if (r.text(0, 0) != claim->fingerprint) return {Kind::key_conflict, {}};
      const std::string first_id = r.text(0, 1);
      auto first = find_order(db, first_id);
      if (!first) {  // created, then deleted: the caller still learns which order it was
        first.emplace();
        first->id = first_id;
      }
      return {Kind::replayed, std::move(*first)};
    }
    db.query(kInsertOrderWithKey, order.id, order.description, order.price.cents(),
             to_us(order.created), to_us(order.last_modified), order.version, order.image_key,
             order.detected_labels, order.validation_status, claim->key, claim->fingerprint);
  } else {
    // Nothing to read first: the row goes in with the rest of the batch's new orders.
    appends.insert(kInsertOrders,
                   {order.id, order.description, std::to_string(order.price.cents()),
                    std::to_string(to_us(order.created)),
                    std::to_string(to_us(order.last_modified)), std::to_string(order.version),
                    order.image_key, order.detected_labels, order.validation_status});
  }
  appends.event(e);
  return {Kind::created, order};
}

ports::ChangeResult apply_update(Connection& db, Database::Appends& appends,
                                 std::string_view order_id, const ports::OrderPatch& patch,
                                 std::optional<std::int64_t> expected_version, domain::Timestamp at,
                                 const std::string& event_id) {
  using Kind = ports::ChangeResult::Kind;
  auto before = find_order_for_update(db, order_id);
  if (!before) return {Kind::not_found, {}};
  if (!ports::version_matches(expected_version, before->version))
    return {Kind::version_mismatch, std::move(*before)};
  domain::Order after = ports::patched(*before, patch, at);
  db.query(kUpdateOrder, after.id, after.description, after.price.cents(),
           to_us(after.last_modified), after.version);
  appends.event(domain::order_updated_event(*before, after, event_id, at));
  return {Kind::done, std::move(after)};
}

ports::ChangeResult apply_remove(Connection& db, Database::Appends& appends,
                                 std::string_view order_id,
                                 std::optional<std::int64_t> expected_version, domain::Timestamp at,
                                 const std::string& event_id) {
  using Kind = ports::ChangeResult::Kind;
  auto order = find_order_for_update(db, order_id);
  if (!order) return {Kind::not_found, {}};
  if (!ports::version_matches(expected_version, order->version))
    return {Kind::version_mismatch, std::move(*order)};
  db.query(kDeleteOrder, order->id);
  appends.event(domain::order_deleted_event(*order, event_id, at));
  return {Kind::done, std::move(*order)};
}

}  // namespace

PostgresOrderStore::PostgresOrderStore(std::shared_ptr<Database> database)
    : db_(std::move(database)) {}

PostgresOrderStore::~PostgresOrderStore() = default;

ports::CreateResult PostgresOrderStore::create(
    const domain::Order& order, const domain::Event& created_event,
    const std::optional<ports::IdempotencyClaim>& claim) {
  ports::CreateResult result{ports::CreateResult::Kind::created, {}};
  db_->write_events([&](Connection& db, Database::Appends& appends) {
    result = apply_create(db, appends, order, created_event, claim);
    return false;  // appended events wake the workers by themselves
  });
  return result;
}

void PostgresOrderStore::create_async(const domain::Order& order,
                                      const domain::Event& created_event,
                                      const std::optional<ports::IdempotencyClaim>& claim,
                                      CreateDone done) {
  auto pending = std::make_shared<PendingCreate>(
      PendingCreate{order, created_event, claim, std::move(done), {}});
  db_->write_events_async(
      [pending](Connection& db, Database::Appends& appends) {
        pending->result = apply_create(db, appends, pending->order, pending->event, pending->claim);
        return false;  // appended events wake the workers by themselves
      },
      [pending](std::exception_ptr error) { pending->finish(std::move(error)); });
}

std::optional<domain::Order> PostgresOrderStore::get(std::string_view order_id) {
  std::optional<domain::Order> order;
  db_->read([&](Connection& db) { order = find_order(db, order_id); });
  return order;
}

ports::OrderPage PostgresOrderStore::list(std::string_view after_id, int limit) {
  const int wanted = std::max(limit, 0);
  ports::OrderPage page;
  db_->read([&](Connection& db) {
    const Result r =
        db.query(kListOrders, after_id, std::int64_t{wanted} + 1);  // one more: has_more
    page = {};
    for (int row = 0; row < r.rows(); ++row) {
      if (row == wanted) {
        page.has_more = true;
        break;
      }
      page.orders.push_back(order_from_row(r, row));
    }
  });
  return page;
}

ports::ChangeResult PostgresOrderStore::update(std::string_view order_id,
                                               const ports::OrderPatch& patch,
                                               std::optional<std::int64_t> expected_version,
                                               domain::Timestamp at, std::string event_id) {
  ports::ChangeResult result{ports::ChangeResult::Kind::not_found, {}};
  db_->write_events([&](Connection& db, Database::Appends& appends) {
    result = apply_update(db, appends, order_id, patch, expected_version, at, event_id);
    return false;
  });
  return result;
}

ports::ChangeResult PostgresOrderStore::remove(std::string_view order_id,
                                               std::optional<std::int64_t> expected_version,
                                               domain::Timestamp at, std::string event_id) {
  ports::ChangeResult result{ports::ChangeResult::Kind::not_found, {}};
  db_->write_events([&](Connection& db, Database::Appends& appends) {
    result = apply_remove(db, appends, order_id, expected_version, at, event_id);
    return false;
  });
  return result;
}

std::vector<ports::OutboxRecord> PostgresOrderStore::read_outbox(std::int64_t after_seq,
                                                                 int limit) {
  std::vector<ports::OutboxRecord> records;
  if (limit <= 0) return records;
  db_->read([&](Connection& db) {
    const Result r = db.query(
        "SELECT seq, event_id, type, subject, time_us, data FROM outbox "
        "WHERE seq > $1 ORDER BY seq LIMIT $2",
        after_seq, std::int64_t{limit});
    records.clear();
    for (int row = 0; row < r.rows(); ++row) {
      records.push_back(ports::OutboxRecord{
          r.int64(row, 0), domain::Event{r.text(row, 1), r.text(row, 2), r.text(row, 3),
                                         from_us(r.int64(row, 4)), r.text(row, 5)}});
    }
  });
  return records;
}

void PostgresOrderStore::on_commit(std::function<void()> callback) {
  db_->set_on_commit(std::move(callback));
}

bool PostgresOrderStore::ping() {
  bool answered = false;
  try {
    db_->read([&](Connection& db) { answered = db.query("SELECT 1").int64(0, 0) == 1; });
  } catch (const InfraError&) {
    return false;
  }
  return answered;
}

ports::StoreStats PostgresOrderStore::stats() {
  ports::StoreStats s;
  db_->read([&](Connection& db) {
    // One statement, so the three numbers come from one snapshot.
    const Result r = db.query(
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM outbox), "
        "(SELECT coalesce(max(seq), 0) FROM outbox)");
    s.orders = r.int64(0, 0);
    s.outbox_events = r.int64(0, 1);
    s.outbox_last_seq = r.int64(0, 2);
  });
  return s;
}

}  // namespace orderflow::adapters::pg
