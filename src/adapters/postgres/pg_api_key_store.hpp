#pragma once

#include <memory>

#include "adapters/postgres/pg_database.hpp"
#include "ports/api_key_store.hpp"

namespace orderflow::adapters::pg {

// ApiKeyStore on a shared Database: the api_keys table (migration 3).
class PostgresApiKeyStore final : public ports::ApiKeyStore {
 public:
  explicit PostgresApiKeyStore(std::shared_ptr<Database> database);
  ~PostgresApiKeyStore() override;
  PostgresApiKeyStore(const PostgresApiKeyStore&) = delete;
  PostgresApiKeyStore& operator=(const PostgresApiKeyStore&) = delete;

  bool add(const ports::ApiKeyRecord& key) override;
  std::optional<ports::ApiKeyRecord> find(std::string_view id) override;
  std::vector<ports::ApiKeyRecord> list() override;
  bool revoke(std::string_view id, domain::Timestamp at) override;
  void touch(std::string_view id, domain::Timestamp at) override;

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace orderflow::adapters::pg
