#pragma once

#include <memory>

#include "adapters/postgres/pg_database.hpp"
#include "ports/archive_index.hpp"

namespace orderflow::adapters::pg {

// ArchiveIndex on a shared Database: the archived_orders and archive_index_meta tables
// (migration 5).
class PostgresArchiveIndex final : public ports::ArchiveIndex {
 public:
  explicit PostgresArchiveIndex(std::shared_ptr<Database> database);
  ~PostgresArchiveIndex() override;
  PostgresArchiveIndex(const PostgresArchiveIndex&) = delete;
  PostgresArchiveIndex& operator=(const PostgresArchiveIndex&) = delete;

  void add(const std::vector<ports::ArchivedOrder>& orders) override;
  ports::ArchiveIndexState state() override;
  std::vector<ports::ArchivedOrder> page(const ports::ArchivePageQuery& query) override;
  void mark_backfilled(domain::Timestamp at, std::uint64_t unreadable) override;

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace orderflow::adapters::pg
