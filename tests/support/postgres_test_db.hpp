// Throwaway PostgreSQL databases for tests, on the server that scripts/test.sh starts and names
// in ORDERFLOW_TEST_POSTGRES (an admin URL: postgresql://postgres@127.0.0.1:PORT/postgres).
// Shared by every test binary that runs something against PostgreSQL.
#pragma once

#include <optional>
#include <string>

namespace orderflow::test_support {

// The admin URL, or nullopt when ORDERFLOW_TEST_POSTGRES is unset or empty (no server: the
// PostgreSQL cases are left out).
std::optional<std::string> postgres_admin_url();

// Creates a fresh, uniquely named database (pid + counter + random) and returns its URL;
// nullopt when there is no server. Throws std::runtime_error when the server refuses.
std::optional<std::string> create_postgres_test_database();

// Drops the database `url` names, disconnecting whoever is still connected to it. Never throws:
// a database left behind goes away with the throwaway server.
void drop_postgres_test_database(const std::string& url);

// Runs `sql` on the database `url` names and returns the first column of its first row as text
// ("" when there is none), for tests that look behind a store. Throws std::runtime_error.
std::string postgres_query_text(const std::string& url, const std::string& sql);

// A database created on construction and dropped on destruction.
class PostgresTestDatabase {
 public:
  // nullopt when there is no server.
  static std::optional<PostgresTestDatabase> create();
  ~PostgresTestDatabase();
  PostgresTestDatabase(PostgresTestDatabase&& other) noexcept;
  PostgresTestDatabase& operator=(PostgresTestDatabase&& other) noexcept;
  PostgresTestDatabase(const PostgresTestDatabase&) = delete;
  PostgresTestDatabase& operator=(const PostgresTestDatabase&) = delete;

  const std::string& url() const { return url_; }

 private:
  explicit PostgresTestDatabase(std::string url) : url_(std::move(url)) {}
  std::string url_;  // empty once moved from
};

}  // namespace orderflow::test_support
