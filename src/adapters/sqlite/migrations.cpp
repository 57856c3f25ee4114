#include "adapters/sqlite/migrations.hpp"

#include <array>
#include <string>

namespace orderflow::adapters::sqlite {
namespace {

// Append only: a released migration never changes, a schema change is a new entry.
constexpr std::array kMigrations{
    Migration{1, R"sql(
      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        price_cents INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        modified_us INTEGER NOT NULL,
        version INTEGER NOT NULL,
        image_key TEXT NOT NULL DEFAULT '',
        detected_labels TEXT NOT NULL DEFAULT '',
        validation_status TEXT NOT NULL DEFAULT ''
      ) WITHOUT ROWID;
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        subject TEXT NOT NULL,
        time_us INTEGER NOT NULL,
        data TEXT NOT NULL
      );
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        order_id TEXT NOT NULL,
        created_us INTEGER NOT NULL
      );
    )sql"},
    // Delivery state for the dispatcher, and e-mail subscriptions. The fan-out cursor starts
    // at 0, so events written before this migration are delivered too (consumers are
    // idempotent, and redelivering is safer than dropping).
    Migration{2, R"sql(
      CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        event_seq INTEGER NOT NULL REFERENCES outbox(seq),
        subscription TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        attempts INTEGER NOT NULL,
        next_attempt_us INTEGER NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        updated_us INTEGER NOT NULL,
        UNIQUE (event_seq, subscription)
      );
      CREATE INDEX deliveries_due ON deliveries(subscription, state, next_attempt_us);
      CREATE INDEX deliveries_by_state ON deliveries(state, id);
      CREATE TABLE fanout_cursor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
      );
      INSERT INTO fanout_cursor(id, seq) VALUES (1, 0);
      CREATE TABLE subscriptions (
        email_key TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
        created_us INTEGER NOT NULL,
        confirmed_us INTEGER
      );
      CREATE TABLE notifications (
        event_id TEXT NOT NULL,
        email_key TEXT NOT NULL,
        sent_us INTEGER NOT NULL,
        PRIMARY KEY (event_id, email_key)
      ) WITHOUT ROWID;
    )sql"},
    // A lane takes due deliveries in event order; with this index SQLite walks them in that
    // order and stops at the batch limit, instead of sorting the whole backlog every batch.
    Migration{3, R"sql(
      CREATE INDEX deliveries_due_in_order ON deliveries(subscription, state, event_seq, id);
    )sql"},
    // Claims with a lease. A claimed delivery keeps its lease end in next_attempt_us and its
    // holder in claimed_by ('' when nobody holds it), so release() finds a worker's claims
    // through a small partial index. A notification becomes a claim record: 'claimed' until
    // lease_until_us, then 'sent' once the mail server took it; rows already there were sent.
    Migration{4, R"sql(
      ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
      CREATE INDEX deliveries_claimed_by ON deliveries(claimed_by) WHERE claimed_by <> '';
      CREATE TABLE notification_claims (
        event_id TEXT NOT NULL,
        email_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('claimed', 'sent')),
        lease_until_us INTEGER NOT NULL,
        sent_us INTEGER,
        PRIMARY KEY (event_id, email_key)
      ) WITHOUT ROWID;
      INSERT INTO notification_claims(event_id, email_key, state, lease_until_us, sent_us)
        SELECT event_id, email_key, 'sent', sent_us, sent_us FROM notifications;
      DROP TABLE notifications;
      ALTER TABLE notification_claims RENAME TO notifications;
    )sql"},
    // One row that /readyz rewrites after a write failed, to learn whether writes succeed
    // again (a full disk freed) without waiting for traffic that readiness keeps away.
    Migration{5, R"sql(
      CREATE TABLE write_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        writes INTEGER NOT NULL
      );
    )sql"},
    // API keys (issue 13): the secret only as its SHA-256; scopes as bits (domain::Scopes).
    Migration{6, R"sql(
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        scopes INTEGER NOT NULL,
        secret_hash TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        expires_us INTEGER,
        last_used_us INTEGER,
        revoked_us INTEGER
      ) WITHOUT ROWID;
    )sql"},
    // Link tokens (issue 13): opaque tokens in mailed links, kept only as a keyed hash.
    Migration{7, R"sql(
      CREATE TABLE link_tokens (
        token_hash TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        email_key TEXT NOT NULL,
        email TEXT NOT NULL,
        expires_us INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX link_tokens_by_email ON link_tokens(email_key, purpose);
      CREATE INDEX link_tokens_by_expiry ON link_tokens(expires_us) WHERE expires_us IS NOT NULL;
    )sql"},
    // The archive index (issue 15): what a report shows of each archived order, so that a
    // report reads rows instead of every archive object. seq only grows (AUTOINCREMENT never
    // reuses a number), so (count, max seq) names the index's contents. The single row of
    // archive_index_meta says whether the archive written before the index has been added.
    Migration{8, R"sql(
      CREATE TABLE archived_orders (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        price_cents INTEGER NOT NULL,
        deleted_us INTEGER NOT NULL
      );
      CREATE TABLE archive_index_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        backfilled_us INTEGER NOT NULL,
        unreadable INTEGER NOT NULL
      );
    )sql"},
};

constexpr bool versions_are_consecutive() {
  for (std::size_t i = 0; i < kMigrations.size(); ++i)
    if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
  return true;
}
static_assert(versions_are_consecutive(), "migration versions must be 1, 2, 3, ... in order");

std::int64_t current_version(Connection& db) {
  auto q = db.query("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return q.step() ? q.int64(0) : 0;
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

void migrate(Connection& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version INTEGER PRIMARY KEY, applied_at TEXT)");
  const std::int64_t newest = kMigrations.back().version;
  if (const std::int64_t found = current_version(db); found > newest) {
    throw ports::InfraError(ports::InfraError::Kind::permanent,
                            "database schema version " + std::to_string(found) +
                                " is newer than this binary supports (" + std::to_string(newest) +
                                "); upgrade orderflow or use another database");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current_version(db)) continue;
    // IMMEDIATE takes the write lock first, so two processes opening one file at once
    // cannot both apply a migration; the version is checked again under the lock.
    db.exec("BEGIN IMMEDIATE");
    try {
      if (m.version > current_version(db)) {
        db.exec(m.sql);
        db.query(
              "INSERT INTO schema_migrations(version, applied_at) "
              "VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")
            .bind(1, std::int64_t{m.version})
            .run();
      }
      db.exec("COMMIT");
    } catch (...) {
      if (db.in_transaction()) sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

}  // namespace orderflow::adapters::sqlite
