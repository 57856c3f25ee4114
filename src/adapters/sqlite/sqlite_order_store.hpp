#pragma once

#include <memory>
#include <string>

#include "ports/order_store.hpp"

namespace orderflow::adapters {

struct SqliteStoreOptions {
  std::string path;          // the database file; created when missing
  int max_batch = 256;       // most writes committed together (one fsync)
  int read_connections = 4;  // read-only connections shared by get/list/read_outbox/...
};

// OrderStore on one SQLite file in WAL mode.
// Writes go through a single writer thread that commits whatever is queued as one transaction
// (group commit: one fsync for many callers); each caller blocks until its write is durable.
// Reads use a small pool of read-only connections and never wait for the writer.
// After a commit that appended events, on_commit runs on the writer thread before the callers
// of that commit are released.
class SqliteOrderStore final : public ports::OrderStore {
 public:
  // Opens or creates the database and migrates its schema. Throws ports::InfraError
  // (permanent), naming the path, when that fails or the file's schema is newer than ours.
  explicit SqliteOrderStore(SqliteStoreOptions options);
  // Commits the writes already queued, stops the writer and closes every connection.
  ~SqliteOrderStore() override;
  SqliteOrderStore(const SqliteOrderStore&) = delete;
  SqliteOrderStore& operator=(const SqliteOrderStore&) = delete;

  ports::CreateResult create(const domain::Order& order, const domain::Event& created_event,
                             const std::optional<ports::IdempotencyClaim>& claim) override;
  std::optional<domain::Order> get(std::string_view order_id) override;
  ports::OrderPage list(std::string_view after_id, int limit) override;
  ports::ChangeResult update(std::string_view order_id, const ports::OrderPatch& patch,
                             std::optional<std::int64_t> expected_version, domain::Timestamp at,
                             std::string event_id) override;
  ports::ChangeResult remove(std::string_view order_id,
                             std::optional<std::int64_t> expected_version, domain::Timestamp at,
                             std::string event_id) override;
  std::vector<ports::OutboxRecord> read_outbox(std::int64_t after_seq, int limit) override;
  void on_commit(std::function<void()> callback) override;
  bool ping() override;
  ports::StoreStats stats() override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::adapters
