#pragma once

#include <memory>

#include "adapters/postgres/pg_database.hpp"
#include "ports/delivery_admin.hpp"
#include "ports/delivery_queue.hpp"

namespace orderflow::adapters::pg {

// DeliveryQueue and DeliveryAdmin on a shared Database: the deliveries and fanout_cursor tables
// beside the outbox they refer to. Safe to share between processes: claims skip rows another
// transaction holds (FOR UPDATE SKIP LOCKED) and push next_attempt to the lease end.
class PostgresDeliveryStore final : public ports::DeliveryQueue, public ports::DeliveryAdmin {
 public:
  explicit PostgresDeliveryStore(std::shared_ptr<Database> database);
  ~PostgresDeliveryStore() override;
  PostgresDeliveryStore(const PostgresDeliveryStore&) = delete;
  PostgresDeliveryStore& operator=(const PostgresDeliveryStore&) = delete;

  // DeliveryQueue
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

  // DeliveryAdmin
  std::optional<ports::Delivery> get(std::int64_t id) override;
  ports::DeliveryPage list(ports::DeliveryState state, std::int64_t after_id, int limit) override;
  bool redrive(std::int64_t id, domain::Timestamp now) override;
  std::int64_t redrive_all_dead(domain::Timestamp now) override;
  ports::DeliveryStats delivery_stats() override;
  ports::PruneCounts prune(const ports::RetentionCutoffs& cutoffs) override;

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace orderflow::adapters::pg
