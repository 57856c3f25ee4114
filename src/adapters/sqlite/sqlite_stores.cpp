#include "adapters/sqlite/sqlite_stores.hpp"

#include <utility>

namespace orderflow::adapters {

SqliteStores open_sqlite_stores(SqliteStoreOptions options) {
  auto database = std::make_shared<SqliteDatabase>(std::move(options));
  return SqliteStores{std::make_unique<SqliteOrderStore>(database),
                      std::make_unique<SqliteDeliveryQueue>(database),
                      std::make_unique<SqliteDeliveryAdmin>(database),
                      std::make_unique<SqliteSubscriptionStore>(database),
                      std::make_unique<SqliteApiKeyStore>(database),
                      std::make_unique<SqliteArchiveIndex>(std::move(database))};
}

}  // namespace orderflow::adapters
