// RAII over libpq, private to the PostgreSQL adapter: Settings is the store URL parsed once (with
// the password kept out of every message), Connection owns a PGconn and the statements prepared
// on it, Result owns a PGresult. Parameters and results travel in binary format, so text is
// byte-exact and integers never go through decimal text.
#pragma once

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/time.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters::pg {

// Timestamps are stored as BIGINT microseconds since the Unix epoch, as in the SQLite adapter.
inline std::int64_t to_us(domain::Timestamp t) { return t.time_since_epoch().count(); }
inline domain::Timestamp from_us(std::int64_t us) {
  return domain::Timestamp{std::chrono::microseconds{us}};
}

// An InfraError that also carries the server's SQLSTATE ("" when there was none, e.g. a lost
// connection), so the writer can tell a deadlock it may retry from other failures.
class Error : public ports::InfraError {
 public:
  Error(Kind kind, const std::string& what, std::string sqlstate)
      : ports::InfraError(kind, what), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }
  // A deadlock or serialization failure: the same work succeeds when run again.
  bool retryable() const { return sqlstate_ == "40P01" || sqlstate_ == "40001"; }

 private:
  std::string sqlstate_;
};

// The connection parameters of the `store` setting, and how to talk about them safely.
class Settings {
 public:
  // Throws InfraError(permanent), naming the setting `store`, when `url` cannot be parsed.
  explicit Settings(const std::string& url);

  // How long opening a connection may take: the URL's connect_timeout (seconds) when it has
  // one, else long enough for a loaded server across a network and short enough that a caller
  // hears "unavailable" within seconds when the server is gone.
  std::chrono::milliseconds connect_timeout() const { return connect_timeout_; }
  static constexpr std::chrono::milliseconds kDefaultConnectTimeout{4000};

  // The URL with its password replaced by "***": what messages may show.
  const std::string& redacted_url() const { return redacted_url_; }
  // `message` with every occurrence of the password replaced by "***".
  std::string scrub(std::string message) const;
  // Keyword/value pairs for PQconnectStartParams: the URL's own, plus our defaults (timeouts,
  // keepalives, UTF-8) for whatever the URL leaves unset.
  const std::vector<std::pair<std::string, std::string>>& parameters() const { return params_; }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<std::string> secrets_;  // the password, as written and decoded
  std::string redacted_url_;
  std::chrono::milliseconds connect_timeout_ = kDefaultConnectTimeout;
};

// Array parameters (text[] and bigint[]), sent as array literals.
struct TextArray {
  const std::vector<std::string>& items;
};
struct Int64Array {
  const std::vector<std::int64_t>& items;
};

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r) {}

  // A missing result (lost connection, out of memory) counts as an error.
  ExecStatusType status() const { return r_ ? PQresultStatus(r_.get()) : PGRES_FATAL_ERROR; }
  bool ok() const { return status() == PGRES_COMMAND_OK || status() == PGRES_TUPLES_OK; }
  bool empty() const { return !r_; }
  // An error field (PG_DIAG_SQLSTATE, ...), "" when absent.
  std::string error_field(int code) const;

  int rows() const { return PQntuples(r_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(r_.get(), row, column) != 0; }
  // bigint, integer, smallint or boolean columns (binary format).
  std::int64_t int64(int row, int column) const;
  // text columns, byte-exact.
  std::string text(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> r_;
};

// One parameter as libpq takes it, built by to_param for Connection::query.
struct Param {
  Oid type = 0;
  int format = 1;  // 1: binary, 0: text
  std::string bytes;
};

Param to_param(std::int64_t value);
Param to_param(int value);
Param to_param(std::string_view text);
inline Param to_param(const std::string& text) { return to_param(std::string_view(text)); }
inline Param to_param(const char* text) { return to_param(std::string_view(text)); }
Param to_param(const TextArray& array);
Param to_param(const Int64Array& array);

// One connection, used by one thread at a time. Every failure throws Error; after a failure
// check broken(): a broken connection is never reused.
class Connection {
 public:
  // Connects within settings.connect_timeout() (the session's statement timeout comes with the
  // settings too). While waiting, a readable `cancel_fd` (when >= 0) gives up at once: the
  // LISTEN thread stops so.
  explicit Connection(const Settings& settings, int cancel_fd = -1);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` as a prepared statement (prepared on this connection on its first use) with
  // parameters $1, $2, ... of the given C++ types: std::int64_t/int -> bigint, text -> text,
  // TextArray -> text[], Int64Array -> bigint[].
  template <typename... Args>
  Result query(std::string_view sql, const Args&... args) {
    std::vector<Param> params;
    params.reserve(sizeof...(Args));
    (params.push_back(to_param(args)), ...);
    return run_prepared(sql, params);
  }
  // The same with parameters built at run time (as many as the statement takes).
  Result query_with(std::string_view sql, const std::vector<Param>& params) {
    return run_prepared(sql, params);
  }
  // Runs SQL text without parameters (it may hold several statements); for transaction control,
  // session settings and migrations. Deferred text goes first, in the same round trip.
  void exec(const char* sql);

  // Transaction control ("BEGIN", "SAVEPOINT op", ...) held back until the next command needs
  // the server: it then travels ahead of that command (with exec, in the same message). Lets a
  // batch skip the savepoint of a write that sent no statement, and save round trips.
  void defer(std::string_view sql);
  std::size_t deferred_size() const { return deferred_.size(); }
  // Forgets what was deferred after the first `size` characters (all of it by default).
  void drop_deferred(std::size_t size = 0) { deferred_.resize(std::min(size, deferred_.size())); }
  // Sends what is deferred, if anything.
  void flush();
  // Commands sent to the server so far (deferred text counts when it is sent).
  std::uint64_t commands_sent() const { return commands_sent_; }

  // How long a reply may take before the connection is given up (a little more than the
  // session's statement timeout, so that one normally ends a slow statement first).
  void set_reply_timeout(std::chrono::milliseconds timeout) { reply_timeout_ = timeout; }
  static constexpr std::chrono::milliseconds kDefaultReplyTimeout{7000};

  // True once the connection to the server is lost (or was given up on).
  bool broken() const { return abandoned_ || PQstatus(conn_.get()) != CONNECTION_OK; }
  // True when broken because a reply did not come in time (the server, not just this
  // connection, is in trouble: trying again elsewhere would only double the wait).
  bool timed_out() const { return abandoned_; }
  // True when no transaction is open (and nothing is in flight).
  bool idle() const { return PQtransactionStatus(conn_.get()) == PQTRANS_IDLE; }
  // Reads whatever the server sent while the connection sat unused (a shutdown notice after a
  // restart, notifications); false when that shows the connection is gone.
  bool check_alive();

  // For the LISTEN thread: the socket to poll, and the notifications received so far.
  int socket() const { return PQsocket(conn_.get()); }
  bool consume_input() { return PQconsumeInput(conn_.get()) == 1; }
  // The payloads of the notifications read so far (consume_input reads more).
  std::vector<std::string> take_notifications();

 private:
  struct Prepared {
    std::string name;
    std::vector<Oid> types;
  };
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  struct Finish {
    void operator()(PGconn* c) const { PQfinish(c); }
  };

  Result run_prepared(std::string_view sql, const std::vector<Param>& params);
  // Waits for the results of the command just sent (an empty Result when `sent` is false);
  // the first error when there was one, else the last result. Throws after reply_timeout_.
  Result reply(bool sent, std::string_view sql);
  // Throws what `result` (or the connection, when it has none) says went wrong.
  [[noreturn]] void fail(const Result& result, std::string_view sql);

  const Settings& settings_;
  std::unique_ptr<PGconn, Finish> conn_;
  std::chrono::milliseconds reply_timeout_ = kDefaultReplyTimeout;
  bool abandoned_ = false;  // a reply timed out mid-command
  std::string deferred_;    // see defer()
  std::uint64_t commands_sent_ = 0;
  std::unordered_map<std::string, Prepared, SqlHash, std::equal_to<>> prepared_;
};

}  // namespace orderflow::adapters::pg
