#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_database.hpp"
#include "ports/api_key_store.hpp"

namespace orderflow::adapters {

// ApiKeyStore on a SqliteDatabase: the api_keys table (migration 6).
class SqliteApiKeyStore final : public ports::ApiKeyStore {
 public:
  explicit SqliteApiKeyStore(std::shared_ptr<SqliteDatabase> database);
  ~SqliteApiKeyStore() override;
  SqliteApiKeyStore(const SqliteApiKeyStore&) = delete;
  SqliteApiKeyStore& operator=(const SqliteApiKeyStore&) = delete;

  bool add(const ports::ApiKeyRecord& key) override;
  std::optional<ports::ApiKeyRecord> find(std::string_view id) override;
  std::vector<ports::ApiKeyRecord> list() override;
  bool revoke(std::string_view id, domain::Timestamp at) override;
  void touch(std::string_view id, domain::Timestamp at) override;

 private:
  std::shared_ptr<SqliteDatabase> db_;
};

}  // namespace orderflow::adapters
