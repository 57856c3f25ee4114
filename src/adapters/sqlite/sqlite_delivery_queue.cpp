#include "adapters/sqlite/sqlite_delivery_queue.hpp"

#include <map>
#include <utility>

#include "adapters/sqlite/sqlite_db.hpp"
#include "adapters/sqlite/sqlite_delivery_rows.hpp"

namespace orderflow::adapters {
namespace {

using ports::Delivery;
using sqlite::Connection;
using sqlite::from_us;
using sqlite::to_us;

std::int64_t fanned_out_seq(Connection& db) {
  auto q = db.query("SELECT seq FROM fanout_cursor WHERE id = 1");
  return q.step() ? q.int64(0) : 0;
}

struct NewEvent {
  std::int64_t seq;
  std::string type;
};

int apply_fan_out(Connection& db,
                  const std::function<std::vector<std::string>(std::string_view)>& subscribers,
                  domain::Timestamp now, int limit) {
  std::vector<NewEvent> events;
  {
    auto q = db.query("SELECT seq, type FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    q.bind(1, fanned_out_seq(db)).bind(2, std::int64_t{limit});
    while (q.step()) events.push_back({q.int64(0), q.text(1)});
  }
  if (events.empty()) return 0;
  std::map<std::string, std::vector<std::string>, std::less<>> names_by_type;
  for (const NewEvent& e : events) {
    auto it = names_by_type.find(e.type);
    if (it == names_by_type.end()) it = names_by_type.emplace(e.type, subscribers(e.type)).first;
    for (const std::string& name : it->second) {
      // OR IGNORE: a delivery that exists already (a repeated fan-out) stays as it is.
      db.query(
            "INSERT OR IGNORE INTO deliveries(event_seq, subscription, state, attempts, "
            "next_attempt_us, last_error, updated_us) VALUES (?1, ?2, 'pending', 0, ?3, '', ?3)")
          .bind(1, e.seq)
          .bind(2, name)
          .bind(3, to_us(now))
          .run();
    }
  }
  db.query(
        "INSERT INTO fanout_cursor(id, seq) VALUES (1, ?1) "
        "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq")
      .bind(1, events.back().seq)
      .run();
  return static_cast<int>(events.size());
}

}  // namespace

SqliteDeliveryQueue::SqliteDeliveryQueue(std::shared_ptr<SqliteDatabase> database)
    : db_(std::move(database)) {}

SqliteDeliveryQueue::~SqliteDeliveryQueue() = default;

int SqliteDeliveryQueue::fan_out(
    const std::function<std::vector<std::string>(std::string_view)>& subscribers,
    domain::Timestamp now, int limit) {
  if (limit <= 0) return 0;
  // The dispatcher asks often and there is usually nothing new: answer that from a reader
  // instead of taking the writer.
  bool anything_new = false;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE seq > "
        "coalesce((SELECT seq FROM fanout_cursor WHERE id = 1), 0))");
    anything_new = q.step() && q.int64(0) != 0;
  });
  if (!anything_new) return 0;
  int fanned_out = 0;
  db_->write([&](Connection& db) {
    fanned_out = apply_fan_out(db, subscribers, now, limit);
    return fanned_out > 0;  // new deliveries: wake whoever waits for them
  });
  return fanned_out;
}

std::vector<Delivery> SqliteDeliveryQueue::claim(std::string_view subscription,
                                                 std::string_view owner, domain::Timestamp now,
                                                 domain::Timestamp lease_until, int limit) {
  std::vector<Delivery> claimed;
  if (limit <= 0) return claimed;
  // Lanes ask on every wake-up and mostly nothing of theirs is due: a reader answers that
  // without queueing behind the writer's group commit.
  bool anything_due = false;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT EXISTS (SELECT 1 FROM deliveries WHERE subscription = ?1 "
        "AND state = 'pending' AND next_attempt_us <= ?2)");
    q.bind(1, subscription).bind(2, to_us(now));
    anything_due = q.step() && q.int64(0) != 0;
  });
  if (!anything_due) return claimed;
  db_->write([&](Connection& db) {
    {
      auto q = db.query(sqlite::select_deliveries(
          // The unary + keeps SQLite from using next_attempt_us for the index search, so it
          // walks deliveries_due_in_order in event order and stops at the limit (no sort).
          "WHERE d.subscription = ?1 AND d.state = 'pending' AND +d.next_attempt_us <= ?2 "
          "ORDER BY d.event_seq, d.id LIMIT ?3"));
      q.bind(1, subscription).bind(2, to_us(now)).bind(3, std::int64_t{limit});
      while (q.step()) claimed.push_back(sqlite::delivery_from_row(q));
    }
    for (Delivery& d : claimed) {
      db.query("UPDATE deliveries SET next_attempt_us = ?2, claimed_by = ?3 WHERE id = ?1")
          .bind(1, d.id)
          .bind(2, to_us(lease_until))
          .bind(3, owner)
          .run();
      d.next_attempt = lease_until;
    }
    return false;
  });
  return claimed;
}

std::optional<domain::Timestamp> SqliteDeliveryQueue::next_due(std::string_view subscription) {
  std::optional<domain::Timestamp> next;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT min(next_attempt_us) FROM deliveries "
        "WHERE subscription = ?1 AND state = 'pending'");
    q.bind(1, subscription);
    if (q.step() && !q.is_null(0)) next = from_us(q.int64(0));
  });
  return next;
}

void SqliteDeliveryQueue::mark_done(const std::vector<std::int64_t>& ids, domain::Timestamp at) {
  if (ids.empty()) return;
  db_->write([&](Connection& db) {
    for (const std::int64_t id : ids)
      db.query(
            "UPDATE deliveries SET state = 'done', claimed_by = '', updated_us = ?2 "
            "WHERE id = ?1")
          .bind(1, id)
          .bind(2, to_us(at))
          .run();
    return false;
  });
}

void SqliteDeliveryQueue::mark_failed(std::int64_t id, std::string_view error,
                                      std::optional<domain::Timestamp> retry_at,
                                      domain::Timestamp at) {
  db_->write([&](Connection& db) {
    if (retry_at) {
      db.query(
            "UPDATE deliveries SET state = 'pending', attempts = attempts + 1, "
            "next_attempt_us = ?3, last_error = ?2, claimed_by = '', updated_us = ?4 "
            "WHERE id = ?1")
          .bind(1, id)
          .bind(2, error)
          .bind(3, to_us(*retry_at))
          .bind(4, to_us(at))
          .run();
    } else {
      db.query(
            "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = ?2, "
            "claimed_by = '', updated_us = ?3 WHERE id = ?1")
          .bind(1, id)
          .bind(2, error)
          .bind(3, to_us(at))
          .run();
    }
    return false;
  });
}

std::int64_t SqliteDeliveryQueue::release(std::string_view owner, domain::Timestamp now) {
  std::int64_t released = 0;
  db_->write([&](Connection& db) {
    // "claimed_by <> ''" repeats the partial index's condition, so SQLite may use it.
    db.query(
          "UPDATE deliveries SET next_attempt_us = ?2, claimed_by = '' "
          "WHERE claimed_by = ?1 AND claimed_by <> '' AND state = 'pending'")
        .bind(1, owner)
        .bind(2, to_us(now))
        .run();
    released = db.changes();
    return false;
  });
  return released;
}

}  // namespace orderflow::adapters
