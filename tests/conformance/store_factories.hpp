// The adapters the conformance suites run against (one list per port); a new backend is one
// more entry in each list in store_factories.cpp. PostgreSQL entries are there when the test
// script started a server (ORDERFLOW_TEST_POSTGRES); each temp dir then maps to a database of
// its own, created on first use.
#pragma once

#include "support/temp_dir.hpp"
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ports/api_key_store.hpp"
#include "ports/archive_index.hpp"
#include "ports/delivery_admin.hpp"
#include "ports/delivery_queue.hpp"
#include "ports/order_store.hpp"
#include "ports/subscription_store.hpp"

namespace orderflow::testing {

struct StoreFactory {
  std::string name;  // a GoogleTest name part: letters, digits and '_' only
  // Opens the store kept in `temp_dir` (an empty, private directory the test deletes after).
  // Called again with the same directory, it must reopen the same data.
  std::function<std::unique_ptr<ports::OrderStore>(const std::filesystem::path& temp_dir)> make;
};

std::vector<StoreFactory> order_store_factories();

// The delivery ports and the OrderStore whose outbox they fan out, over one backend, with the
// subscription store whose notice records retention prunes.
struct EventStores {
  std::unique_ptr<ports::OrderStore> orders;
  std::unique_ptr<ports::DeliveryQueue> queue;
  std::unique_ptr<ports::DeliveryAdmin> deliveries;
  std::unique_ptr<ports::SubscriptionStore> subscriptions;
};

struct DeliveryStoreFactory {
  std::string name;
  // As StoreFactory::make: the same directory reopens the same data.
  std::function<EventStores(const std::filesystem::path& temp_dir)> make;
};

std::vector<DeliveryStoreFactory> delivery_store_factories();

struct SubscriptionStoreFactory {
  std::string name;
  std::function<std::unique_ptr<ports::SubscriptionStore>(const std::filesystem::path& temp_dir)>
      make;
};

std::vector<SubscriptionStoreFactory> subscription_store_factories();

struct ApiKeyStoreFactory {
  std::string name;
  std::function<std::unique_ptr<ports::ApiKeyStore>(const std::filesystem::path& temp_dir)> make;
};

std::vector<ApiKeyStoreFactory> api_key_store_factories();

struct ArchiveIndexFactory {
  std::string name;
  std::function<std::unique_ptr<ports::ArchiveIndex>(const std::filesystem::path& temp_dir)> make;
};

std::vector<ArchiveIndexFactory> archive_index_factories();

// The PostgreSQL entries (postgres_factories.cpp): empty when ORDERFLOW_TEST_POSTGRES is unset.
std::vector<StoreFactory> postgres_order_store_factories();
std::vector<DeliveryStoreFactory> postgres_delivery_store_factories();
std::vector<SubscriptionStoreFactory> postgres_subscription_store_factories();
std::vector<ApiKeyStoreFactory> postgres_api_key_store_factories();
std::vector<ArchiveIndexFactory> postgres_archive_index_factories();

using TempDir = test_support::TempDir;

}  // namespace orderflow::testing
