#include "conformance/store_factories.hpp"

#include <utility>

#include "adapters/sqlite/sqlite_stores.hpp"

namespace orderflow::testing {
namespace {

template <typename T>
std::vector<T> joined(std::vector<T> first, std::vector<T> second) {
  for (auto& f : second) first.push_back(std::move(f));
  return first;
}

}  // namespace

std::vector<StoreFactory> order_store_factories() {
  return joined<StoreFactory>(
      {
          {"sqlite",
           [](const std::filesystem::path& dir) -> std::unique_ptr<ports::OrderStore> {
             return std::make_unique<adapters::SqliteOrderStore>(
                 adapters::SqliteStoreOptions{(dir / "orders.db").string()});
           }},
      },
      postgres_order_store_factories());
}

std::vector<DeliveryStoreFactory> delivery_store_factories() {
  return joined<DeliveryStoreFactory>(
      {
          {"sqlite",
           [](const std::filesystem::path& dir) {
             auto stores = adapters::open_sqlite_stores({(dir / "orders.db").string()});
             return EventStores{std::move(stores.orders), std::move(stores.queue),
                                std::move(stores.deliveries), std::move(stores.subscriptions)};
           }},
      },
      postgres_delivery_store_factories());
}

std::vector<SubscriptionStoreFactory> subscription_store_factories() {
  return joined<SubscriptionStoreFactory>(
      {
          {"sqlite",
           [](const std::filesystem::path& dir) -> std::unique_ptr<ports::SubscriptionStore> {
             return std::move(
                 adapters::open_sqlite_stores({(dir / "orders.db").string()}).subscriptions);
           }},
      },
      postgres_subscription_store_factories());
}

std::vector<ApiKeyStoreFactory> api_key_store_factories() {
  return joined<ApiKeyStoreFactory>(
      {
          {"sqlite",
           [](const std::filesystem::path& dir) -> std::unique_ptr<ports::ApiKeyStore> {
             return std::move(adapters::open_sqlite_stores({(dir / "orders.db").string()}).keys);
           }},
      },
      postgres_api_key_store_factories());
}

std::vector<ArchiveIndexFactory> archive_index_factories() {
  return joined<ArchiveIndexFactory>(
      {
          {"sqlite",
           [](const std::filesystem::path& dir) -> std::unique_ptr<ports::ArchiveIndex> {
             return std::move(adapters::open_sqlite_stores({(dir / "orders.db").string()}).archive);
           }},
      },
      postgres_archive_index_factories());
}

}  // namespace orderflow::testing
