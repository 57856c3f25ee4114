#include "adapters/sqlite/sqlite_stores.hpp"

#include <utility>

namespace orderflow::adapters {

SqliteStores open_sqlite_stores(SqliteStoreOptions options) {
  auto database = std::make_shared<SqliteDatabase>(std::move(options));
  return SqliteStores{std::make_unique<SqliteOrderStore>(database),
                      std::make_unique<SqliteDeliveryStore>(database),
                      std::make_unique<SqliteSubscriptionStore>(std::move(database))};
}

}  // namespace orderflow::adapters
