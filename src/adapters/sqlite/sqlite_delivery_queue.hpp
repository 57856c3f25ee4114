#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_database.hpp"
#include "ports/delivery_queue.hpp"

namespace orderflow::adapters {

// DeliveryQueue on a SqliteDatabase: the deliveries and fanout_cursor tables beside the outbox
// they refer to. Writes, claims included, go through the database's one writer thread (group
// commit), which is what keeps two claims from taking one delivery.
class SqliteDeliveryQueue final : public ports::DeliveryQueue {
 public:
  explicit SqliteDeliveryQueue(std::shared_ptr<SqliteDatabase> database);
  ~SqliteDeliveryQueue() override;
  SqliteDeliveryQueue(const SqliteDeliveryQueue&) = delete;
  SqliteDeliveryQueue& operator=(const SqliteDeliveryQueue&) = delete;

  int fan_out(const std::function<std::vector<std::string>(std::string_view)>& subscribers,
              domain::Timestamp now, int limit) override;
  std::vector<ports::Delivery> claim(std::string_view subscription, std::string_view owner,
                                     domain::Timestamp now, domain::Timestamp lease_until,
                                     int limit) override;
  std::optional<domain::Timestamp> next_due(std::string_view subscription) override;
  void mark_done(const std::vector<std::int64_t>& ids, domain::Timestamp at) override;
  void mark_failed(std::int64_t id, std::string_view error,
                   std::optional<domain::Timestamp> retry_at, domain::Timestamp at) override;
  std::int64_t release(std::string_view owner, domain::Timestamp now) override;

 private:
  std::shared_ptr<SqliteDatabase> db_;
};

}  // namespace orderflow::adapters
