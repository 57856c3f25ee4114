#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_database.hpp"
#include "ports/delivery_store.hpp"

namespace orderflow::adapters {

// DeliveryStore on a SqliteDatabase: the deliveries and fanout_cursor tables beside the outbox
// they refer to. Writes go through the database's writer thread (group commit).
class SqliteDeliveryStore final : public ports::DeliveryStore {
 public:
  explicit SqliteDeliveryStore(std::shared_ptr<SqliteDatabase> database);
  ~SqliteDeliveryStore() override;
  SqliteDeliveryStore(const SqliteDeliveryStore&) = delete;
  SqliteDeliveryStore& operator=(const SqliteDeliveryStore&) = delete;

  int fan_out(const std::function<std::vector<std::string>(std::string_view)>& subscribers,
              domain::Timestamp now, int limit) override;
  std::vector<ports::Delivery> due(std::string_view subscription, domain::Timestamp now,
                                   int limit) override;
  std::optional<domain::Timestamp> next_due(std::string_view subscription) override;
  void mark_done(const std::vector<std::int64_t>& ids, domain::Timestamp at) override;
  void mark_failed(std::int64_t id, std::string_view error,
                   std::optional<domain::Timestamp> retry_at, domain::Timestamp at) override;
  std::optional<ports::Delivery> get(std::int64_t id) override;
  ports::DeliveryPage list(ports::DeliveryState state, std::int64_t after_id, int limit) override;
  bool redrive(std::int64_t id, domain::Timestamp now) override;
  std::int64_t redrive_all_dead(domain::Timestamp now) override;
  ports::DeliveryStats delivery_stats() override;

 private:
  std::shared_ptr<SqliteDatabase> db_;
};

}  // namespace orderflow::adapters
