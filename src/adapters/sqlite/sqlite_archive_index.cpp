#include "adapters/sqlite/sqlite_archive_index.hpp"

#include <limits>
#include <utility>

#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters {

using ports::ArchivedOrder;
using sqlite::Connection;
using sqlite::from_us;
using sqlite::to_us;

SqliteArchiveIndex::SqliteArchiveIndex(std::shared_ptr<SqliteDatabase> database)
    : db_(std::move(database)) {}

SqliteArchiveIndex::~SqliteArchiveIndex() = default;

void SqliteArchiveIndex::add(const std::vector<ArchivedOrder>& orders) {
  if (orders.empty()) return;
  db_->write([&](Connection& db) {
    for (const ArchivedOrder& o : orders) {
      db.query(
            "INSERT INTO archived_orders(order_id, description, price_cents, deleted_us) "
            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(order_id) DO NOTHING")
          .bind(1, o.order_id)
          .bind(2, o.description)
          .bind(3, o.price.cents())
          .bind(4, to_us(o.deleted_at))
          .run();
    }
    return false;
  });
}

ports::ArchiveIndexState SqliteArchiveIndex::state() {
  ports::ArchiveIndexState s;
  db_->read([&](Connection& db) {
    // One statement, so the figures come from one snapshot.
    auto q = db.query(
        "SELECT (SELECT count(*) FROM archived_orders), "
        "(SELECT coalesce(max(seq), 0) FROM archived_orders), "
        "(SELECT backfilled_us FROM archive_index_meta WHERE id = 1), "
        "(SELECT unreadable FROM archive_index_meta WHERE id = 1)");
    s = {};
    if (!q.step()) return;
    s.count = static_cast<std::uint64_t>(q.int64(0));
    s.newest = q.int64(1);
    if (!q.is_null(2)) s.backfilled = from_us(q.int64(2));
    if (!q.is_null(3)) s.unreadable = static_cast<std::uint64_t>(q.int64(3));
  });
  return s;
}

std::vector<ArchivedOrder> SqliteArchiveIndex::page(const ports::ArchivePageQuery& query) {
  std::vector<ArchivedOrder> rows;
  constexpr auto kOpenEnd = std::numeric_limits<std::int64_t>::max();
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT order_id, description, price_cents, deleted_us FROM archived_orders "
        "WHERE order_id > ?1 AND seq <= ?2 AND deleted_us >= ?3 AND deleted_us < ?4 "
        "ORDER BY order_id LIMIT ?5");
    q.bind(1, query.after)
        .bind(2, query.newest)
        .bind(3, query.from ? to_us(*query.from) : std::numeric_limits<std::int64_t>::min())
        .bind(4, query.to ? to_us(*query.to) : kOpenEnd)
        .bind(5, std::int64_t{query.limit});
    rows.clear();
    while (q.step())
      rows.push_back(ArchivedOrder{q.text(0), q.text(1), domain::Money::from_cents(q.int64(2)),
                                   from_us(q.int64(3))});
  });
  return rows;
}

void SqliteArchiveIndex::mark_backfilled(domain::Timestamp at, std::uint64_t unreadable) {
  db_->write([&](Connection& db) {
    db.query(
          "INSERT INTO archive_index_meta(id, backfilled_us, unreadable) VALUES (1, ?1, ?2) "
          "ON CONFLICT(id) DO UPDATE SET backfilled_us = excluded.backfilled_us, "
          "unreadable = excluded.unreadable")
        .bind(1, to_us(at))
        .bind(2, static_cast<std::int64_t>(unreadable))
        .run();
    return false;
  });
}

}  // namespace orderflow::adapters
