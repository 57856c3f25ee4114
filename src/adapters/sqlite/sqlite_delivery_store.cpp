#include "adapters/sqlite/sqlite_delivery_store.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters {
namespace {

using ports::Delivery;
using ports::DeliveryState;
using sqlite::Connection;
using sqlite::from_us;
using sqlite::Query;
using sqlite::to_us;

std::string_view state_name(DeliveryState s) {
  switch (s) {
    case DeliveryState::pending:
      return "pending";
    case DeliveryState::done:
      return "done";
    case DeliveryState::dead:
      return "dead";
  }
  return "pending";
}

DeliveryState state_from(std::string_view name) {
  if (name == "done") return DeliveryState::done;
  if (name == "dead") return DeliveryState::dead;
  return DeliveryState::pending;  // the CHECK constraint allows nothing else
}

// A query for deliveries with their events; delivery_from_row reads its columns.
std::string select_deliveries(std::string_view where) {
  std::string sql =
      "SELECT d.id, d.event_seq, d.subscription, d.state, d.attempts, d.next_attempt_us, "
      "d.last_error, d.updated_us, o.event_id, o.type, o.subject, o.time_us, o.data "
      "FROM deliveries d JOIN outbox o ON o.seq = d.event_seq ";
  sql += where;
  return sql;
}

Delivery delivery_from_row(const Query& q) {
  Delivery d;
  d.id = q.int64(0);
  d.event_seq = q.int64(1);
  d.subscription = q.text(2);
  d.state = state_from(q.text(3));
  d.attempts = static_cast<int>(q.int64(4));
  d.next_attempt = from_us(q.int64(5));
  d.last_error = q.text(6);
  d.updated = from_us(q.int64(7));
  d.event = domain::Event{q.text(8), q.text(9), q.text(10), from_us(q.int64(11)), q.text(12)};
  return d;
}

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

SqliteDeliveryStore::SqliteDeliveryStore(std::shared_ptr<SqliteDatabase> database)
    : db_(std::move(database)) {}

SqliteDeliveryStore::~SqliteDeliveryStore() = default;

int SqliteDeliveryStore::fan_out(
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
    return false;
  });
  return fanned_out;
}

std::vector<Delivery> SqliteDeliveryStore::due(std::string_view subscription, domain::Timestamp now,
                                               int limit) {
  std::vector<Delivery> deliveries;
  if (limit <= 0) return deliveries;
  db_->read([&](Connection& db) {
    auto q = db.query(select_deliveries(
        // The unary + keeps SQLite from using next_attempt_us for the index search, so it
        // walks deliveries_due_in_order in event order and stops at the limit (no sort).
        "WHERE d.subscription = ?1 AND d.state = 'pending' AND +d.next_attempt_us <= ?2 "
        "ORDER BY d.event_seq, d.id LIMIT ?3"));
    q.bind(1, subscription).bind(2, to_us(now)).bind(3, std::int64_t{limit});
    while (q.step()) deliveries.push_back(delivery_from_row(q));
  });
  return deliveries;
}

std::optional<domain::Timestamp> SqliteDeliveryStore::next_due(std::string_view subscription) {
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

void SqliteDeliveryStore::mark_done(const std::vector<std::int64_t>& ids, domain::Timestamp at) {
  if (ids.empty()) return;
  db_->write([&](Connection& db) {
    for (const std::int64_t id : ids)
      db.query("UPDATE deliveries SET state = 'done', updated_us = ?2 WHERE id = ?1")
          .bind(1, id)
          .bind(2, to_us(at))
          .run();
    return false;
  });
}

void SqliteDeliveryStore::mark_failed(std::int64_t id, std::string_view error,
                                      std::optional<domain::Timestamp> retry_at,
                                      domain::Timestamp at) {
  db_->write([&](Connection& db) {
    if (retry_at) {
      db.query(
            "UPDATE deliveries SET state = 'pending', attempts = attempts + 1, "
            "next_attempt_us = ?3, last_error = ?2, updated_us = ?4 WHERE id = ?1")
          .bind(1, id)
          .bind(2, error)
          .bind(3, to_us(*retry_at))
          .bind(4, to_us(at))
          .run();
    } else {
      db.query(
            "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = ?2, "
            "updated_us = ?3 WHERE id = ?1")
          .bind(1, id)
          .bind(2, error)
          .bind(3, to_us(at))
          .run();
    }
    return false;
  });
}

std::optional<Delivery> SqliteDeliveryStore::get(std::int64_t id) {
  std::optional<Delivery> delivery;
  db_->read([&](Connection& db) {
    auto q = db.query(select_deliveries("WHERE d.id = ?1"));
    q.bind(1, id);
    if (q.step()) delivery = delivery_from_row(q);
  });
  return delivery;
}

ports::DeliveryPage SqliteDeliveryStore::list(DeliveryState state, std::int64_t after_id,
                                              int limit) {
  const auto wanted = static_cast<std::size_t>(std::max(limit, 0));
  ports::DeliveryPage page;
  db_->read([&](Connection& db) {
    auto q = db.query(select_deliveries("WHERE d.state = ?1 AND d.id > ?2 ORDER BY d.id LIMIT ?3"));
    q.bind(1, state_name(state))
        .bind(2, after_id)
        .bind(3, static_cast<std::int64_t>(wanted) + 1);  // one more: has_more
    while (q.step()) {
      if (page.deliveries.size() == wanted) {
        page.has_more = true;
        break;
      }
      page.deliveries.push_back(delivery_from_row(q));
    }
  });
  return page;
}

bool SqliteDeliveryStore::redrive(std::int64_t id, domain::Timestamp now) {
  bool redriven = false;
  db_->write([&](Connection& db) {
    // last_error stays: it still tells why the delivery had died.
    db.query(
          "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_us = ?2, "
          "updated_us = ?2 WHERE id = ?1 AND state = 'dead'")
        .bind(1, id)
        .bind(2, to_us(now))
        .run();
    redriven = db.changes() == 1;
    return false;
  });
  return redriven;
}

std::int64_t SqliteDeliveryStore::redrive_all_dead(domain::Timestamp now) {
  std::int64_t redriven = 0;
  db_->write([&](Connection& db) {
    db.query(
          "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_us = ?1, "
          "updated_us = ?1 WHERE state = 'dead'")
        .bind(1, to_us(now))
        .run();
    redriven = db.changes();
    return false;
  });
  return redriven;
}

ports::DeliveryStats SqliteDeliveryStore::delivery_stats() {
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

}  // namespace orderflow::adapters
