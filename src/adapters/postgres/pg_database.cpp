// Map: Pool lends connections; Impl owns the pool, the writer threads and their queue (group
// commit: one transaction per batch, a savepoint per write) and the LISTEN thread, which turns
// other processes' NOTIFYs into on_commit calls.
#include "adapters/postgres/pg_database.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <random>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/postgres/pg_migrations.hpp"

namespace orderflow::adapters::pg {
namespace {

using namespace std::chrono_literals;
using ports::InfraError;

constexpr const char* kChannel = "orderflow_events";
const std::string kListen = std::string("LISTEN ") + kChannel;
// Serialises outbox appends across processes (see try_batch). Any fixed number works as long as
// nothing else in the database uses it.
constexpr std::int64_t kOutboxLockKey = 0x6f66'6f75'7462'6f78;  // "ofoutbox"
const std::string kLockOutbox =
    "SELECT pg_advisory_xact_lock(" + std::to_string(kOutboxLockKey) + ")";
// A write chosen as a deadlock victim runs again in the next batch, up to this many times.
constexpr int kMaxAttempts = 5;
constexpr std::chrono::milliseconds kReconnectMin = 100ms;
constexpr std::chrono::milliseconds kReconnectMax = 2s;

// Identifies this process's NOTIFYs, so the LISTEN thread skips its own commits (the writer has
// already called on_commit for them).
std::string instance_token() {
  std::random_device random;
  std::string token = std::to_string(::getpid()) + "-";
  for (int i = 0; i < 4; ++i) {
    char buf[16];
    const auto end = std::to_chars(buf, buf + sizeof buf, random(), 16).ptr;
    token.append(buf, end);
  }
  return token;
}

// The eventfd that wakes the LISTEN thread when the database closes.
class EventFd {
 public:
  EventFd() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0)
      throw InfraError(InfraError::Kind::permanent,
                       std::string("PostgreSQL store: eventfd: ") + std::strerror(errno));
  }
  ~EventFd() { ::close(fd_); }
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  int fd() const { return fd_; }
  void signal() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
  }

 private:
  int fd_;
};

// Connections lent to one thread at a time, opened on demand up to `size`. A connection that
// broke is dropped when it comes back, so the pool heals by itself once the database returns.
class Pool {
 public:
  Pool(const Settings& settings, int size) : settings_(settings), size_(size) {}

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> db) : pool_(pool), db_(std::move(db)) {}
    ~Lease() { pool_.give_back(std::move(db_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() const { return *db_; }

   private:
    Pool& pool_;
    std::unique_ptr<Connection> db_;
  };

  // Throws Error(transient) when a new connection is needed and cannot be made.
  Lease acquire() {
    for (;;) {
      std::unique_ptr<Connection> db;
      {
        std::unique_lock lock(mu_);
        available_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
        if (!idle_.empty()) {
          db = std::move(idle_.back());
          idle_.pop_back();
        } else {
          ++open_;  // a slot for the connection opened below, outside the lock
        }
      }
      if (db) {
        // A server restart leaves a notice on every idle connection: drop those before use.
        if (db->check_alive()) return Lease(*this, std::move(db));
        db.reset();
        forget_one();
        continue;
      }
      try {
        db = std::make_unique<Connection>(settings_);
      } catch (...) {
        forget_one();
        throw;
      }
      return Lease(*this, std::move(db));
    }
  }

  // Closes every idle connection (after the database was away, they are likely dead).
  void discard_idle() {
    std::vector<std::unique_ptr<Connection>> dropped;
    {
      std::lock_guard lock(mu_);
      dropped.swap(idle_);
      open_ -= static_cast<int>(dropped.size());
    }
    available_.notify_all();
  }

 private:
  void give_back(std::unique_ptr<Connection> db) {
    if (!db->broken() && !db->idle()) {
      try {
        db->exec("ROLLBACK");
      } catch (const InfraError&) {
        // Dropped below.
      }
    }
    if (db->broken() || !db->idle()) db.reset();
    {
      std::lock_guard lock(mu_);
      if (db)
        idle_.push_back(std::move(db));
      else
        --open_;
    }
    available_.notify_one();
  }

  void forget_one() {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    available_.notify_one();
  }

  const Settings& settings_;
  const int size_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // guarded by mu_: idle, lent or being opened
};

}  // namespace

class Database::Impl {
 public:
  explicit Impl(const PostgresStoreOptions& options);
  ~Impl();

  void write(Outbox outbox, std::function<bool(Connection&)> apply);
  void read(const std::function<void(Connection&)>& reader);
  void set_on_commit(std::function<void()> callback) {
    std::lock_guard lock(on_commit_mu_);
    on_commit_ = std::move(callback);
  }

 private:
  struct WriteOp {
    bool appends_events;
    std::function<bool(Connection&)> apply;
    int attempts = 0;
    bool requeued = false;  // a deadlock victim: runs again in the next batch
    std::exception_ptr error;
    std::promise<void> done;
  };
  enum class Attempt { finished, lost_before_commit };

  void writer_loop();
  std::vector<WriteOp*> run_batch(std::vector<WriteOp*>& batch);
  Attempt try_batch(Connection& db, std::span<WriteOp* const> batch, std::vector<WriteOp*>& again,
                    bool& notify);
  void settle_failure(WriteOp& op, std::exception_ptr error, std::vector<WriteOp*>& again);
  void listener_loop();
  bool wait_for_stop(std::chrono::milliseconds timeout);
  void notify_commit();

  const Settings settings_;
  const std::size_t max_batch_;
  const std::string token_;
  Pool pool_;
  EventFd stop_fd_;
  std::unique_ptr<Connection> listen_db_;  // used only by the LISTEN thread once it runs

  std::mutex queue_mu_;
  std::condition_variable queue_ready_;
  std::deque<WriteOp*> queue_;  // guarded by queue_mu_; each op lives on its waiting caller's stack
  bool stopping_ = false;       // guarded by queue_mu_
  std::atomic<bool> stop_listening_{false};

  std::mutex on_commit_mu_;
  std::function<void()> on_commit_;  // guarded by on_commit_mu_

  std::vector<std::thread> writers_;  // started last, joined first
  std::thread listener_;
};

Database::Impl::Impl(const PostgresStoreOptions& options)
    : settings_(options.url),
      max_batch_(static_cast<std::size_t>(std::max(options.max_batch, 1))),
      token_(instance_token()),
      pool_(settings_, options.pool_size) {
  if (options.pool_size < 1)
    throw InfraError(InfraError::Kind::permanent, "store_pool_size must be at least 1");
  if (options.max_batch < 1)
    throw InfraError(InfraError::Kind::permanent, "the PostgreSQL max_batch must be at least 1");
  {
    auto db = pool_.acquire();
    migrate(*db);
  }
  // LISTEN before the first write can happen, so no commit of another process goes unheard.
  listen_db_ = std::make_unique<Connection>(settings_, stop_fd_.fd());
  listen_db_->exec(kListen.c_str());
  // Two writers let one batch run its statements while the other commits; more would only
  // queue up behind the outbox lock.
  const int writers = options.pool_size >= 4 ? 2 : 1;
  for (int i = 0; i < writers; ++i) writers_.emplace_back([this] { writer_loop(); });
  listener_ = std::thread([this] { listener_loop(); });
}

Database::Impl::~Impl() {
  stop_listening_ = true;
  stop_fd_.signal();
  listener_.join();
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  for (std::thread& w : writers_) w.join();
}

void Database::Impl::write(Outbox outbox, std::function<bool(Connection&)> apply) {
  WriteOp op{outbox == Outbox::appends, std::move(apply), 0, false, nullptr, {}};
  std::future<void> committed = op.done.get_future();
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) throw InfraError(InfraError::Kind::permanent, "the PostgreSQL store is closing");
    queue_.push_back(&op);
  }
  queue_ready_.notify_one();
  committed.get();
  if (op.error) std::rethrow_exception(op.error);
}

void Database::Impl::read(const std::function<void(Connection&)>& reader) {
  for (int attempt = 1;; ++attempt) {
    auto db = pool_.acquire();
    try {
      reader(*db);
      return;
    } catch (const Error&) {
      // A connection that died unnoticed while idle: once more on a fresh one.
      if (attempt == 1 && (*db).broken() && !(*db).timed_out()) continue;
      throw;
    }
  }
}

void Database::Impl::writer_loop() {
  std::vector<WriteOp*> batch;
  batch.reserve(max_batch_);
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    const std::vector<WriteOp*> again = run_batch(batch);
    if (!again.empty()) {
      {
        std::lock_guard lock(queue_mu_);
        queue_.insert(queue_.begin(), again.begin(), again.end());
      }
      queue_ready_.notify_one();
    }
    batch.clear();
  }
}

std::vector<Database::Impl::WriteOp*> Database::Impl::run_batch(std::vector<WriteOp*>& batch) {
  // Writes that may append events go last: the outbox lock is then held only for them and the
  // commit, and a batch that holds it never waits for a row lock afterwards (such a cycle with
  // another process's batch would only be broken by the one-second deadlock detector).
  std::stable_partition(batch.begin(), batch.end(),
                        [](const WriteOp* op) { return !op->appends_events; });
  std::vector<WriteOp*> again;
  bool notify = false;
  std::exception_ptr failure;
  for (int attempt = 1;; ++attempt) {
    try {
      auto db = pool_.acquire();
      if (try_batch(*db, batch, again, notify) == Attempt::finished) break;
      // The connection broke before COMMIT went out, so nothing was committed: the batch may
      // run again, once, on another connection (an idle one can die unnoticed).
      if (attempt == 2)
        throw InfraError(InfraError::Kind::transient, "the connection to the database was lost");
    } catch (const std::exception& e) {
      failure = std::make_exception_ptr(
          InfraError(InfraError::Kind::transient, std::string("write not committed: ") + e.what()));
      break;
    }
  }
  if (failure) {
    for (WriteOp* op : batch) {
      if (op->requeued || !op->error) op->error = failure;
      op->requeued = false;
    }
    again.clear();
    notify = false;
  }
  if (notify) notify_commit();
  // The last touch of each op: once released, its caller returns and the op is gone.
  for (WriteOp* op : batch)
    if (!op->requeued) op->done.set_value();
  return again;
}

// One transaction for the whole batch; returns lost_before_commit when the connection broke
// before COMMIT was sent, and throws when the batch failed otherwise.
Database::Impl::Attempt Database::Impl::try_batch(Connection& db, std::span<WriteOp* const> batch,
                                                  std::vector<WriteOp*>& again, bool& notify) {
  again.clear();
  notify = false;
  for (WriteOp* op : batch) {
    op->error = nullptr;
    op->requeued = false;
  }
  // One write needs no savepoint: when it fails, the whole transaction is rolled back.
  const bool savepoints = batch.size() > 1;
  bool outbox_locked = false;
  bool committing = false;
  // Transaction control rides along with the next command, in one round trip ("RELEASE op;
  // SAVEPOINT op" between two writes). A failure there fails the batch, not one write.
  std::string control = "BEGIN";
  const auto also = [&](std::string_view sql) {
    if (!control.empty()) control += "; ";
    control += sql;
  };
  try {
    for (WriteOp* op : batch) {
      if (savepoints) also("SAVEPOINT op");
      // Outbox seq values come from a sequence when the row is inserted, not when it commits:
      // without this lock, a transaction could take seq 7 and commit after another took 8 and
      // committed, and a tailer that had read up to 8 would never see 7. Every transaction that
      // appends takes this lock before it inserts outbox rows (and before it reads the orders
      // its events describe, which also serialises idempotency-key and version checks across
      // processes); PostgreSQL releases it only after the commit is visible, so seq order is
      // commit order. Taken inside the write's savepoint: a write that fails gives it back
      // unless an earlier write of the batch holds it too.
      if (op->appends_events && !outbox_locked) also(kLockOutbox);
      db.exec(control.c_str());
      control.clear();
      try {
        const bool wakes = op->apply(db);
        if (savepoints) also("RELEASE op");
        outbox_locked = outbox_locked || op->appends_events;
        notify = notify || wakes;
      } catch (...) {
        if (db.broken()) throw;
        const std::exception_ptr error = std::current_exception();
        if (!savepoints) {
          db.exec("ROLLBACK");
          settle_failure(*op, error, again);
          return Attempt::finished;
        }
        also("ROLLBACK TO op; RELEASE op");
        settle_failure(*op, error, again);
      }
    }
    // Delivered to every listener at the commit, not before; nothing when it rolls back. The
    // token is ours (digits, '-' and hex), so it can be written into the SQL.
    if (notify) also("NOTIFY " + std::string(kChannel) + ", '" + token_ + "'");
    also("COMMIT");
    committing = true;
    db.exec(control.c_str());
    return Attempt::finished;
  } catch (const std::exception&) {
    if (!db.broken() || db.timed_out()) throw;
    if (!committing) return Attempt::lost_before_commit;
    throw InfraError(InfraError::Kind::transient,
                     "the connection was lost during COMMIT; the writes may or may not have been "
                     "committed");
  }
}

void Database::Impl::settle_failure(WriteOp& op, std::exception_ptr error,
                                    std::vector<WriteOp*>& again) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    if (e.retryable() && ++op.attempts < kMaxAttempts) {
      op.requeued = true;
      again.push_back(&op);
      return;
    }
  } catch (...) {
  }
  op.error = std::move(error);
}

void Database::Impl::listener_loop() {
  std::chrono::milliseconds backoff = kReconnectMin;
  while (!stop_listening_) {
    if (!listen_db_) {
      try {
        auto db = std::make_unique<Connection>(settings_, stop_fd_.fd());
        db->exec(kListen.c_str());
        listen_db_ = std::move(db);
      } catch (const InfraError&) {
        if (wait_for_stop(backoff)) return;
        backoff = std::min(backoff * 2, kReconnectMax);
        continue;
      }
      backoff = kReconnectMin;
      // The database was away: idle pool connections are likely dead too, and commits of other
      // processes may have gone unheard meanwhile.
      pool_.discard_idle();
      notify_commit();
    }
    pollfd fds[2] = {{listen_db_->socket(), POLLIN, 0}, {stop_fd_.fd(), POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      listen_db_.reset();
      continue;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if (fds[0].revents == 0) continue;
    if (!listen_db_->consume_input()) {
      listen_db_.reset();
      continue;
    }
    // Everything that arrived together is one call: a burst of commits wakes the workers once.
    bool foreign = false;
    for (const std::string& payload : listen_db_->take_notifications())
      foreign = foreign || payload != token_;
    if (foreign) notify_commit();
    if (listen_db_->broken()) listen_db_.reset();
  }
}

bool Database::Impl::wait_for_stop(std::chrono::milliseconds timeout) {
  pollfd fd{stop_fd_.fd(), POLLIN, 0};
  ::poll(&fd, 1, static_cast<int>(timeout.count()));
  return stop_listening_;
}

void Database::Impl::notify_commit() {
  std::lock_guard lock(on_commit_mu_);
  if (!on_commit_) return;
  try {
    on_commit_();
  } catch (...) {
    // A throwing callback must not take down a writer or the listener; the commit is done and
    // workers also poll, so a missed nudge only delays delivery.
  }
}

Database::Database(const PostgresStoreOptions& options) : impl_(std::make_unique<Impl>(options)) {}

Database::~Database() = default;

void Database::write(Outbox outbox, std::function<bool(Connection&)> apply) {
  impl_->write(outbox, std::move(apply));
}

void Database::read(const std::function<void(Connection&)>& reader) { impl_->read(reader); }

void Database::set_on_commit(std::function<void()> callback) {
  impl_->set_on_commit(std::move(callback));
}

}  // namespace orderflow::adapters::pg
