#include "adapters/sqlite/sqlite_api_key_store.hpp"

#include <utility>

#include "adapters/sqlite/sqlite_db.hpp"

namespace orderflow::adapters {

using ports::ApiKeyRecord;
using sqlite::Connection;
using sqlite::from_us;
using sqlite::to_us;

namespace {

std::optional<domain::Timestamp> optional_time(const sqlite::Query& q, int column) {
  if (q.is_null(column)) return std::nullopt;
  return from_us(q.int64(column));
}

ApiKeyRecord record_of(const sqlite::Query& q) {
  ApiKeyRecord key;
  key.id = q.text(0);
  key.name = q.text(1);
  key.scopes = domain::Scopes::from_bits(static_cast<std::uint8_t>(q.int64(2)));
  key.secret_hash = q.text(3);
  key.created = from_us(q.int64(4));
  key.expires = optional_time(q, 5);
  key.last_used = optional_time(q, 6);
  key.revoked = optional_time(q, 7);
  return key;
}

}  // namespace

SqliteApiKeyStore::SqliteApiKeyStore(std::shared_ptr<SqliteDatabase> database)
    : db_(std::move(database)) {}

SqliteApiKeyStore::~SqliteApiKeyStore() = default;

bool SqliteApiKeyStore::add(const ApiKeyRecord& key) {
  bool added = false;
  db_->write([&](Connection& db) {
    // 0 stands for "never" (no key expires at the epoch).
    db.query(
          "INSERT INTO api_keys(id, name, scopes, secret_hash, created_us, expires_us) "
          "VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, 0)) ON CONFLICT(id) DO NOTHING")
        .bind(1, key.id)
        .bind(2, key.name)
        .bind(3, std::int64_t{key.scopes.bits()})
        .bind(4, key.secret_hash)
        .bind(5, to_us(key.created))
        .bind(6, key.expires ? to_us(*key.expires) : 0)
        .run();
    added = db.changes() == 1;
    return false;
  });
  return added;
}

std::optional<ApiKeyRecord> SqliteApiKeyStore::find(std::string_view id) {
  std::optional<ApiKeyRecord> found;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT id, name, scopes, secret_hash, created_us, expires_us, last_used_us, revoked_us "
        "FROM api_keys WHERE id = ?1");
    q.bind(1, id);
    found.reset();
    if (q.step()) found = record_of(q);
  });
  return found;
}

std::vector<ApiKeyRecord> SqliteApiKeyStore::list() {
  std::vector<ApiKeyRecord> keys;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT id, name, scopes, secret_hash, created_us, expires_us, last_used_us, revoked_us "
        "FROM api_keys ORDER BY created_us, id");
    keys.clear();
    while (q.step()) keys.push_back(record_of(q));
  });
  return keys;
}

bool SqliteApiKeyStore::revoke(std::string_view id, domain::Timestamp at) {
  bool found = false;
  db_->write([&](Connection& db) {
    db.query("UPDATE api_keys SET revoked_us = coalesce(revoked_us, ?2) WHERE id = ?1")
        .bind(1, id)
        .bind(2, to_us(at))
        .run();
    found = db.changes() == 1;
    return false;
  });
  return found;
}

void SqliteApiKeyStore::touch(std::string_view id, domain::Timestamp at) {
  db_->write([&](Connection& db) {
    db.query(
          "UPDATE api_keys SET last_used_us = ?2 "
          "WHERE id = ?1 AND (last_used_us IS NULL OR last_used_us < ?2)")
        .bind(1, id)
        .bind(2, to_us(at))
        .run();
    return false;
  });
}

}  // namespace orderflow::adapters
