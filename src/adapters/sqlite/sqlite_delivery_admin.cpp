#include "adapters/sqlite/sqlite_delivery_admin.hpp"

#include <algorithm>
#include <utility>

#include "adapters/sqlite/sqlite_db.hpp"
#include "adapters/sqlite/sqlite_delivery_rows.hpp"

namespace orderflow::adapters {

using ports::Delivery;
using ports::DeliveryState;
using sqlite::Connection;
using sqlite::from_us;
using sqlite::to_us;

SqliteDeliveryAdmin::SqliteDeliveryAdmin(std::shared_ptr<SqliteDatabase> database)
    : db_(std::move(database)) {}

SqliteDeliveryAdmin::~SqliteDeliveryAdmin() = default;

std::optional<Delivery> SqliteDeliveryAdmin::get(std::int64_t id) {
  std::optional<Delivery> delivery;
  db_->read([&](Connection& db) {
    auto q = db.query(sqlite::select_deliveries("WHERE d.id = ?1"));
    q.bind(1, id);
    if (q.step()) delivery = sqlite::delivery_from_row(q);
  });
  return delivery;
}

ports::DeliveryPage SqliteDeliveryAdmin::list(DeliveryState state, std::int64_t after_id,
                                              int limit) {
  const auto wanted = static_cast<std::size_t>(std::max(limit, 0));
  ports::DeliveryPage page;
  db_->read([&](Connection& db) {
    auto q = db.query(
        sqlite::select_deliveries("WHERE d.state = ?1 AND d.id > ?2 ORDER BY d.id LIMIT ?3"));
    q.bind(1, ports::delivery_state_name(state))
        .bind(2, after_id)
        .bind(3, static_cast<std::int64_t>(wanted) + 1);  // one more: has_more
    while (q.step()) {
      if (page.deliveries.size() == wanted) {
        page.has_more = true;
        break;
      }
      page.deliveries.push_back(sqlite::delivery_from_row(q));
    }
  });
  return page;
}

bool SqliteDeliveryAdmin::redrive(std::int64_t id, domain::Timestamp now) {
  bool redriven = false;
  db_->write([&](Connection& db) {
    // last_error stays: it still tells why the delivery had died.
    db.query(
          "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_us = ?2, "
          "claimed_by = '', updated_us = ?2 WHERE id = ?1 AND state = 'dead'")
        .bind(1, id)
        .bind(2, to_us(now))
        .run();
    redriven = db.changes() == 1;
    return redriven;  // due now: wake the dispatcher
  });
  return redriven;
}

std::int64_t SqliteDeliveryAdmin::redrive_all_dead(domain::Timestamp now) {
  std::int64_t redriven = 0;
  db_->write([&](Connection& db) {
    db.query(
          "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_us = ?1, "
          "claimed_by = '', updated_us = ?1 WHERE state = 'dead'")
        .bind(1, to_us(now))
        .run();
    redriven = db.changes();
    return redriven > 0;
  });
  return redriven;
}

ports::DeliveryStats SqliteDeliveryAdmin::delivery_stats() {
  ports::DeliveryStats s;
  db_->read([&](Connection& db) {
    // One statement, so every number comes from one snapshot. Delivery ids grow with the
    // event seq (fan-out goes in seq order), so the lowest pending id has the oldest event.
    auto q = db.query(
        "SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending'), "
        "(SELECT count(*) FROM deliveries WHERE state = 'dead'), "
        "(SELECT count(*) FROM deliveries WHERE state = 'done'), "
        "(SELECT o.time_us FROM deliveries d JOIN outbox o ON o.seq = d.event_seq "
        " WHERE d.state = 'pending' ORDER BY d.id LIMIT 1), "
        "coalesce((SELECT seq FROM fanout_cursor WHERE id = 1), 0)");
    if (!q.step()) return;
    s.pending = q.int64(0);
    s.dead = q.int64(1);
    s.done = q.int64(2);
    if (!q.is_null(3)) s.oldest_pending_event = from_us(q.int64(3));
    s.fanned_out_seq = q.int64(4);
  });
  return s;
}

namespace {

// One statement per ports::PruneStep, in its order: each deletes at most ?2 rows older than ?1.
constexpr const char* kPruneDeliveries =
    "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries "
    "WHERE state = 'done' AND updated_us < ?1 ORDER BY id LIMIT ?2)";
constexpr const char* kPruneNotifications =
    "DELETE FROM notifications WHERE (event_id, email_key) IN ("
    " SELECT n.event_id, n.email_key FROM notifications n"
    " WHERE ((n.state = 'sent' AND n.sent_us < ?1) OR"
    "        (n.state = 'claimed' AND n.lease_until_us < ?1))"
    "   AND NOT EXISTS (SELECT 1 FROM outbox o JOIN deliveries d ON d.event_seq = o.seq"
    "                   WHERE o.event_id = n.event_id AND d.state <> 'done')"
    " LIMIT ?2)";
constexpr const char* kPruneOutbox =
    "DELETE FROM outbox WHERE seq IN (SELECT o.seq FROM outbox o"
    " WHERE o.seq <= (SELECT seq FROM fanout_cursor WHERE id = 1) AND o.time_us < ?1"
    "   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = o.seq)"
    " ORDER BY o.seq LIMIT ?2)";
constexpr const char* kPruneKeys =
    "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys "
    "WHERE created_us < ?1 LIMIT ?2)";

}  // namespace

ports::PruneCounts SqliteDeliveryAdmin::prune(const ports::RetentionCutoffs& cutoffs) {
  return ports::prune_in_batches(
      cutoffs, [this](ports::PruneStep step, domain::Timestamp before, std::int64_t batch) {
        static constexpr const char* kSql[] = {kPruneDeliveries, kPruneNotifications, kPruneOutbox,
                                               kPruneKeys};
        std::int64_t deleted = 0;
        db_->write([&](Connection& db) {
          db.query(kSql[static_cast<int>(step)]).bind(1, to_us(before)).bind(2, batch).run();
          deleted = db.changes();
          return false;  // nothing for the workers to look at
        });
        return deleted;
      });
}

}  // namespace orderflow::adapters
