#pragma once

#include <memory>

#include "adapters/postgres/pg_database.hpp"
#include "ports/order_store.hpp"

namespace orderflow::adapters::pg {

// OrderStore (orders, idempotency keys and the outbox) on a shared Database. Every write goes
// through the database's writers (group commit) and returns once committed; reads use pooled
// connections. on_commit also hears the commits of other processes (LISTEN/NOTIFY).
class PostgresOrderStore final : public ports::OrderStore {
 public:
  explicit PostgresOrderStore(std::shared_ptr<Database> database);
  ~PostgresOrderStore() override;
  PostgresOrderStore(const PostgresOrderStore&) = delete;
  PostgresOrderStore& operator=(const PostgresOrderStore&) = delete;

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
  // Not tracked for PostgreSQL yet: a server that answers is taken as one that writes.
  bool writable() override { return ping(); }
  ports::StoreStats stats() override;

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace orderflow::adapters::pg
