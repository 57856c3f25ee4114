#include "adapters/postgres/pg_api_key_store.hpp"

#include <utility>

namespace orderflow::adapters::pg {

using ports::ApiKeyRecord;

namespace {

std::optional<domain::Timestamp> optional_time(const Result& r, int row, int column) {
  if (r.is_null(row, column)) return std::nullopt;
  return from_us(r.int64(row, column));
}

ApiKeyRecord record_of(const Result& r, int row) {
  ApiKeyRecord key;
  key.id = r.text(row, 0);
  key.name = r.text(row, 1);
  key.scopes = domain::Scopes::from_bits(static_cast<std::uint8_t>(r.int64(row, 2)));
  key.secret_hash = r.text(row, 3);
  key.created = from_us(r.int64(row, 4));
  key.expires = optional_time(r, row, 5);
  key.last_used = optional_time(r, row, 6);
  key.revoked = optional_time(r, row, 7);
  return key;
}

}  // namespace

PostgresApiKeyStore::PostgresApiKeyStore(std::shared_ptr<Database> database)
    : db_(std::move(database)) {}

PostgresApiKeyStore::~PostgresApiKeyStore() = default;

bool PostgresApiKeyStore::add(const ApiKeyRecord& key) {
  bool added = false;
  db_->write([&](Connection& db) {
    // 0 stands for "never" (no key expires at the epoch).
    added = db.query(
                  "INSERT INTO api_keys (id, name, scopes, secret_hash, created_us, expires_us) "
                  "VALUES ($1, $2, $3, $4, $5, nullif($6, 0)) ON CONFLICT (id) DO NOTHING",
                  key.id, key.name, std::int64_t{key.scopes.bits()}, key.secret_hash,
                  to_us(key.created), key.expires ? to_us(*key.expires) : std::int64_t{0})
                .affected() == 1;
    return false;
  });
  return added;
}

std::optional<ApiKeyRecord> PostgresApiKeyStore::find(std::string_view id) {
  std::optional<ApiKeyRecord> found;
  db_->read([&](Connection& db) {
    const Result r = db.query(
        "SELECT id, name, scopes, secret_hash, created_us, expires_us, last_used_us, revoked_us "
        "FROM api_keys WHERE id = $1",
        id);
    found.reset();
    if (r.rows() == 1) found = record_of(r, 0);
  });
  return found;
}

std::vector<ApiKeyRecord> PostgresApiKeyStore::list() {
  std::vector<ApiKeyRecord> keys;
  db_->read([&](Connection& db) {
    const Result r = db.query(
        "SELECT id, name, scopes, secret_hash, created_us, expires_us, last_used_us, revoked_us "
        "FROM api_keys ORDER BY created_us, id");
    keys.clear();
    for (int row = 0; row < r.rows(); ++row) keys.push_back(record_of(r, row));
  });
  return keys;
}

bool PostgresApiKeyStore::revoke(std::string_view id, domain::Timestamp at) {
  bool found = false;
  db_->write([&](Connection& db) {
    found = db.query("UPDATE api_keys SET revoked_us = coalesce(revoked_us, $2) WHERE id = $1", id,
                     to_us(at))
                .affected() == 1;
    return false;
  });
  return found;
}

void PostgresApiKeyStore::touch(std::string_view id, domain::Timestamp at) {
  db_->write([&](Connection& db) {
    db.query(
        "UPDATE api_keys SET last_used_us = $2 "
        "WHERE id = $1 AND (last_used_us IS NULL OR last_used_us < $2)",
        id, to_us(at));
    return false;
  });
}

}  // namespace orderflow::adapters::pg
