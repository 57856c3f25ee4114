// Every store of the SQLite adapter over one database file: what the runtime opens.
#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_api_key_store.hpp"
#include "adapters/sqlite/sqlite_archive_index.hpp"
#include "adapters/sqlite/sqlite_database.hpp"
#include "adapters/sqlite/sqlite_delivery_admin.hpp"
#include "adapters/sqlite/sqlite_delivery_queue.hpp"
#include "adapters/sqlite/sqlite_order_store.hpp"
#include "adapters/sqlite/sqlite_subscription_store.hpp"

namespace orderflow::adapters {

// They all share one SqliteDatabase (one file, one writer thread); it closes when the last of
// them is destroyed, so they may be moved into separate owners and destroyed in any order.
struct SqliteStores {
  std::unique_ptr<SqliteOrderStore> orders;
  std::unique_ptr<SqliteDeliveryQueue> queue;
  std::unique_ptr<SqliteDeliveryAdmin> deliveries;
  std::unique_ptr<SqliteSubscriptionStore> subscriptions;
  std::unique_ptr<SqliteApiKeyStore> keys;
  std::unique_ptr<SqliteArchiveIndex> archive;
};

// Opens (creating and migrating when needed) the database at options.path. Throws
// ports::InfraError as SqliteDatabase's constructor does.
SqliteStores open_sqlite_stores(SqliteStoreOptions options);

}  // namespace orderflow::adapters
