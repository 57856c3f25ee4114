#include "conformance/store_factories.hpp"

#include <stdlib.h>

#include <stdexcept>

#include "adapters/sqlite/sqlite_stores.hpp"

namespace orderflow::testing {

std::vector<StoreFactory> order_store_factories() {
  return {
      {"sqlite",
       [](const std::filesystem::path& dir) -> std::unique_ptr<ports::OrderStore> {
         return std::make_unique<adapters::SqliteOrderStore>(
             adapters::SqliteStoreOptions{(dir / "orders.db").string()});
       }},
  };
}

std::vector<DeliveryStoreFactory> delivery_store_factories() {
  return {
      {"sqlite",
       [](const std::filesystem::path& dir) {
         auto stores = adapters::open_sqlite_stores({(dir / "orders.db").string()});
         return EventStores{std::move(stores.orders), std::move(stores.deliveries)};
       }},
  };
}

std::vector<SubscriptionStoreFactory> subscription_store_factories() {
  return {
      {"sqlite",
       [](const std::filesystem::path& dir) -> std::unique_ptr<ports::SubscriptionStore> {
         return std::move(
             adapters::open_sqlite_stores({(dir / "orders.db").string()}).subscriptions);
       }},
  };
}

}  // namespace orderflow::testing
