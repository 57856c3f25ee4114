// One SQLite database file shared by every store of this adapter (orders + outbox, deliveries,
// subscriptions), so that a change and its event can commit in one transaction.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace orderflow::adapters {

namespace sqlite {
class Connection;
}  // namespace sqlite

struct SqliteStoreOptions {
  std::string path;          // the database file; created when missing
  int max_batch = 256;       // most writes committed together (one fsync)
  int read_connections = 4;  // read-only connections shared by every read
};

// The file in WAL mode, its schema (migrated at open), one writer thread and a pool of readers.
// Writes are queued to the writer thread, which commits whatever is queued as one transaction
// (group commit: one fsync for many callers); each caller blocks until its write is durable.
// Reads use the read-only connections and never wait for the writer. Thread-safe.
//
// Held by std::shared_ptr: the stores over one database share it, and the last one to go
// commits the queued writes, stops the writer and closes the file. See sqlite_stores.hpp for
// opening all four stores at once.
class SqliteDatabase {
 public:
  // Opens or creates the file and migrates its schema. Throws ports::InfraError (permanent),
  // naming the path, when that fails, a setting cannot work, or the schema is newer than ours.
  explicit SqliteDatabase(SqliteStoreOptions options);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  const std::string& path() const;

  // False while writes fail: the latest batch could not commit, or one of its writes failed
  // for a transient reason (a full disk, an I/O error). After such a failure this tries a small
  // write of its own (one at a time; callers meanwhile wait for its outcome), so a recovered
  // database is ready again without other writes. Never throws; blocks for at most one commit.
  bool writable();

  // The rest is for the stores of this adapter (sqlite::Connection is private to it).

  // Runs `apply` on the writer thread inside the next batch's transaction, in a savepoint of its
  // own (when it throws, only its changes are undone), and returns once the batch is committed.
  // `apply` returns true when its change must wake on_commit (it appended outbox events, fanned
  // them out, or redrove deliveries). Rethrows what `apply` threw, or an InfraError(transient)
  // when the batch could not commit.
  void write(std::function<bool(sqlite::Connection&)> apply);
  // write without waiting: `done` runs once on the writer thread, after the batch committed (a
  // null exception) or with what write would have thrown. It must be quick and must not call
  // the database. Throws InfraError(permanent) when the database is closing.
  void write_async(std::function<bool(sqlite::Connection&)> apply,
                   std::function<void(std::exception_ptr)> done);
  // Runs `reader` on a pooled read-only connection; each statement sees the last commit.
  void read(const std::function<void(sqlite::Connection&)>& reader);
  // Runs on the writer thread after each commit with a write whose `apply` returned true,
  // before the writers of that commit are released. Must be quick and must not call back into the
  // database.
  void set_on_commit(std::function<void()> callback);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::adapters
