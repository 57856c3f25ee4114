#include "adapters/sqlite/sqlite_delivery_rows.hpp"

namespace orderflow::adapters::sqlite {
namespace {

ports::DeliveryState state_from(std::string_view name) {
  if (name == "done") return ports::DeliveryState::done;
  if (name == "dead") return ports::DeliveryState::dead;
  return ports::DeliveryState::pending;  // the CHECK constraint allows nothing else
}

}  // namespace

std::string select_deliveries(std::string_view where) {
  std::string sql =
      "SELECT d.id, d.event_seq, d.subscription, d.state, d.attempts, d.next_attempt_us, "
      "d.last_error, d.updated_us, o.event_id, o.type, o.subject, o.time_us, o.data "
      "FROM deliveries d JOIN outbox o ON o.seq = d.event_seq ";
  sql += where;
  return sql;
}

ports::Delivery delivery_from_row(const Query& q) {
  ports::Delivery d;
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

}  // namespace orderflow::adapters::sqlite
