// RAII over the SQLite C API, private to the SQLite adapter: a Connection owns a sqlite3* and
// its cache of prepared statements; a Query is one use of a cached statement and always resets
// it, so a statement never keeps a WAL read snapshot (or a write lock) open after use.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/time.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters::sqlite {

// Timestamps are stored as integer microseconds since the Unix epoch.
inline std::int64_t to_us(domain::Timestamp t) { return t.time_since_epoch().count(); }
inline domain::Timestamp from_us(std::int64_t us) {
  return domain::Timestamp{std::chrono::microseconds{us}};
}

// BUSY, LOCKED, IOERR and FULL may pass; every other SQLite error is permanent.
ports::InfraError::Kind error_kind(int rc);
[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view context);

class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // Parameters are 1-based, as in SQL (?1, ?2, ...). Text is bound byte-exact with its length.
  Query& bind(int index, std::string_view text);
  Query& bind(int index, std::int64_t value);

  // One step: true when a row is ready, false when the statement is done.
  bool step();
  // Steps to the end; for statements that return no rows.
  void run();

  std::int64_t int64(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // `flags` are sqlite3_open_v2 flags. Sets busy_timeout, foreign_keys and synchronous=FULL.
  Connection(const std::string& path, int flags, int busy_timeout_ms);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A prepared statement for `sql`, compiled on first use and reused after that.
  Query query(std::string_view sql);
  // Runs SQL text once (it may hold several statements); for migrations and pragmas.
  void exec(const char* sql);
  bool in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  std::int64_t changes() const { return sqlite3_changes64(db_.get()); }
  sqlite3* handle() const { return db_.get(); }

 private:
  struct CloseDb {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  struct FinalizeStmt {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // Declared first so it is destroyed last: every statement is finalized before the close.
  std::unique_ptr<sqlite3, CloseDb> db_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, FinalizeStmt>, SqlHash,
                     std::equal_to<>>
      statements_;
};

}  // namespace orderflow::adapters::sqlite
