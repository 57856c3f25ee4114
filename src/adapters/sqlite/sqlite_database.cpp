// Map: ReaderPool lends read-only connections; Impl owns the write connection, the writer thread
// and its queue (group commit: one transaction per batch, a savepoint per write).
#include "adapters/sqlite/sqlite_database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/sqlite/migrations.hpp"
#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters {
namespace {

using ports::InfraError;
using sqlite::Connection;

constexpr int kBusyTimeoutMs = 5000;

// Creates the database file, when missing, readable by its owner alone: SQLite gives the -wal
// and -shm files it creates beside it the same mode, whatever the umask.
void create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw InfraError(InfraError::Kind::permanent,
                     std::string("cannot create the file: ") + std::strerror(errno));
  }
  const int rc = ::fchmod(fd, 0600);  // the umask may have taken bits away from 0600 (say, 0400)
  const int saved = errno;
  ::close(fd);
  if (rc != 0)
    throw InfraError(InfraError::Kind::permanent,
                     std::string("cannot set the file's mode: ") + std::strerror(saved));
}

// True when `error` is the database failing (full, I/O error, busy), not a write's own fault.
bool is_transient(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const InfraError& e) {
    return e.kind() == InfraError::Kind::transient;
  } catch (...) {
    return false;
  }
}

// Read-only connections lent to one thread at a time. WAL readers see the last commit and
// never block on the writer.
//
// Taking a connection is one atomic exchange on its slot, starting from a slot of the thread's
// own, so the two I/O threads of a small machine each keep to one connection and share no lock:
// with one mutex around the pool they waited on each other about once per request, whenever
// the holder was preempted. The mutex and condition variable are only for a thread that finds
// every slot taken.
class ReaderPool {
 public:
  ReaderPool(const std::string& path, int size)
      : taken_(std::make_unique<std::atomic<bool>[]>(static_cast<std::size_t>(size))) {
    for (int i = 0; i < size; ++i)
      all_.push_back(std::make_unique<Connection>(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                                                  kBusyTimeoutMs));
  }

  class Lease {
   public:
    Lease(ReaderPool& pool, std::size_t slot) : pool_(pool), slot_(slot) {}
    ~Lease() { pool_.give_back(slot_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() const { return *pool_.all_[slot_]; }

   private:
    ReaderPool& pool_;
    std::size_t slot_;
  };

  Lease acquire() {
    if (const auto slot = try_take()) return Lease(*this, *slot);
    std::unique_lock lock(mu_);
    // Counted before looking again: a slot given back after this sees the waiter and wakes it,
    // one given back before it is found by the look (all sequentially consistent).
    waiters_.fetch_add(1);
    std::optional<std::size_t> slot;
    idle_available_.wait(lock, [&] { return (slot = try_take()).has_value(); });
    waiters_.fetch_sub(1);
    return Lease(*this, *slot);
  }

 private:
  std::optional<std::size_t> try_take() {
    static std::atomic<std::size_t> threads{0};
    thread_local const std::size_t own = threads.fetch_add(1, std::memory_order_relaxed);
    const std::size_t n = all_.size();
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t slot = (own + k) % n;
      if (!taken_[slot].load() && !taken_[slot].exchange(true)) return slot;
    }
    return std::nullopt;
  }

  void give_back(std::size_t slot) {
    taken_[slot].store(false);
    if (waiters_.load() == 0) return;
    {
      std::lock_guard lock(mu_);  // the waiter is inside wait() or has not looked yet
    }
    idle_available_.notify_one();
  }

  std::vector<std::unique_ptr<Connection>> all_;
  std::unique_ptr<std::atomic<bool>[]> taken_;
  std::atomic<int> waiters_{0};
  std::mutex mu_;
  std::condition_variable idle_available_;
};

}  // namespace

class SqliteDatabase::Impl {
 public:
  explicit Impl(SqliteStoreOptions options);
  ~Impl();

  const std::string& path() const { return options_.path; }
  void write(std::function<bool(Connection&)> apply);
  void write_async(std::function<bool(Connection&)> apply,
                   std::function<void(std::exception_ptr)> done);
  ReaderPool::Lease reader() { return readers_->acquire(); }
  bool writable();
  void set_on_commit(std::function<void()> callback) {
    std::lock_guard lock(on_commit_mu_);
    on_commit_ = std::move(callback);
  }

 private:
  struct WriteOp {
    std::function<bool(Connection&)> apply;
    std::exception_ptr error;
    std::function<void(std::exception_ptr)> done;  // called once, as the op's last touch
  };

  void writer_loop();
  void run_batch(std::span<WriteOp* const> batch);
  void notify_commit();

  const SqliteStoreOptions options_;
  std::unique_ptr<Connection> write_db_;  // used only by the writer thread once it runs
  std::unique_ptr<ReaderPool> readers_;   // declared after write_db_: closed before it

  std::mutex queue_mu_;
  std::condition_variable queue_ready_;
  std::deque<WriteOp*> queue_;  // guarded by queue_mu_; owned from write_async to its done call
  bool stopping_ = false;       // guarded by queue_mu_

  std::mutex on_commit_mu_;
  std::function<void()> on_commit_;  // guarded by on_commit_mu_

  std::atomic<bool> writes_failing_{false};  // set by the writer after each batch
  std::mutex probe_mu_;                      // one probe write at a time

  std::thread writer_;  // started last, joined first
};

SqliteDatabase::Impl::Impl(SqliteStoreOptions options) : options_(std::move(options)) {
  const std::string& path = options_.path;
  const auto fail = [&](const std::string& why) {
    throw InfraError(InfraError::Kind::permanent,
                     "cannot open the SQLite store '" + path + "': " + why);
  };
  if (path.empty() || path == ":memory:")
    fail("the path must name a file (readers and the writer share it)");
  if (options_.max_batch < 1) fail("max_batch must be at least 1");
  if (options_.read_connections < 1) fail("read_connections must be at least 1");
  try {
    create_private_file(path);
    write_db_ = std::make_unique<Connection>(
        path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, kBusyTimeoutMs);
    {
      auto q = write_db_->query("PRAGMA journal_mode=WAL");
      if (!q.step() || q.text(0) != "wal")
        throw InfraError(InfraError::Kind::permanent, "WAL journal mode is not available");
    }
    sqlite::migrate(*write_db_);
    readers_ = std::make_unique<ReaderPool>(path, options_.read_connections);
  } catch (const InfraError& e) {
    fail(e.what());
  }
  writer_ = std::thread([this] { writer_loop(); });
}

SqliteDatabase::Impl::~Impl() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_ready_.notify_one();
  writer_.join();
}

void SqliteDatabase::Impl::write(std::function<bool(Connection&)> apply) {
  std::promise<std::exception_ptr> committed;
  std::future<std::exception_ptr> outcome = committed.get_future();
  write_async(std::move(apply),
              [&committed](std::exception_ptr error) { committed.set_value(std::move(error)); });
  if (const std::exception_ptr error = outcome.get()) std::rethrow_exception(error);
}

void SqliteDatabase::Impl::write_async(std::function<bool(Connection&)> apply,
                                       std::function<void(std::exception_ptr)> done) {
  auto op = std::make_unique<WriteOp>();
  op->apply = std::move(apply);
  op->done = std::move(done);
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) throw InfraError(InfraError::Kind::permanent, "the SQLite store is closing");
    queue_.push_back(op.release());
  }
  queue_ready_.notify_one();
}

bool SqliteDatabase::Impl::writable() {
  if (!writes_failing_.load()) return true;
  std::lock_guard lock(probe_mu_);
  if (!writes_failing_.load()) return true;  // the probe before this one, or a write, succeeded
  try {
    write([](Connection& db) {
      db.query(
            "INSERT INTO write_probe(id, writes) VALUES (1, 1) "
            "ON CONFLICT(id) DO UPDATE SET writes = writes + 1")
          .run();
      return false;
    });
  } catch (const std::exception&) {
    // The batch's outcome is in writes_failing_, whoever else's write was in it.
  }
  return !writes_failing_.load();
}

void SqliteDatabase::Impl::writer_loop() {
  const auto max_batch = static_cast<std::size_t>(options_.max_batch);
  std::vector<WriteOp*> batch;
  batch.reserve(max_batch);
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      while (!queue_.empty() && batch.size() < max_batch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

void SqliteDatabase::Impl::run_batch(std::span<WriteOp* const> batch) {
  Connection& db = *write_db_;
  bool wake = false;     // some op asked for on_commit
  bool failing = false;  // an op failed for a reason of the database's, not of its own
  try {
    db.query("BEGIN IMMEDIATE").run();
    for (WriteOp* op : batch) {
      // A savepoint per op: one failing write is undone alone, the others still commit.
      db.query("SAVEPOINT op").run();
      try {
        const bool op_wakes = op->apply(db);
        db.query("RELEASE op").run();
        wake = wake || op_wakes;
      } catch (...) {
        op->error = std::current_exception();
        failing = failing || is_transient(op->error);
        // After some errors (IOERR, FULL, NOMEM) SQLite has already rolled back the whole
        // transaction, taking the ops before this one with it.
        if (!db.in_transaction())
          throw InfraError(InfraError::Kind::transient,
                           "SQLite rolled the transaction back after another write failed");
        db.query("ROLLBACK TO op").run();
        db.query("RELEASE op").run();
      }
    }
    db.query("COMMIT").run();
  } catch (const std::exception& e) {
    if (db.in_transaction()) sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    const auto error = std::make_exception_ptr(InfraError(
        InfraError::Kind::transient, std::string("SQLite: write not committed: ") + e.what()));
    for (WriteOp* op : batch)
      if (!op->error) op->error = error;
    wake = false;
    failing = true;
  }
  writes_failing_.store(failing);
  if (wake) notify_commit();
  // The last touch of each op: its caller hears the outcome and the op is gone.
  for (WriteOp* op : batch) {
    const std::unique_ptr<WriteOp> finished(op);
    try {
      finished->done(finished->error);
    } catch (...) {
      // A completion must not take down the writer; it has nobody else to tell.
    }
  }
}

void SqliteDatabase::Impl::notify_commit() {
  std::lock_guard lock(on_commit_mu_);
  if (!on_commit_) return;
  try {
    on_commit_();
  } catch (...) {
    // A throwing callback must not take down the writer; the events are committed and a
    // dispatcher also polls the outbox, so a missed nudge only delays delivery.
  }
}

SqliteDatabase::SqliteDatabase(SqliteStoreOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SqliteDatabase::~SqliteDatabase() = default;

const std::string& SqliteDatabase::path() const { return impl_->path(); }

bool SqliteDatabase::writable() { return impl_->writable(); }

void SqliteDatabase::write(std::function<bool(Connection&)> apply) {
  impl_->write(std::move(apply));
}

void SqliteDatabase::write_async(std::function<bool(Connection&)> apply,
                                 std::function<void(std::exception_ptr)> done) {
  impl_->write_async(std::move(apply), std::move(done));
}

void SqliteDatabase::read(const std::function<void(Connection&)>& reader) {
  auto lease = impl_->reader();
  reader(*lease);
}

void SqliteDatabase::set_on_commit(std::function<void()> callback) {
  impl_->set_on_commit(std::move(callback));
}

}  // namespace orderflow::adapters
