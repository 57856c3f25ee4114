#include "adapters/postgres/pg_delivery_store.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace orderflow::adapters::pg {
namespace {

using ports::Delivery;
using ports::DeliveryState;

DeliveryState state_from(std::string_view name) {
  if (name == "done") return DeliveryState::done;
  if (name == "dead") return DeliveryState::dead;
  return DeliveryState::pending;  // the CHECK constraint allows nothing else
}

// The delivery columns, then its event's; delivery_from_row reads them in this order.
#define ORDERFLOW_DELIVERY_COLUMNS                                              \
  "d.id, d.event_seq, d.subscription, d.state, d.attempts, d.next_attempt_us, " \
  "d.last_error, d.updated_us, o.event_id, o.type, o.subject, o.time_us, o.data "

constexpr std::string_view kSelectDeliveries =
    "SELECT " ORDERFLOW_DELIVERY_COLUMNS "FROM deliveries d JOIN outbox o ON o.seq = d.event_seq ";

std::string select_deliveries(std::string_view where) {
  std::string sql(kSelectDeliveries);
  sql += where;
  return sql;
}

// Due deliveries of a subscription, oldest event first, that no other transaction holds: each
// gets this owner's lease. A row another claim just took fails the re-check of
// next_attempt_us <= now once that claim commits, so it is never handed out twice.
constexpr std::string_view kClaim =
    "WITH picked AS ("
    " SELECT id FROM deliveries"
    " WHERE subscription = $1 AND state = 'pending' AND next_attempt_us <= $3"
    " ORDER BY event_seq, id LIMIT $5"
    " FOR UPDATE SKIP LOCKED) "
    "UPDATE deliveries d SET next_attempt_us = $4, claimed_by = $2 "
    "FROM picked, outbox o WHERE d.id = picked.id AND o.seq = d.event_seq "
    "RETURNING " ORDERFLOW_DELIVERY_COLUMNS;

// Deliveries for the events in (from, to], one per (event, subscriber) pair whose type matches,
// created in seq order so that delivery ids grow with the event seq; moves the cursor to `to`.
constexpr std::string_view kFanOut =
    "WITH moved AS (UPDATE fanout_cursor SET seq = $2 WHERE id = 1) "
    "INSERT INTO deliveries (event_seq, subscription, state, attempts, next_attempt_us,"
    " last_error, updated_us) "
    "SELECT o.seq, s.name, 'pending', 0, $3, '', $3 "
    "FROM outbox o JOIN unnest($4::text[], $5::text[]) WITH ORDINALITY AS s(type, name, ord)"
    " ON s.type = o.type "
    "WHERE o.seq > $1 AND o.seq <= $2 ORDER BY o.seq, s.ord "
    "ON CONFLICT (event_seq, subscription) DO NOTHING";

#undef ORDERFLOW_DELIVERY_COLUMNS

Delivery delivery_from_row(const Result& r, int row) {
  Delivery d;
  d.id = r.int64(row, 0);
  d.event_seq = r.int64(row, 1);
  d.subscription = r.text(row, 2);
  d.state = state_from(r.text(row, 3));
  d.attempts = static_cast<int>(r.int64(row, 4));
  d.next_attempt = from_us(r.int64(row, 5));
  d.last_error = r.text(row, 6);
  d.updated = from_us(r.int64(row, 7));
  d.event = domain::Event{r.text(row, 8), r.text(row, 9), r.text(row, 10),
                          from_us(r.int64(row, 11)), r.text(row, 12)};
  return d;
}

int apply_fan_out(Connection& db,
                  const std::function<std::vector<std::string>(std::string_view)>& subscribers,
                  domain::Timestamp now, int limit) {
  // SKIP LOCKED: while another transaction fans out (and holds the cursor), this one does
  // nothing instead of waiting. That one's commit wakes every process (NOTIFY), and then the
  // events after its cursor are fanned out; a wait here could only deadlock with it.
  const Result cursor =
      db.query("SELECT seq FROM fanout_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED");
  if (cursor.rows() == 0) return 0;
  const std::int64_t from = cursor.int64(0, 0);
  const Result events =
      db.query("SELECT seq, type FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2", from,
               std::int64_t{limit});
  if (events.rows() == 0) return 0;
  std::vector<std::string> types;
  std::vector<std::string> names;
  std::map<std::string, bool, std::less<>> seen;
  for (int row = 0; row < events.rows(); ++row) {
    std::string type = events.text(row, 1);
    if (!seen.emplace(type, true).second) continue;
    for (std::string& name : subscribers(type)) {
      types.push_back(type);
      names.push_back(std::move(name));
    }
  }
  const std::int64_t to = events.int64(events.rows() - 1, 0);
  db.query(kFanOut, from, to, to_us(now), TextArray{types}, TextArray{names});
  return events.rows();
}

std::vector<Delivery> deliveries_from(const Result& r) {
  std::vector<Delivery> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(delivery_from_row(r, row));
  return out;
}

}  // namespace

PostgresDeliveryStore::PostgresDeliveryStore(std::shared_ptr<Database> database)
    : db_(std::move(database)) {}

PostgresDeliveryStore::~PostgresDeliveryStore() = default;

int PostgresDeliveryStore::fan_out(
    const std::function<std::vector<std::string>(std::string_view)>& subscribers,
    domain::Timestamp now, int limit) {
  if (limit <= 0) return 0;
  // Workers ask often and there is usually nothing new: answer that from a read instead of
  // joining a batch.
  bool anything_new = false;
  db_->read([&](Connection& db) {
    // max(seq) reads one end of the outbox index; "EXISTS (... seq > cursor)" would be planned
    // as a scan of the whole outbox for a generic cursor value.
    anything_new = db.query(
                         "SELECT coalesce((SELECT max(seq) FROM outbox), 0) > "
                         "(SELECT seq FROM fanout_cursor WHERE id = 1)")
                       .int64(0, 0) != 0;
  });
  if (!anything_new) return 0;
  int fanned_out = 0;
  db_->write([&](Connection& db) {
    fanned_out = apply_fan_out(db, subscribers, now, limit);
    return fanned_out > 0;
  });
  return fanned_out;
}

std::vector<Delivery> PostgresDeliveryStore::claim(std::string_view subscription,
                                                   std::string_view owner, domain::Timestamp now,
                                                   domain::Timestamp lease_until, int limit) {
  std::vector<Delivery> claimed;
  if (limit <= 0) return claimed;
  db_->write([&](Connection& db) {
    claimed = deliveries_from(
        db.query(kClaim, subscription, owner, to_us(now), to_us(lease_until), std::int64_t{limit}));
    return false;
  });
  // RETURNING comes in no particular order.
  std::sort(claimed.begin(), claimed.end(), [](const Delivery& a, const Delivery& b) {
    return std::pair(a.event_seq, a.id) < std::pair(b.event_seq, b.id);
  });
  return claimed;
}

std::optional<domain::Timestamp> PostgresDeliveryStore::next_due(std::string_view subscription) {
  std::optional<domain::Timestamp> next;
  db_->read([&](Connection& db) {
    const Result r = db.query(
        "SELECT min(next_attempt_us) FROM deliveries "
        "WHERE subscription = $1 AND state = 'pending'",
        subscription);
    next.reset();
    if (!r.is_null(0, 0)) next = from_us(r.int64(0, 0));
  });
  return next;
}

void PostgresDeliveryStore::mark_done(const std::vector<std::int64_t>& ids, domain::Timestamp at) {
  if (ids.empty()) return;
  db_->write([&](Connection& db) {
    db.query(
        "UPDATE deliveries SET state = 'done', claimed_by = '', updated_us = $2 "
        "WHERE id = ANY ($1)",
        Int64Array{ids}, to_us(at));
    return false;
  });
}

void PostgresDeliveryStore::mark_failed(std::int64_t id, std::string_view error,
                                        std::optional<domain::Timestamp> retry_at,
                                        domain::Timestamp at) {
  db_->write([&](Connection& db) {
    if (retry_at) {
      db.query(
          "UPDATE deliveries SET state = 'pending', attempts = attempts + 1, claimed_by = '', "
          "next_attempt_us = $3, last_error = $2, updated_us = $4 WHERE id = $1",
          id, error, to_us(*retry_at), to_us(at));
    } else {
      db.query(
          "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, claimed_by = '', "
          "last_error = $2, updated_us = $3 WHERE id = $1",
          id, error, to_us(at));
    }
    return false;
  });
}

std::int64_t PostgresDeliveryStore::release(std::string_view owner, domain::Timestamp now) {
  if (owner.empty()) return 0;  // '' is nobody's claim
  std::int64_t released = 0;
  db_->write([&](Connection& db) {
    // least(): a lease that already ended stays as due as it was. "claimed_by <> ''" repeats
    // the partial index's condition, which a prepared statement's generic plan cannot infer.
    released = db.query(
                     "UPDATE deliveries SET next_attempt_us = least(next_attempt_us, $2), "
                     "claimed_by = '' "
                     "WHERE claimed_by = $1 AND claimed_by <> '' AND state = 'pending'",
                     owner, to_us(now))
                   .affected();
    // Workers of other processes may take these at once.
    return released > 0;
  });
  return released;
}

std::optional<Delivery> PostgresDeliveryStore::get(std::int64_t id) {
  std::optional<Delivery> delivery;
  db_->read([&](Connection& db) {
    const Result r = db.query(select_deliveries("WHERE d.id = $1"), id);
    delivery.reset();
    if (r.rows() == 1) delivery = delivery_from_row(r, 0);
  });
  return delivery;
}

ports::DeliveryPage PostgresDeliveryStore::list(DeliveryState state, std::int64_t after_id,
                                                int limit) {
  const int wanted = std::max(limit, 0);
  ports::DeliveryPage page;
  db_->read([&](Connection& db) {
    const Result r =
        db.query(select_deliveries("WHERE d.state = $1 AND d.id > $2 ORDER BY d.id LIMIT $3"),
                 ports::delivery_state_name(state), after_id,
                 std::int64_t{wanted} + 1);  // one more: has_more
    page = {};
    for (int row = 0; row < r.rows(); ++row) {
      if (row == wanted) {
        page.has_more = true;
        break;
      }
      page.deliveries.push_back(delivery_from_row(r, row));
    }
  });
  return page;
}

bool PostgresDeliveryStore::redrive(std::int64_t id, domain::Timestamp now) {
  bool redriven = false;
  db_->write([&](Connection& db) {
    // last_error stays: it still tells why the delivery had died.
    redriven = db.query(
                     "UPDATE deliveries SET state = 'pending', attempts = 0, claimed_by = '', "
                     "next_attempt_us = $2, updated_us = $2 WHERE id = $1 AND state = 'dead'",
                     id, to_us(now))
                   .affected() == 1;
    return redriven;
  });
  return redriven;
}

std::int64_t PostgresDeliveryStore::redrive_all_dead(domain::Timestamp now) {
  std::int64_t redriven = 0;
  db_->write([&](Connection& db) {
    redriven = db.query(
                     "UPDATE deliveries SET state = 'pending', attempts = 0, claimed_by = '', "
                     "next_attempt_us = $1, updated_us = $1 WHERE state = 'dead'",
                     to_us(now))
                   .affected();
    return redriven > 0;
  });
  return redriven;
}

ports::DeliveryStats PostgresDeliveryStore::delivery_stats() {
  ports::DeliveryStats s;
  db_->read([&](Connection& db) {
    // One statement, so every number comes from one snapshot. Delivery ids grow with the
    // event seq (fan-out goes in seq order), so the lowest pending id has the oldest event.
    const Result r = db.query(
        "SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending'), "
        "(SELECT count(*) FROM deliveries WHERE state = 'dead'), "
        "(SELECT count(*) FROM deliveries WHERE state = 'done'), "
        "(SELECT o.time_us FROM deliveries d JOIN outbox o ON o.seq = d.event_seq "
        " WHERE d.state = 'pending' ORDER BY d.id LIMIT 1), "
        "coalesce((SELECT seq FROM fanout_cursor WHERE id = 1), 0)");
    s = {};
    s.pending = r.int64(0, 0);
    s.dead = r.int64(0, 1);
    s.done = r.int64(0, 2);
    if (!r.is_null(0, 3)) s.oldest_pending_event = from_us(r.int64(0, 3));
    s.fanned_out_seq = r.int64(0, 4);
  });
  return s;
}

namespace {

// As in the SQLite adapter: each statement deletes at most $2 rows older than $1. An outbox
// row is finished once the fan-out or, with bus = nats://, the relay has passed it.
constexpr std::string_view kPruneDeliveries =
    "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries "
    "WHERE state = 'done' AND updated_us < $1 ORDER BY id LIMIT $2)";
constexpr std::string_view kPruneNotifications =
    "DELETE FROM notifications WHERE (event_id, email_key) IN ("
    " SELECT n.event_id, n.email_key FROM notifications n"
    " WHERE ((n.state = 'sent' AND n.sent_us < $1) OR"
    "        (n.state = 'claimed' AND n.lease_until_us < $1))"
    "   AND NOT EXISTS (SELECT 1 FROM outbox o JOIN deliveries d ON d.event_seq = o.seq"
    "                   WHERE o.event_id = n.event_id AND d.state <> 'done')"
    " LIMIT $2)";
constexpr std::string_view kPruneOutbox =
    "DELETE FROM outbox WHERE seq IN (SELECT o.seq FROM outbox o"
    " WHERE o.seq <= greatest((SELECT seq FROM fanout_cursor WHERE id = 1),"
    "                         (SELECT seq FROM relay_cursor WHERE id = 1))"
    "   AND o.time_us < $1"
    "   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = o.seq)"
    " ORDER BY o.seq LIMIT $2)";
constexpr std::string_view kPruneKeys =
    "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys "
    "WHERE created_us < $1 LIMIT $2)";

}  // namespace

ports::PruneCounts PostgresDeliveryStore::prune(const ports::RetentionCutoffs& cutoffs) {
  return ports::prune_in_batches(
      cutoffs, [this](ports::PruneStep step, domain::Timestamp before, std::int64_t batch) {
        static constexpr std::string_view kSql[] = {kPruneDeliveries, kPruneNotifications,
                                                    kPruneOutbox, kPruneKeys};
        std::int64_t deleted = 0;
        db_->write([&](Connection& db) {
          deleted = db.query(kSql[static_cast<int>(step)], to_us(before), batch).affected();
          return false;  // nothing for the workers to look at
        });
        return deleted;
      });
}

}  // namespace orderflow::adapters::pg
