#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters::sqlite {
namespace {

// Enough of a statement's SQL to recognise it in a message, never its bound values.
std::string sql_excerpt(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  if (sql == nullptr) return {};
  std::string_view text(sql);
  constexpr std::size_t kMax = 60;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

// Debian's SQLite keeps memory statistics (SQLITE_DEFAULT_MEMSTATUS) and has no lookaside
// (SQLITE_OMIT_LOOKASIDE), so every allocation of every connection took one process-wide mutex:
// two I/O threads reading at once waited on it about once per request. orderflow never reads
// the statistics. The setting must come before SQLite initialises itself (the first open); when
// something else in the process was first, SQLite refuses it and keeps its statistics.
void configure_sqlite_once() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

}  // namespace

ports::InfraError::Kind error_kind(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return ports::InfraError::Kind::transient;
    default:
      return ports::InfraError::Kind::permanent;
  }
}

void throw_error(sqlite3* db, int rc, std::string_view context) {
  std::string message = "SQLite: ";
  message += context;
  message += ": ";
  // The connection's message when it has one for this error; the generic text otherwise.
  message += (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (code " + std::to_string(rc) + ")";
  throw ports::InfraError(error_kind(rc), message);
}

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int index, std::string_view text) {
  // SQLITE_TRANSIENT copies the bytes, so callers may pass views of temporaries.
  const int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) throw_error(db_, rc, "bind " + sql_excerpt(stmt_));
  return *this;
}

Query& Query::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) throw_error(db_, rc, "bind " + sql_excerpt(stmt_));
  return *this;
}

bool Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_error(db_, rc, sql_excerpt(stmt_));
}

void Query::run() {
  while (step()) {
  }
}

std::int64_t Query::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Query::text(int column) const {
  // column_text first, then column_bytes: the documented order for an exact length.
  const auto* data = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool Query::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Connection::Connection(const std::string& path, int flags, int busy_timeout_ms) {
  configure_sqlite_once();
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // sqlite3_open_v2 may hand out a handle even when it fails
  if (rc != SQLITE_OK) throw_error(db_.get(), rc, "open");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;");
}

Query Connection::query(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt(raw);
    if (rc != SQLITE_OK) throw_error(db_.get(), rc, "prepare " + std::string(sql.substr(0, 60)));
    it = statements_.emplace(std::string(sql), std::move(stmt)).first;
  }
  return Query(db_.get(), it->second.get());
}

void Connection::exec(const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw ports::InfraError(error_kind(rc),
                            "SQLite: " + message + " (code " + std::to_string(rc) + ")");
  }
}

}  // namespace orderflow::adapters::sqlite
