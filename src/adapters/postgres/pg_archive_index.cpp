#include "adapters/postgres/pg_archive_index.hpp"

#include <limits>
#include <utility>

namespace orderflow::adapters::pg {

using ports::ArchivedOrder;

PostgresArchiveIndex::PostgresArchiveIndex(std::shared_ptr<Database> database)
    : db_(std::move(database)) {}

PostgresArchiveIndex::~PostgresArchiveIndex() = default;

void PostgresArchiveIndex::add(const std::vector<ArchivedOrder>& orders) {
  if (orders.empty()) return;
  std::vector<std::string> ids, descriptions;
  std::vector<std::int64_t> cents, deleted;
  for (const ArchivedOrder& o : orders) {
    ids.push_back(o.order_id);
    descriptions.push_back(o.description);
    cents.push_back(o.price.cents());
    deleted.push_back(to_us(o.deleted_at));
  }
  db_->write([&](Connection& db) {
    // One statement for the whole batch (a backfill adds a thousand at a time).
    db.query(
        "INSERT INTO archived_orders (order_id, description, price_cents, deleted_us) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) "
        "ON CONFLICT (order_id) DO NOTHING",
        TextArray{ids}, TextArray{descriptions}, Int64Array{cents}, Int64Array{deleted});
    return false;
  });
}

ports::ArchiveIndexState PostgresArchiveIndex::state() {
  ports::ArchiveIndexState s;
  db_->read([&](Connection& db) {
    // One statement, so the figures come from one snapshot.
    const Result r = db.query(
        "SELECT (SELECT count(*) FROM archived_orders), "
        "(SELECT coalesce(max(seq), 0) FROM archived_orders), "
        "(SELECT backfilled_us FROM archive_index_meta WHERE id = 1), "
        "(SELECT unreadable FROM archive_index_meta WHERE id = 1)");
    s = {};
    s.count = static_cast<std::uint64_t>(r.int64(0, 0));
    s.newest = r.int64(0, 1);
    if (!r.is_null(0, 2)) s.backfilled = from_us(r.int64(0, 2));
    if (!r.is_null(0, 3)) s.unreadable = static_cast<std::uint64_t>(r.int64(0, 3));
  });
  return s;
}

std::vector<ArchivedOrder> PostgresArchiveIndex::page(const ports::ArchivePageQuery& query) {
  std::vector<ArchivedOrder> rows;
  db_->read([&](Connection& db) {
    const Result r = db.query(
        "SELECT order_id, description, price_cents, deleted_us FROM archived_orders "
        "WHERE order_id > $1 AND seq <= $2 AND deleted_us >= $3 AND deleted_us < $4 "
        "ORDER BY order_id LIMIT $5",
        query.after, query.newest,
        query.from ? to_us(*query.from) : std::numeric_limits<std::int64_t>::min(),
        query.to ? to_us(*query.to) : std::numeric_limits<std::int64_t>::max(), query.limit);
    rows.clear();
    for (int row = 0; row < r.rows(); ++row)
      rows.push_back(ArchivedOrder{r.text(row, 0), r.text(row, 1),
                                   domain::Money::from_cents(r.int64(row, 2)),
                                   from_us(r.int64(row, 3))});
  });
  return rows;
}

void PostgresArchiveIndex::mark_backfilled(domain::Timestamp at, std::uint64_t unreadable) {
  db_->write([&](Connection& db) {
    db.query(
        "INSERT INTO archive_index_meta (id, backfilled_us, unreadable) VALUES (1, $1, $2) "
        "ON CONFLICT (id) DO UPDATE SET backfilled_us = excluded.backfilled_us, "
        "unreadable = excluded.unreadable",
        to_us(at), static_cast<std::int64_t>(unreadable));
    return false;
  });
}

}  // namespace orderflow::adapters::pg
