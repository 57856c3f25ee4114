#pragma once

#include <memory>
#include <string>

#include "adapters/sqlite/sqlite_database.hpp"
#include "ports/order_store.hpp"

namespace orderflow::adapters {

// OrderStore (orders, idempotency keys and the outbox) on a SqliteDatabase.
// Every write runs on the database's writer thread (group commit) and returns once durable;
// reads use its read-only connections and never wait for writes. After a commit that appended
// events (or, through the delivery stores of the same database, fanned them out or redrove
// deliveries), on_commit runs on the writer thread before the callers of that commit are
// released.
class SqliteOrderStore final : public ports::OrderStore {
 public:
  // Opens a database of its own (see SqliteDatabase's constructor for what it throws).
  explicit SqliteOrderStore(SqliteStoreOptions options);
  // Shares `database` with the other stores over the same file.
  explicit SqliteOrderStore(std::shared_ptr<SqliteDatabase> database);
  // The last store of a database commits the writes already queued, stops the writer and
  // closes every connection.
  ~SqliteOrderStore() override;
  SqliteOrderStore(const SqliteOrderStore&) = delete;
  SqliteOrderStore& operator=(const SqliteOrderStore&) = delete;

  ports::CreateResult create(const domain::Order& order, const domain::Event& created_event,
                             const std::optional<ports::IdempotencyClaim>& claim) override;
  void create_async(const domain::Order& order, const domain::Event& created_event,
                    const std::optional<ports::IdempotencyClaim>& claim, CreateDone done) override;
  bool commits_in_background() const override { return true; }
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
  bool writable() override { return db_->writable(); }
  ports::StoreStats stats() override;

 private:
  std::shared_ptr<SqliteDatabase> db_;
};

}  // namespace orderflow::adapters
