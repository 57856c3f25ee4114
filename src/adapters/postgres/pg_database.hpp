// One PostgreSQL database shared by every store of this adapter: a connection pool, the writer
// threads that group-commit writes, and the LISTEN connection that hears other processes.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/postgres/pg_connection.hpp"
#include "adapters/postgres/postgres_stores.hpp"
#include "domain/event.hpp"

namespace orderflow::adapters::pg {

// Writes are queued to writer threads; a writer commits whatever is queued as one transaction
// with a savepoint per write (group commit: one commit for many callers), and each caller blocks
// until its write is committed. Reads use pooled connections and never wait for writers.
// Thread-safe. Held by std::shared_ptr: the stores over one database share it, and the last one
// to go commits the queued writes, stops the threads and closes every connection.
class Database {
 public:
  // Connects, migrates and starts listening. Throws InfraError as open_postgres_stores does.
  explicit Database(const PostgresStoreOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `apply` on a writer thread inside the next batch's transaction, in a savepoint of its
  // own (when it throws, only its changes are undone), and returns once the batch committed.
  // `apply` returns true when other workers should hear of the commit (it fanned out or redrove
  // events): the transaction then NOTIFYs, and on_commit runs after the commit.
  // `apply` may run more than once (again after a deadlock, or on another connection when the
  // first one broke before the commit), so it must assign its results, never accumulate them.
  // Rethrows what `apply` threw, or an InfraError(transient) when the batch did not commit.
  void write(std::function<bool(Connection&)> apply);

  // Rows a write hands to its batch instead of inserting them itself: the batch inserts the rows
  // of all its writes with one statement per kind of row, after every write ran, and the events
  // last, under the outbox lock (see try_batch), so that lock is held only for the end of the
  // batch.
  class Appends {
   public:
    // A multi-row INSERT taking one text[] parameter per column ($1..$columns, cast in the SQL
    // as needed). Defined once (static storage): rows are grouped by its address.
    struct Insert {
      std::string_view sql;
      int columns;
    };
    // `row` has `into.columns` values, in the statement's order.
    void insert(const Insert& into, std::vector<std::string> row);
    // Appends `event` to the outbox.
    void event(const domain::Event& event);

    void clear();
    bool empty() const { return rows_.empty() && events_.empty(); }
    const auto& rows() const { return rows_; }
    const std::vector<domain::Event>& events() const { return events_; }

   private:
    std::vector<std::pair<const Insert*, std::vector<std::string>>> rows_;
    std::vector<domain::Event> events_;
  };

  // A write that may append events (and other rows) through `appends`; on_commit runs after a
  // commit that appended any. Otherwise as write().
  void write_events(std::function<bool(Connection&, Appends&)> apply);
  // write_events without waiting: `done` runs once on a writer thread, after the batch
  // committed (a null exception) or with what write_events would have thrown. It must be quick
  // and must not call the database. Throws InfraError(permanent) when the database is closing.
  void write_events_async(std::function<bool(Connection&, Appends&)> apply,
                          std::function<void(std::exception_ptr)> done);

  // Runs `reader` on a pooled connection (each statement sees the latest commits). It may run a
  // second time, on a fresh connection, when the first one turned out to be broken, so it must
  // assign its results too.
  void read(const std::function<void(Connection&)>& reader);

  // Runs after each commit of this process that should wake workers (on the writer thread,
  // before that commit's callers are released), for every such commit of other processes (on
  // the LISTEN thread), and once after the LISTEN connection was lost and is back. Calls never
  // overlap. Must be quick and must not call back into the database.
  void set_on_commit(std::function<void()> callback);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::adapters::pg
