#include "adapters/postgres/pg_migrations.hpp"

#include <array>
#include <string>

namespace orderflow::adapters::pg {
namespace {

using ports::InfraError;

// Held while migrating; any fixed number works as long as nothing else in the database uses it.
constexpr std::int64_t kMigrationLockKey = 0x6f66'6d69'6772'6174;  // "ofmigrat"

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released migration never changes, a schema change is a new entry. The tables
// match the SQLite adapter's (timestamps as BIGINT microseconds, prices as BIGINT cents, text
// ids), so both adapters behave alike. Ids and e-mail keys are compared as bytes (COLLATE "C"),
// as SQLite does, whatever the database's locale.
constexpr std::array kMigrations{
    Migration{1, R"sql(
      CREATE TABLE orders (
        id TEXT COLLATE "C" PRIMARY KEY,
        description TEXT NOT NULL,
        price_cents BIGINT NOT NULL,
        created_us BIGINT NOT NULL,
        modified_us BIGINT NOT NULL,
        version BIGINT NOT NULL,
        image_key TEXT NOT NULL DEFAULT '',
        detected_labels TEXT NOT NULL DEFAULT '',
        validation_status TEXT NOT NULL DEFAULT ''
      );
      CREATE TABLE outbox (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        subject TEXT NOT NULL,
        time_us BIGINT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        order_id TEXT NOT NULL,
        created_us BIGINT NOT NULL
      );
      -- claimed_by: the worker whose lease next_attempt_us currently is ('' when nobody's).
      CREATE TABLE deliveries (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_seq BIGINT NOT NULL REFERENCES outbox(seq),
        subscription TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        attempts INTEGER NOT NULL,
        next_attempt_us BIGINT NOT NULL,
        claimed_by TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        updated_us BIGINT NOT NULL,
        UNIQUE (event_seq, subscription)
      );
      -- A claim walks a subscription's pending deliveries in event order and stops at its limit.
      CREATE INDEX deliveries_due_in_order ON deliveries (subscription, event_seq, id)
        WHERE state = 'pending';
      CREATE INDEX deliveries_next_due ON deliveries (subscription, next_attempt_us)
        WHERE state = 'pending';
      CREATE INDEX deliveries_by_state ON deliveries (state, id);
      CREATE INDEX deliveries_claimed_by ON deliveries (claimed_by) WHERE claimed_by <> '';
      CREATE TABLE fanout_cursor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL
      );
      INSERT INTO fanout_cursor (id, seq) VALUES (1, 0);
      CREATE TABLE subscriptions (
        email_key TEXT COLLATE "C" PRIMARY KEY,
        email TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
        created_us BIGINT NOT NULL,
        confirmed_us BIGINT
      );
      -- One deletion notice per (event, subscriber): claimed under a lease, then sent.
      CREATE TABLE notifications (
        event_id TEXT NOT NULL,
        email_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('claimed', 'sent')),
        lease_until_us BIGINT NOT NULL,
        sent_us BIGINT,
        PRIMARY KEY (event_id, email_key)
      );
    )sql"},
    // The NATS outbox relay's cursor: NULL until the first relay starts it at the fan-out cursor.
    Migration{2, R"sql(
      CREATE TABLE relay_cursor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT
      );
      INSERT INTO relay_cursor (id, seq) VALUES (1, NULL);
    )sql"},
    // API keys (issue 13): the secret only as its SHA-256; scopes as bits (domain::Scopes).
    Migration{3, R"sql(
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        scopes BIGINT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_us BIGINT NOT NULL,
        expires_us BIGINT,
        last_used_us BIGINT,
        revoked_us BIGINT
      );
    )sql"},
    // Link tokens (issue 13): opaque tokens in mailed links, kept only as a keyed hash.
    Migration{4, R"sql(
      CREATE TABLE link_tokens (
        token_hash TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        email_key TEXT NOT NULL,
        email TEXT NOT NULL,
        expires_us BIGINT
      );
      CREATE INDEX link_tokens_by_email ON link_tokens (email_key, purpose);
      CREATE INDEX link_tokens_by_expiry ON link_tokens (expires_us) WHERE expires_us IS NOT NULL;
    )sql"},
    // The archive index (issue 15), as in SQLite's migration 8. A sequence value is taken
    // before its row commits, so rows may become visible out of seq order: a report compares
    // the count too (see ArchiveIndexState).
    Migration{5, R"sql(
      CREATE TABLE archived_orders (
        seq BIGSERIAL PRIMARY KEY,
        order_id TEXT COLLATE "C" NOT NULL UNIQUE,  -- byte order, as SQLite sorts
        description TEXT NOT NULL,
        price_cents BIGINT NOT NULL,
        deleted_us BIGINT NOT NULL
      );
      CREATE TABLE archive_index_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        backfilled_us BIGINT NOT NULL,
        unreadable BIGINT NOT NULL
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
  return db.query("SELECT coalesce(max(version), 0) FROM schema_migrations").int64(0, 0);
}

void apply_missing(Connection& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
  const std::int64_t newest = kMigrations.back().version;
  const std::int64_t found = current_version(db);
  if (found > newest) {
    throw InfraError(InfraError::Kind::permanent,
                     "store: the database schema version " + std::to_string(found) +
                         " is newer than this binary supports (" + std::to_string(newest) +
                         "); upgrade orderflow or use another database");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= found) continue;
    db.exec("BEGIN");
    db.exec(m.sql);
    db.query("INSERT INTO schema_migrations (version) VALUES ($1)", m.version);
    db.exec("COMMIT");
  }
}

}  // namespace

void migrate(Connection& db) {
  // A migration may take long (an index on a big table): no statement timeout while migrating,
  // but waiting for another process's migration is bounded.
  db.exec("SET statement_timeout = 0; SET lock_timeout = '60s'");
  db.set_reply_timeout(std::chrono::minutes(15));
  // The session lock, unlike a transaction's, spans the CREATE TABLE IF NOT EXISTS and every
  // migration's own transaction; concurrent CREATE TABLE IF NOT EXISTS is not safe without it.
  db.query("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  try {
    apply_missing(db);
  } catch (...) {
    if (!db.broken()) {
      try {
        if (!db.idle()) db.exec("ROLLBACK");
        db.query("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
        db.exec("RESET statement_timeout; RESET lock_timeout");
        db.set_reply_timeout(Connection::kDefaultReplyTimeout);
      } catch (const InfraError&) {
        // The first error tells what went wrong; the connection is dropped by its owner.
      }
    }
    throw;
  }
  db.query("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
  db.exec("RESET statement_timeout; RESET lock_timeout");
  db.set_reply_timeout(Connection::kDefaultReplyTimeout);
}

}  // namespace orderflow::adapters::pg
