// PostgreSQL for the end-to-end tests, through the Debian client tools (psql) and the project's
// scripts/postgres-server.sh: a fresh database per server on the suite-wide PostgreSQL that
// scripts/test.sh starts (ORDERFLOW_TEST_POSTGRES), and a private cluster for a test that stops
// and starts PostgreSQL itself.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

namespace orderflow::e2e {

// The admin URL of the suite-wide server (ORDERFLOW_TEST_POSTGRES), or nullopt when unset.
std::optional<std::string> test_postgres_url();
// True when ORDERFLOW_E2E_STORE=postgres: every server without a store of its own gets a fresh
// database on the suite-wide server.
bool e2e_store_is_postgres();
// `url` with its database (the last path segment) replaced by `database`.
std::string with_database(std::string_view url, std::string_view database);

struct CommandResult {
  int exit_code = -1;  // 128 + signal when it died of one
  std::string output;  // stdout and stderr together
};
// Runs argv[0] (looked up in PATH) from "/" with our environment, to completion.
CommandResult run_command(const std::vector<std::string>& argv);

// A database of its own with a unique name, created on the server at `admin_url` and dropped
// (with any connections left) when this goes away.
class PostgresDatabase {
 public:
  // On the suite-wide server; throws when ORDERFLOW_TEST_POSTGRES is unset.
  PostgresDatabase();
  explicit PostgresDatabase(std::string admin_url);
  ~PostgresDatabase();
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string admin_url_;
  std::string name_;
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
