#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_database.hpp"
#include "ports/archive_index.hpp"

namespace orderflow::adapters {

// ArchiveIndex on a SqliteDatabase: the archived_orders and archive_index_meta tables
// (migration 8).
class SqliteArchiveIndex final : public ports::ArchiveIndex {
 public:
  explicit SqliteArchiveIndex(std::shared_ptr<SqliteDatabase> database);
  ~SqliteArchiveIndex() override;
  SqliteArchiveIndex(const SqliteArchiveIndex&) = delete;
  SqliteArchiveIndex& operator=(const SqliteArchiveIndex&) = delete;

  void add(const std::vector<ports::ArchivedOrder>& orders) override;
  ports::ArchiveIndexState state() override;
  std::vector<ports::ArchivedOrder> page(const ports::ArchivePageQuery& query) override;
  void mark_backfilled(domain::Timestamp at, std::uint64_t unreadable) override;

 private:
  std::shared_ptr<SqliteDatabase> db_;
};

}  // namespace orderflow::adapters
