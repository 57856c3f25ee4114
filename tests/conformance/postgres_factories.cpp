// The PostgreSQL entries of the conformance suites (declared in store_factories.hpp). Each temp
// dir maps to a database of its own on the ORDERFLOW_TEST_POSTGRES server: created on the first
// make, its URL kept in a file in the dir, so the next make with that dir reopens the same data.
// The databases this process created are dropped when it exits.
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "adapters/postgres/postgres_stores.hpp"
#include "conformance/store_factories.hpp"
#include "support/postgres_test_db.hpp"

namespace orderflow::testing {
namespace {

class CreatedDatabases {
 public:
  ~CreatedDatabases() {
    for (const std::string& url : urls_) test_support::drop_postgres_test_database(url);
  }
  void add(std::string url) {
    std::lock_guard lock(mu_);
    urls_.push_back(std::move(url));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> urls_;  // guarded by mu_
};

CreatedDatabases& created_databases() {
  static CreatedDatabases databases;
  return databases;
}

std::string database_for(const std::filesystem::path& temp_dir) {
  const std::filesystem::path file = temp_dir / "postgres_url";
  if (std::ifstream in(file); in) {
    std::string url;
    std::getline(in, url);
    if (!url.empty()) return url;
  }
  auto url = test_support::create_postgres_test_database();
  if (!url) throw std::runtime_error("ORDERFLOW_TEST_POSTGRES is not set");
  created_databases().add(*url);
  std::ofstream(file) << *url << '\n';
  return *url;
}

adapters::PostgresStores open_stores(const std::filesystem::path& temp_dir) {
  return adapters::open_postgres_stores({database_for(temp_dir)});
}

bool have_server() { return test_support::postgres_admin_url().has_value(); }

}  // namespace

std::vector<StoreFactory> postgres_order_store_factories() {
  if (!have_server()) return {};
  return {{"postgres", [](const std::filesystem::path& dir) -> std::unique_ptr<ports::OrderStore> {
             return std::move(open_stores(dir).orders);
           }}};
}

std::vector<DeliveryStoreFactory> postgres_delivery_store_factories() {
  if (!have_server()) return {};
  return {{"postgres", [](const std::filesystem::path& dir) {
             auto stores = open_stores(dir);
             return EventStores{std::move(stores.orders), std::move(stores.queue),
                                std::move(stores.deliveries), std::move(stores.subscriptions)};
           }}};
}

std::vector<SubscriptionStoreFactory> postgres_subscription_store_factories() {
  if (!have_server()) return {};
  return {{"postgres",
           [](const std::filesystem::path& dir) -> std::unique_ptr<ports::SubscriptionStore> {
             return std::move(open_stores(dir).subscriptions);
           }}};
}

std::vector<ApiKeyStoreFactory> postgres_api_key_store_factories() {
  if (!have_server()) return {};
  return {{"postgres", [](const std::filesystem::path& dir) -> std::unique_ptr<ports::ApiKeyStore> {
             return std::move(open_stores(dir).keys);
           }}};
}

std::vector<ArchiveIndexFactory> postgres_archive_index_factories() {
  if (!have_server()) return {};
  return {{"postgres", [](const std::filesystem::path& dir) -> std::unique_ptr<ports::ArchiveIndex> {
             return std::move(open_stores(dir).archive);
           }}};
}

}  // namespace orderflow::testing
