#include "adapters/postgres/postgres_stores.hpp"

#include <utility>

#include "adapters/postgres/pg_api_key_store.hpp"
#include "adapters/postgres/pg_archive_index.hpp"
#include "adapters/postgres/pg_bus_store.hpp"
#include "adapters/postgres/pg_database.hpp"
#include "adapters/postgres/pg_delivery_store.hpp"
#include "adapters/postgres/pg_migrations.hpp"
#include "adapters/postgres/pg_order_store.hpp"
#include "adapters/postgres/pg_subscription_store.hpp"

namespace orderflow::adapters {

PostgresStores open_postgres_stores(const PostgresStoreOptions& options) {
  auto database = std::make_shared<pg::Database>(options);
  return PostgresStores{std::make_unique<pg::PostgresOrderStore>(database),
                        std::make_unique<pg::PostgresDeliveryStore>(database),
                        std::make_unique<pg::PostgresDeliveryStore>(database),
                        std::make_unique<pg::PostgresSubscriptionStore>(database),
                        std::make_unique<pg::PostgresBusStore>(database),
                        std::make_unique<pg::PostgresApiKeyStore>(database),
                        std::make_unique<pg::PostgresArchiveIndex>(database)};
}

void migrate_postgres(const PostgresStoreOptions& options) {
  const pg::Settings settings(options.url);
  pg::Connection db(settings);
  pg::migrate(db);
}

}  // namespace orderflow::adapters
