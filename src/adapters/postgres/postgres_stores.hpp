// Every store of the PostgreSQL adapter over one database: what the runtime opens.
#pragma once

#include <memory>
#include <string>

#include "ports/api_key_store.hpp"
#include "ports/archive_index.hpp"
#include "ports/bus_store.hpp"
#include "ports/delivery_admin.hpp"
#include "ports/delivery_queue.hpp"
#include "ports/order_store.hpp"
#include "ports/subscription_store.hpp"

namespace orderflow::adapters {

struct PostgresStoreOptions {
  std::string url;      // a libpq connection URI: postgresql://user:pass@host:5432/db?sslmode=...
  int pool_size = 8;    // connections for reads and writes (plus one for LISTEN)
  int max_batch = 256;  // most writes committed together (group commit)
};

// They all share one connection pool and one LISTEN connection; the pool closes when the last
// of them is destroyed, so they may be moved into separate owners and destroyed in any order.
struct PostgresStores {
  std::unique_ptr<ports::OrderStore> orders;
  std::unique_ptr<ports::DeliveryQueue> queue;
  std::unique_ptr<ports::DeliveryAdmin> deliveries;
  std::unique_ptr<ports::SubscriptionStore> subscriptions;
  std::unique_ptr<ports::BusStore> bus;  // for bus = nats://
  std::unique_ptr<ports::ApiKeyStore> keys;
  std::unique_ptr<ports::ArchiveIndex> archive;
};

// Connects, creates or migrates the schema (under an advisory lock, so processes starting at
// once migrate exactly once) and opens the stores. Throws ports::InfraError: permanent when the
// URL is malformed or the schema is newer than this binary's, transient when the database
// cannot be reached.
PostgresStores open_postgres_stores(const PostgresStoreOptions& options);

// Applies the schema only (orderflow migrate). Same errors as above.
void migrate_postgres(const PostgresStoreOptions& options);

}  // namespace orderflow::adapters
