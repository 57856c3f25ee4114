#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_database.hpp"
#include "ports/delivery_admin.hpp"

namespace orderflow::adapters {

// DeliveryAdmin on a SqliteDatabase: reads of the deliveries table and the redrive of dead ones.
// A redrive that changed something fires the database's on_commit callback, so the dispatcher
// of this process looks at once.
class SqliteDeliveryAdmin final : public ports::DeliveryAdmin {
 public:
  explicit SqliteDeliveryAdmin(std::shared_ptr<SqliteDatabase> database);
  ~SqliteDeliveryAdmin() override;
  SqliteDeliveryAdmin(const SqliteDeliveryAdmin&) = delete;
  SqliteDeliveryAdmin& operator=(const SqliteDeliveryAdmin&) = delete;

  std::optional<ports::Delivery> get(std::int64_t id) override;
  ports::DeliveryPage list(ports::DeliveryState state, std::int64_t after_id, int limit) override;
  bool redrive(std::int64_t id, domain::Timestamp now) override;
  std::int64_t redrive_all_dead(domain::Timestamp now) override;
  ports::DeliveryStats delivery_stats() override;
  ports::PruneCounts prune(const ports::RetentionCutoffs& cutoffs) override;

 private:
  std::shared_ptr<SqliteDatabase> db_;
};

}  // namespace orderflow::adapters
