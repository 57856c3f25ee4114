// PostgreSQL for the end-to-end tests: a fresh database per server on the suite-wide PostgreSQL
// that scripts/test.sh starts (tests/support/postgres_test_db), and a private cluster
// (scripts/postgres-server.sh) for a test that stops and starts PostgreSQL itself.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "support/postgres_test_db.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::e2e {

// The admin URL of the suite-wide server (ORDERFLOW_TEST_POSTGRES), or nullopt when unset.
std::optional<std::string> test_postgres_url();
// True when ORDERFLOW_E2E_STORE=postgres: every server without a store of its own gets a fresh
// database on the suite-wide server.
bool e2e_store_is_postgres();

// A database of its own: on the suite-wide server (dropped when this goes away), or on a
// private cluster (which goes away with its data).
class PostgresDatabase {
 public:
  // On the suite-wide server; throws when ORDERFLOW_TEST_POSTGRES is unset.
  PostgresDatabase();
  // On the server at `admin_url`, named `name`.
  PostgresDatabase(const std::string& admin_url, const std::string& name);
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  const std::string& url() const { return url_; }

 private:
  std::optional<test_support::PostgresTestDatabase> shared_;
  std::string url_;
};

// A PostgreSQL cluster of the test's own (scripts/postgres-server.sh start DIR fast), which the
// test may stop and start again on the same port. Stopped and removed when this goes away.
class PrivatePostgres {
 public:
  PrivatePostgres();
  ~PrivatePostgres();
  PrivatePostgres(const PrivatePostgres&) = delete;
  PrivatePostgres& operator=(const PrivatePostgres&) = delete;

  const std::string& admin_url() const { return admin_url_; }
  // Fast shutdown (connections are cut); returns once the postmaster is gone.
  void stop();
  // Starts the stopped cluster again on the same port; returns once it accepts connections.
  void start();
  std::string log() const;

 private:
  test_support::TempDir dir_{"orderflow-e2e-pg"};
  std::string admin_url_;
  std::string port_;
  bool running_ = false;
};

}  // namespace orderflow::e2e
