#include "support/postgres_test_db.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace orderflow::test_support {
namespace {

struct Finish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, Finish>;

ConnPtr connect_admin(const std::string& admin_url) {
  ConnPtr conn(PQconnectdb(admin_url.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to ORDERFLOW_TEST_POSTGRES: " +
                             std::string(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  return conn;
}

void run(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string error = ok ? "" : PQerrorMessage(conn);
  PQclear(r);
  if (!ok) throw std::runtime_error(sql + ": " + error);
}

// `url` with its database (the URL path) replaced by `name`; the query string stays.
std::string with_database(const std::string& url, const std::string& name) {
  const std::size_t scheme = url.find("://");
  const std::size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const std::size_t query = url.find('?', authority);
  const std::size_t path = url.find('/', authority);
  const std::size_t authority_end = std::min(path, query);
  std::string out = url.substr(0, authority_end) + "/" + name;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

std::string database_name(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  PQfreemem(error);
  std::string name;
  if (options == nullptr) return name;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o)
    if (std::string_view(o->keyword) == "dbname" && o->val != nullptr) name = o->val;
  PQconninfoFree(options);
  return name;
}

}  // namespace

std::optional<std::string> postgres_admin_url() {
  const char* url = std::getenv("ORDERFLOW_TEST_POSTGRES");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

std::optional<std::string> create_postgres_test_database() {
  const auto admin = postgres_admin_url();
  if (!admin) return std::nullopt;
  static std::atomic<int> counter{0};
  std::random_device random;
  // Unique across test processes running at once (pid), tests in one process (counter) and
  // processes that reuse a pid (random).
  const std::string name = "orderflow_test_" + std::to_string(::getpid()) + "_" +
                           std::to_string(++counter) + "_" + std::to_string(random() % 1000000);
  ConnPtr conn = connect_admin(*admin);
  // template0 is never connected to, so concurrent creates from other tests cannot fail with
  // "source database is being accessed by other users".
  run(conn.get(), "CREATE DATABASE \"" + name + "\" TEMPLATE template0");
  return with_database(*admin, name);
}

void drop_postgres_test_database(const std::string& url) {
  const auto admin = postgres_admin_url();
  const std::string name = database_name(url);
  if (!admin || name.empty() || name.find('"') != std::string::npos) return;
  try {
    ConnPtr conn = connect_admin(*admin);
    run(conn.get(), "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
  } catch (const std::exception&) {
    // Left behind: it goes away with the throwaway server.
  }
}

std::string postgres_query_text(const std::string& url, const std::string& sql) {
  ConnPtr conn(PQconnectdb(url.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect: " +
                             std::string(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  PGresult* r = PQexec(conn.get(), sql.c_str());
  const ExecStatusType status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const std::string error = PQerrorMessage(conn.get());
    PQclear(r);
    throw std::runtime_error(sql + ": " + error);
  }
  std::string value;
  if (status == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
    value.assign(PQgetvalue(r, 0, 0), static_cast<std::size_t>(PQgetlength(r, 0, 0)));
  PQclear(r);
  return value;
}

std::optional<PostgresTestDatabase> PostgresTestDatabase::create() {
  auto url = create_postgres_test_database();
  if (!url) return std::nullopt;
  return PostgresTestDatabase(std::move(*url));
}

PostgresTestDatabase::~PostgresTestDatabase() {
  if (!url_.empty()) drop_postgres_test_database(url_);
}

PostgresTestDatabase::PostgresTestDatabase(PostgresTestDatabase&& other) noexcept
    : url_(std::exchange(other.url_, {})) {}

PostgresTestDatabase& PostgresTestDatabase::operator=(PostgresTestDatabase&& other) noexcept {
  if (this != &other) {
    if (!url_.empty()) drop_postgres_test_database(url_);
    url_ = std::exchange(other.url_, {});
  }
  return *this;
}

}  // namespace orderflow::test_support
