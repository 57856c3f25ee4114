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

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "orderflow-store-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace orderflow::testing
