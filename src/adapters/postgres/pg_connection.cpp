#include "adapters/postgres/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace orderflow::adapters::pg {
namespace {

using ports::InfraError;

// Type OIDs (catalog/pg_type_d.h is a server header, not part of libpq-dev).
constexpr Oid kBool = 16;
constexpr Oid kInt8 = 20;
constexpr Oid kInt2 = 21;
constexpr Oid kInt4 = 23;
constexpr Oid kText = 25;
constexpr Oid kTextArray = 1009;
constexpr Oid kInt8Array = 1016;

// Every statement must end within this, so a stuck lock never holds a caller long (the client
// gives up on a reply a little later: Connection::kDefaultReplyTimeout).
constexpr const char* kSessionOptions = "-c statement_timeout=5000";

// Defaults for what the URL leaves unset. A dead peer is noticed within a few seconds: idle
// connections by keepalives, a request in flight by tcp_user_timeout (ms).
constexpr std::pair<const char*, const char*> kDefaults[] = {
    {"keepalives", "1"},       {"keepalives_idle", "3"},     {"keepalives_interval", "1"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "6000"}, {"application_name", "orderflow"},
};

// libpq's messages end in a newline and may span lines ("...refused\n\tIs the server
// running..."): one line reads better in a log.
std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.remove_suffix(1);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\n' && s[i] != '\r') {
      out += s[i];
      continue;
    }
    while (i + 1 < s.size() && (s[i + 1] == '\t' || s[i + 1] == '\n' || s[i + 1] == ' ')) ++i;
    out += "; ";
  }
  return out;
}

// Enough of a statement to recognise it in a message, never its parameter values.
std::string sql_excerpt(std::string_view sql) {
  std::string out;
  for (const char c : sql.substr(0, 200)) {
    if (c == '\n' || c == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
    if (out.size() >= 60) return out + "...";
  }
  return out;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (std::size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
}

// The password as written in a postgresql:// URL ("user:PASSWORD@host"); libpq ends the user
// part at the first '@' or '/', and so does this.
std::string_view raw_uri_password(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const std::string_view rest = url.substr(scheme + 3);
  const std::size_t end = rest.find_first_of("@/");
  if (end == std::string_view::npos || rest[end] != '@') return {};
  const std::string_view userinfo = rest.substr(0, end);
  const std::size_t colon = userinfo.find(':');
  return colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1);
}

// The value of a "password=" query parameter, as written.
std::string_view raw_query_password(std::string_view url) {
  for (std::size_t at = url.find("password="); at != std::string_view::npos;
       at = url.find("password=", at + 1)) {
    if (at == 0 || (url[at - 1] != '?' && url[at - 1] != '&')) continue;
    std::string_view value = url.substr(at + 9);
    return value.substr(0, value.find('&'));
  }
  return {};
}

InfraError::Kind classify(std::string_view sqlstate, bool connection_lost) {
  if (connection_lost) return InfraError::Kind::transient;
  // 08 connection, 40 rollback (deadlock, serialization), 53 resources, 57 operator
  // intervention (statement timeout, shutdown), 58 system; 55P03 lock not available.
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58" ||
      sqlstate == "55P03")
    return InfraError::Kind::transient;
  return InfraError::Kind::permanent;
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// An element of an array literal: always quoted, with '"' and '\' escaped.
void append_array_element(std::string& out, std::string_view item) {
  out += '"';
  for (const char c : item) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

// --- Settings ---

Settings::Settings(const std::string& url) {
  // The password as written (maybe percent-encoded) is known before parsing, so even a parse
  // error that quotes the URL does not show it.
  for (const std::string_view raw : {raw_uri_password(url), raw_query_password(url)})
    if (!raw.empty()) secrets_.emplace_back(raw);
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
  if (parsed == nullptr) {
    const std::string why = error != nullptr ? trimmed(error) : "out of memory";
    PQfreemem(error);
    throw InfraError(InfraError::Kind::permanent,
                     "store: not a valid PostgreSQL URL (" + scrub(url) + "): " + scrub(why));
  }
  std::string options;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "password" && *o->val != '\0') secrets_.emplace_back(o->val);  // decoded
    if (key == "options") {
      options = o->val;
      continue;
    }
    if (key == "client_encoding") continue;  // binary text is read as UTF-8: forced below
    // libpq ignores connect_timeout in asynchronous connects: Connection applies it instead.
    if (key == "connect_timeout") {
      int seconds = 0;
      const std::string_view v = o->val;
      if (std::from_chars(v.data(), v.data() + v.size(), seconds).ec == std::errc{} && seconds > 0)
        connect_timeout_ = std::chrono::seconds(std::max(seconds, 2));  // libpq's minimum
      continue;
    }
    params_.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(parsed);
  for (const auto& preset : kDefaults) {
    const bool set = std::any_of(params_.begin(), params_.end(),
                                 [&](const auto& p) { return p.first == preset.first; });
    if (!set) params_.emplace_back(preset.first, preset.second);
  }
  params_.emplace_back("client_encoding", "UTF8");
  // Ours first: a "-c" in the URL's own options overrides it.
  params_.emplace_back("options", options.empty() ? std::string(kSessionOptions)
                                                  : std::string(kSessionOptions) + " " + options);
  redacted_url_ = scrub(url);
}

std::string Settings::scrub(std::string message) const {
  for (const std::string& secret : secrets_) replace_all(message, secret, "***");
  return message;
}

// --- parameters ---

Param to_param(std::int64_t value) {
  Param p{kInt8, 1, {}};
  put_be(p.bytes, static_cast<std::uint64_t>(value), 8);
  return p;
}

Param to_param(int value) { return to_param(static_cast<std::int64_t>(value)); }

Param to_param(std::string_view text) { return Param{kText, 1, std::string(text)}; }

Param to_param(const TextArray& array) {
  // Text format: the array literal is simpler than the binary array layout, and every element
  // is quoted, so any text survives.
  Param p{kTextArray, 0, "{"};
  for (std::size_t i = 0; i < array.items.size(); ++i) {
    if (i > 0) p.bytes += ',';
    append_array_element(p.bytes, array.items[i]);
  }
  p.bytes += '}';
  return p;
}

Param to_param(const Int64Array& array) {
  Param p{kInt8Array, 0, "{"};
  for (std::size_t i = 0; i < array.items.size(); ++i) {
    if (i > 0) p.bytes += ',';
    p.bytes += std::to_string(array.items[i]);
  }
  p.bytes += '}';
  return p;
}

// --- Result ---

std::int64_t Result::int64(int row, int column) const {
  const auto bad = [&](const std::string& why) {
    return InfraError(InfraError::Kind::permanent,
                      "PostgreSQL: result column " + std::to_string(column) + " " + why);
  };
  const Oid type = PQftype(r_.get(), column);
  int size = 0;
  switch (type) {
    case kInt8:
      size = 8;
      break;
    case kInt4:
      size = 4;
      break;
    case kInt2:
      size = 2;
      break;
    case kBool:
      size = 1;
      break;
    default:
      throw bad("is not an integer (type " + std::to_string(type) + ")");
  }
  // A NULL (or a text-format value) has no binary integer to read.
  if (PQgetisnull(r_.get(), row, column) != 0) throw bad("is NULL");
  if (PQfformat(r_.get(), column) != 1 || PQgetlength(r_.get(), row, column) != size)
    throw bad("is not a binary integer");
  const auto* v = reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, column));
  std::uint64_t x = 0;
  for (int i = 0; i < size; ++i) x = (x << 8) | v[i];  // network byte order
  switch (size) {
    case 8:
      return static_cast<std::int64_t>(x);
    case 4:
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(x));
    case 2:
      return static_cast<std::int16_t>(static_cast<std::uint16_t>(x));
    default:
      return x != 0 ? 1 : 0;
  }
}

std::string Result::text(int row, int column) const {
  const char* v = PQgetvalue(r_.get(), row, column);
  return std::string(v, static_cast<std::size_t>(PQgetlength(r_.get(), row, column)));
}

std::string Result::error_field(int code) const {
  const char* v = r_ ? PQresultErrorField(r_.get(), code) : nullptr;
  return v != nullptr ? v : "";
}

std::int64_t Result::affected() const {
  const std::string_view s = PQcmdTuples(r_.get());
  std::int64_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// --- Connection ---

Connection::Connection(const Settings& settings, int cancel_fd) : settings_(settings) {
  const std::chrono::milliseconds timeout = settings.connect_timeout();
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [key, value] : settings.parameters()) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  const auto fail_connect = [&](const std::string& why) {
    throw Error(InfraError::Kind::transient,
                "cannot connect to the PostgreSQL store (store = " + settings_.redacted_url() +
                    "): " + settings_.scrub(why),
                "");
  };
  // The asynchronous form, so that the wait has one deadline (connect_timeout applies per host
  // and address) and can be cut short by cancel_fd.
  conn_.reset(PQconnectStartParams(keys.data(), values.data(), 0));
  if (!conn_) fail_connect("out of memory");
  // The adapter has no log of its own, and server notices ("already exists, skipping", the
  // FATAL of a shutdown that also breaks the connection) need nobody's attention: errors that
  // matter reach the caller as exceptions.
  PQsetNoticeProcessor(
      conn_.get(), [](void*, const char*) {}, nullptr);
  if (PQstatus(conn_.get()) == CONNECTION_BAD) fail_connect(trimmed(PQerrorMessage(conn_.get())));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) fail_connect(trimmed(PQerrorMessage(conn_.get())));
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      fail_connect("no answer within " + std::to_string(timeout.count()) + " ms");
    pollfd fds[2] = {{PQsocket(conn_.get()),
                      static_cast<short>(status == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0},
                     {cancel_fd, POLLIN, 0}};
    const int n = ::poll(fds, cancel_fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) fail_connect(std::string("poll: ") + std::strerror(errno));
    if (n <= 0) continue;
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN) != 0) fail_connect("cancelled");
    status = PQconnectPoll(conn_.get());
  }
}

Connection::~Connection() = default;

void Connection::exec(const char* sql) {
  if (!deferred_.empty()) {
    std::string text = std::move(deferred_);
    deferred_.clear();
    text += "; ";
    text += sql;
    ++commands_sent_;
    const Result r = reply(PQsendQuery(conn_.get(), text.c_str()) == 1, text);
    if (!r.ok()) fail(r, text);
    return;
  }
  ++commands_sent_;
  const Result r = reply(PQsendQuery(conn_.get(), sql) == 1, sql);
  if (!r.ok()) fail(r, sql);
}

void Connection::defer(std::string_view sql) {
  if (!deferred_.empty()) deferred_ += "; ";
  deferred_ += sql;
}

void Connection::flush() {
  if (deferred_.empty()) return;
  const std::string text = std::move(deferred_);
  deferred_.clear();
  ++commands_sent_;
  const Result r = reply(PQsendQuery(conn_.get(), text.c_str()) == 1, text);
  if (!r.ok()) fail(r, text);
}

Result Connection::run_prepared(std::string_view sql, const std::vector<Param>& params) {
  flush();
  ++commands_sent_;
  std::vector<Oid> types;
  types.reserve(params.size());
  for (const Param& p : params) types.push_back(p.type);
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    Prepared prepared{"orderflow_" + std::to_string(prepared_.size() + 1), types};
    const std::string text(sql);
    const Result r = reply(PQsendPrepare(conn_.get(), prepared.name.c_str(), text.c_str(),
                                         static_cast<int>(types.size()), types.data()) == 1,
                           sql);
    if (!r.ok()) fail(r, sql);
    it = prepared_.emplace(text, std::move(prepared)).first;
  } else if (it->second.types != types) {
    // The statement was prepared for other parameter types: a bug in the adapter, caught
    // before the server misreads binary values.
    throw InfraError(InfraError::Kind::permanent,
                     "PostgreSQL: parameter types changed for " + sql_excerpt(sql));
  }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const Param& p : params) {
    values.push_back(p.bytes.c_str());
    lengths.push_back(static_cast<int>(p.bytes.size()));
    formats.push_back(p.format);
  }
  Result r = reply(
      PQsendQueryPrepared(conn_.get(), it->second.name.c_str(), static_cast<int>(params.size()),
                          values.data(), lengths.data(), formats.data(), 1) == 1,
      sql);
  if (!r.ok()) fail(r, sql);
  return r;
}

Result Connection::reply(bool sent, std::string_view sql) {
  Result kept;
  if (!sent) return kept;
  // libpq's blocking calls wait for ever; a server that hangs (or a frozen host whose kernel
  // still acknowledges packets) must not hold a caller longer than this.
  const auto deadline = std::chrono::steady_clock::now() + reply_timeout_;
  for (;;) {
    while (PQisBusy(conn_.get()) == 1) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{PQsocket(conn_.get()), POLLIN, 0};
      const int n = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        // Mid-command, the connection cannot be used again: the pool drops it.
        abandoned_ = true;
        throw Error(InfraError::Kind::transient,
                    "PostgreSQL: " + sql_excerpt(sql) + ": no answer within " +
                        std::to_string(reply_timeout_.count()) + " ms (connection dropped)",
                    "");
      }
      if (PQconsumeInput(conn_.get()) != 1) break;  // lost: PQgetResult reports it
    }
    PGresult* next = PQgetResult(conn_.get());
    if (next == nullptr) return kept;  // the command is complete
    // The first error wins (the server runs nothing after it); otherwise the last result.
    if (kept.empty() || kept.status() != PGRES_FATAL_ERROR)
      kept = Result(next);
    else
      PQclear(next);
    if (PQstatus(conn_.get()) == CONNECTION_BAD) return kept;
  }
}

void Connection::fail(const Result& result, std::string_view sql) {
  const std::string sqlstate = result.error_field(PG_DIAG_SQLSTATE);
  std::string message = result.error_field(PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = trimmed(PQerrorMessage(conn_.get()));
  if (message.empty()) message = "no result";
  const bool lost = broken();
  std::string what = "PostgreSQL: " + sql_excerpt(sql) + ": " + settings_.scrub(message);
  if (!sqlstate.empty()) what += " (SQLSTATE " + sqlstate + ")";
  if (lost) what += " (connection lost)";
  throw Error(classify(sqlstate, lost), what, sqlstate);
}

bool Connection::check_alive() {
  if (broken()) return false;
  pollfd p{PQsocket(conn_.get()), POLLIN, 0};
  if (::poll(&p, 1, 0) > 0 && PQconsumeInput(conn_.get()) != 1) return false;
  return !broken();
}

std::vector<std::string> Connection::take_notifications() {
  std::vector<std::string> payloads;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    payloads.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return payloads;
}

}  // namespace orderflow::adapters::pg
