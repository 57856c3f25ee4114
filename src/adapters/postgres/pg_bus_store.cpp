#include "adapters/postgres/pg_bus_store.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace orderflow::adapters::pg {
namespace {

// Where the relay stands; NULL (never relayed) counts as the fan-out cursor.
constexpr std::string_view kRelayPosition =
    "SELECT coalesce(r.seq, f.seq) FROM relay_cursor r, fanout_cursor f WHERE r.id = 1 AND f.id = "
    "1";

}  // namespace

PostgresBusStore::PostgresBusStore(std::shared_ptr<Database> database) : db_(std::move(database)) {}

PostgresBusStore::~PostgresBusStore() = default;

std::optional<int> PostgresBusStore::relay(int limit, const Publish& publish) {
  std::optional<int> relayed;
  if (limit <= 0) return 0;
  db_->read([&](Connection& db) {
    relayed.reset();
    db.exec("BEGIN");
    // SKIP LOCKED: while another relay publishes (and holds the cursor) this one stands by; it
    // is woken by the next commit anyway.
    const Result held =
        db.query("SELECT seq IS NULL FROM relay_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED");
    if (held.rows() == 0) {
      db.exec("ROLLBACK");
      return;
    }
    const bool first = held.int64(0, 0) != 0;
    const std::int64_t from = db.query(kRelayPosition).int64(0, 0);
    const Result r = db.query(
        "SELECT seq, event_id, type, subject, time_us, data FROM outbox "
        "WHERE seq > $1 ORDER BY seq LIMIT $2",
        from, std::int64_t{limit});
    std::vector<ports::OutboxRecord> records;
    records.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
      records.push_back(ports::OutboxRecord{
          r.int64(row, 0), domain::Event{r.text(row, 1), r.text(row, 2), r.text(row, 3),
                                         from_us(r.int64(row, 4)), r.text(row, 5)}});
    // The bus is called with the cursor held; when it throws, the pool rolls the transaction
    // back as the connection comes back, and nothing moved.
    const std::size_t published = records.empty() ? 0 : std::min(publish(records), records.size());
    if (published > 0 || first) {
      const std::int64_t to = published > 0 ? records[published - 1].seq : from;
      db.query("UPDATE relay_cursor SET seq = $1 WHERE id = 1", to);
    }
    db.exec("COMMIT");
    relayed = static_cast<int>(published);
  });
  return relayed;
}

std::int64_t PostgresBusStore::relay_backlog() {
  std::int64_t backlog = 0;
  db_->read([&](Connection& db) {
    backlog = db.query(std::string("SELECT coalesce((SELECT max(seq) FROM outbox), 0) - (") +
                       std::string(kRelayPosition) + ")")
                  .int64(0, 0);
  });
  return std::max<std::int64_t>(backlog, 0);
}

std::int64_t PostgresBusStore::record_dead(std::int64_t event_seq, std::string_view subscription,
                                           int attempts, std::string_view error,
                                           domain::Timestamp at) {
  std::int64_t id = 0;
  db_->write([&](Connection& db) {
    id = db.query(
               "INSERT INTO deliveries (event_seq, subscription, state, attempts, next_attempt_us,"
               " last_error, updated_us) VALUES ($1, $2, 'dead', $3, $4, $5, $4) "
               "ON CONFLICT (event_seq, subscription) DO UPDATE SET state = 'dead',"
               " attempts = excluded.attempts, last_error = excluded.last_error,"
               " updated_us = excluded.updated_us, claimed_by = '' "
               "RETURNING id",
               event_seq, subscription, std::int64_t{attempts}, to_us(at), error)
             .int64(0, 0);
    return false;
  });
  return id;
}

}  // namespace orderflow::adapters::pg
