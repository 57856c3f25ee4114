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
// Serialises outbox appends across processes (see finish_batch). Any fixed number works as long
// as nothing else in the database uses it.
constexpr std::int64_t kOutboxLockKey = 0x6f66'6f75'7462'6f78;  // "ofoutbox"
const std::string kLockOutbox =
    "SELECT pg_advisory_xact_lock(" + std::to_string(kOutboxLockKey) + ")";
// The events of a whole batch in one statement, seq in the order they were appended.
constexpr std::string_view kInsertEvents =
    "INSERT INTO outbox (event_id, type, subject, time_us, data) "
    "SELECT e, t, s, u::bigint, d FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::text[]) WITH ORDINALITY AS r(e, t, s, u, d, n) ORDER BY n";
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
    db->drop_deferred();
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

  void write(std::function<bool(Connection&, Appends&)> apply);
  void write_async(std::function<bool(Connection&, Appends&)> apply,
                   std::function<void(std::exception_ptr)> done);
  void read(const std::function<void(Connection&)>& reader);
  void set_on_commit(std::function<void()> callback) {
    std::lock_guard lock(on_commit_mu_);
    on_commit_ = std::move(callback);
  }

 private:
  struct WriteOp {
    std::function<bool(Connection&, Appends&)> apply;
    Appends appends;  // what the last run of `apply` handed to the batch
    int attempts = 0;
    bool requeued = false;  // a deadlock victim: runs again in the next batch
    std::exception_ptr error;
    std::function<void(std::exception_ptr)> done;  // called once, as the op's last touch
  };
  // rows_refused: a row handed over through Appends was refused (the batch is rolled back, and
  // each of its writes runs again alone to find whose it was).
  enum class Attempt { finished, lost_before_commit, rows_refused };

  void writer_loop();
  std::vector<WriteOp*> run_batch(std::vector<WriteOp*>& batch);
  Attempt try_batch(Connection& db, std::span<WriteOp* const> batch, std::vector<WriteOp*>& again,
                    bool& notify);
  void insert_rows(Connection& db, std::span<WriteOp* const> batch, bool& appended);
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
  std::deque<WriteOp*> queue_;  // guarded by queue_mu_; owned from write_async to its done call
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

void Database::Impl::write(std::function<bool(Connection&, Appends&)> apply) {
  std::promise<std::exception_ptr> committed;
  std::future<std::exception_ptr> outcome = committed.get_future();
  write_async(std::move(apply),
              [&committed](std::exception_ptr error) { committed.set_value(std::move(error)); });
  if (const std::exception_ptr error = outcome.get()) std::rethrow_exception(error);
}

void Database::Impl::write_async(std::function<bool(Connection&, Appends&)> apply,
                                 std::function<void(std::exception_ptr)> done) {
  auto op = std::make_unique<WriteOp>();
  op->apply = std::move(apply);
  op->done = std::move(done);
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) throw InfraError(InfraError::Kind::permanent, "the PostgreSQL store is closing");
    queue_.push_back(op.release());
  }
  queue_ready_.notify_one();
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
  std::vector<WriteOp*> again;
  bool notify = false;
  std::exception_ptr failure;
  for (int attempt = 1;; ++attempt) {
    try {
      auto db = pool_.acquire();
      const Attempt outcome = try_batch(*db, batch, again, notify);
      if (outcome == Attempt::finished) break;
      if (outcome == Attempt::rows_refused) {
        // Rare (a constraint refused a row): each write alone, so only its own write fails.
        std::vector<WriteOp*> all_again;
        for (WriteOp* op : batch) {
          bool wakes = false;
          std::vector<WriteOp*> op_again;
          if (try_batch(*db, std::span<WriteOp* const>(&op, 1), op_again, wakes) !=
              Attempt::finished)
            throw InfraError(InfraError::Kind::transient,
                             "the connection to the database was lost");
          notify = notify || wakes;
          all_again.insert(all_again.end(), op_again.begin(), op_again.end());
        }
        again = std::move(all_again);
        break;
      }
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
  // The last touch of each op: its caller hears the outcome and the op is gone.
  for (WriteOp* op : batch) {
    if (op->requeued) continue;
    const std::unique_ptr<WriteOp> finished(op);
    try {
      finished->done(finished->error);
    } catch (...) {
      // A completion must not take down a writer; it has nobody else to tell.
    }
  }
  return again;
}

// One transaction for the whole batch; returns lost_before_commit when the connection broke
// before COMMIT was sent, rows_refused when a row handed over through Appends was refused (the
// transaction is then rolled back), and throws when the batch failed otherwise.
Database::Impl::Attempt Database::Impl::try_batch(Connection& db, std::span<WriteOp* const> batch,
                                                  std::vector<WriteOp*>& again, bool& notify) {
  again.clear();
  notify = false;
  for (WriteOp* op : batch) {
    op->error = nullptr;
    op->requeued = false;
    op->appends.clear();
  }
  // One write needs no savepoint: when it fails, the whole transaction is rolled back.
  const bool savepoints = batch.size() > 1;
  bool committing = false;
  // Transaction control is deferred (Connection::defer) so it rides along with the next
  // command ("RELEASE op; SAVEPOINT op" between two writes), and a write that only hands rows
  // over sends nothing at all. A failure there fails the batch, not one write.
  db.drop_deferred();
  const std::uint64_t sent_at_start = db.commands_sent();
  try {
    db.defer("BEGIN");
    for (WriteOp* op : batch) {
      const std::size_t mark = db.deferred_size();
      const std::uint64_t sent_before = db.commands_sent();
      if (savepoints) db.defer("SAVEPOINT op");
      try {
        const bool wakes = op->apply(db, op->appends);
        if (db.commands_sent() == sent_before)
          db.drop_deferred(mark);  // it ran no statement: no savepoint to keep
        else if (savepoints)
          db.defer("RELEASE op");
        notify = notify || wakes;
      } catch (...) {
        if (db.broken()) throw;
        const std::exception_ptr error = std::current_exception();
        op->appends.clear();
        if (db.commands_sent() == sent_before) {
          db.drop_deferred(mark);
        } else if (!savepoints) {
          db.drop_deferred();
          db.exec("ROLLBACK");
          settle_failure(*op, error, again);
          return Attempt::finished;
        } else {
          db.defer("ROLLBACK TO op; RELEASE op");
        }
        settle_failure(*op, error, again);
      }
    }
    bool appended = false;
    try {
      insert_rows(db, batch, appended);
    } catch (const Error&) {
      if (db.broken()) throw;
      const std::exception_ptr error = std::current_exception();
      db.drop_deferred();
      db.exec("ROLLBACK");
      if (batch.size() > 1) return Attempt::rows_refused;
      batch[0]->appends.clear();
      settle_failure(*batch[0], error, again);
      return Attempt::finished;
    }
    notify = notify || appended;
    if (db.commands_sent() == sent_at_start) {  // no write sent anything: nothing to commit
      db.drop_deferred();
      return Attempt::finished;
    }
    // Delivered to every listener at the commit, not before; nothing when it rolls back. The
    // token is ours (digits, '-' and hex), so it can be written into the SQL.
    if (notify) db.defer("NOTIFY " + std::string(kChannel) + ", '" + token_ + "'");
    committing = true;
    db.exec("COMMIT");
    return Attempt::finished;
  } catch (const std::exception&) {
    if (!db.broken() || db.timed_out()) throw;
    if (!committing) return Attempt::lost_before_commit;
    throw InfraError(InfraError::Kind::transient,
                     "the connection was lost during COMMIT; the writes may or may not have been "
                     "committed");
  }
}

// The rows the batch's writes handed over: one INSERT per kind of row, in the order the kinds
// first appeared, then the events.
void Database::Impl::insert_rows(Connection& db, std::span<WriteOp* const> batch, bool& appended) {
  std::vector<const Appends::Insert*> kinds;
  std::vector<const domain::Event*> events;
  for (const WriteOp* op : batch) {
    if (op->requeued || op->error) continue;
    for (const auto& [into, row] : op->appends.rows())
      if (std::find(kinds.begin(), kinds.end(), into) == kinds.end()) kinds.push_back(into);
    for (const domain::Event& e : op->appends.events()) events.push_back(&e);
  }
  for (const Appends::Insert* into : kinds) {
    std::vector<std::vector<std::string>> columns(static_cast<std::size_t>(into->columns));
    for (const WriteOp* op : batch) {
      if (op->requeued || op->error) continue;
      for (const auto& [kind, row] : op->appends.rows()) {
        if (kind != into) continue;
        for (std::size_t c = 0; c < columns.size(); ++c) columns[c].push_back(row.at(c));
      }
    }
    std::vector<Param> params;
    params.reserve(columns.size());
    for (const auto& column : columns) params.push_back(to_param(TextArray{column}));
    db.query_with(into->sql, params);
  }
  if (events.empty()) return;
  // Outbox seq values come from a sequence when the row is inserted, not when it commits:
  // without this lock, a transaction could take seq 7 and commit after another took 8 and
  // committed, and a tailer that had read up to 8 would never see 7. Every transaction that
  // appends events takes this lock right before it inserts them, at the end of its batch, and
  // PostgreSQL releases it only after the commit is visible, so seq order is commit order. It is
  // held only for this insert and the COMMIT: the writes themselves run without it (two writers'
  // batches overlap), and they order themselves with row locks (updates and deletes read the
  // order FOR UPDATE) and idempotency-key locks.
  std::vector<std::string> ids, types, subjects, times, data;
  for (const domain::Event* e : events) {
    ids.push_back(e->id);
    types.push_back(e->type);
    subjects.push_back(e->subject);
    times.push_back(std::to_string(to_us(e->time)));
    data.push_back(e->data);
  }
  db.defer(kLockOutbox);
  db.query(kInsertEvents, TextArray{ids}, TextArray{types}, TextArray{subjects}, TextArray{times},
           TextArray{data});
  appended = true;
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

void Database::write(std::function<bool(Connection&)> apply) {
  impl_->write([apply = std::move(apply)](Connection& db, Appends&) { return apply(db); });
}

void Database::write_events(std::function<bool(Connection&, Appends&)> apply) {
  impl_->write(std::move(apply));
}

void Database::write_events_async(std::function<bool(Connection&, Appends&)> apply,
                                  std::function<void(std::exception_ptr)> done) {
  impl_->write_async(std::move(apply), std::move(done));
}

void Database::Appends::insert(const Insert& into, std::vector<std::string> row) {
  rows_.emplace_back(&into, std::move(row));
}

void Database::Appends::event(const domain::Event& e) { events_.push_back(e); }

void Database::Appends::clear() {
  rows_.clear();
  events_.clear();
}

void Database::read(const std::function<void(Connection&)>& reader) { impl_->read(reader); }

void Database::set_on_commit(std::function<void()> callback) {
  impl_->set_on_commit(std::move(callback));
}

}  // namespace orderflow::adapters::pg
