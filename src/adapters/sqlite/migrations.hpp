// The schema of the SQLite store as an ordered list of migrations, applied at open.
#pragma once

#include <span>

#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters::sqlite {

struct Migration {
  int version;      // 1, 2, 3, ... with no gaps
  const char* sql;  // may hold several statements
};

// Every migration this binary knows, oldest first.
std::span<const Migration> migrations();

// Brings the database up to the newest known version, each migration in its own transaction.
// Throws InfraError(permanent) when the database is newer than this binary.
void migrate(Connection& db);

}  // namespace orderflow::adapters::sqlite
