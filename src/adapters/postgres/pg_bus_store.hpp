#pragma once

#include <memory>

#include "adapters/postgres/pg_database.hpp"
#include "ports/bus_store.hpp"

namespace orderflow::adapters::pg {

// BusStore on a shared Database: the relay_cursor row (held FOR UPDATE SKIP LOCKED by the one
// relay publishing, on a pooled connection of its own, so the writers never wait for the bus)
// and dead deliveries in the deliveries table.
class PostgresBusStore final : public ports::BusStore {
 public:
  explicit PostgresBusStore(std::shared_ptr<Database> database);
  ~PostgresBusStore() override;
  PostgresBusStore(const PostgresBusStore&) = delete;
  PostgresBusStore& operator=(const PostgresBusStore&) = delete;

  std::optional<int> relay(int limit, const Publish& publish) override;
  std::int64_t relay_backlog() override;
  std::int64_t record_dead(std::int64_t event_seq, std::string_view subscription, int attempts,
                           std::string_view error, domain::Timestamp at) override;

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace orderflow::adapters::pg
