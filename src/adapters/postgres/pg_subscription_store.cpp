#include "adapters/postgres/pg_subscription_store.hpp"

#include <utility>

#include "domain/email.hpp"

namespace orderflow::adapters::pg {

using ports::NoticeClaim;
using ports::SubscribeResult;
using ports::SubscriberState;

PostgresSubscriptionStore::PostgresSubscriptionStore(std::shared_ptr<Database> database)
    : db_(std::move(database)) {}

PostgresSubscriptionStore::~PostgresSubscriptionStore() = default;

SubscribeResult PostgresSubscriptionStore::subscribe(std::string_view email,
                                                     domain::Timestamp now) {
  const std::string key = domain::email_key(email);
  SubscribeResult result{SubscribeResult::Kind::created};
  db_->write([&](Connection& db) {
    // A concurrent subscribe of the same address makes this one wait for it, then find its row.
    const Result inserted = db.query(
        "INSERT INTO subscriptions (email_key, email, state, created_us, confirmed_us) "
        "VALUES ($1, $2, 'pending', $3, NULL) ON CONFLICT (email_key) DO NOTHING",
        key, email, to_us(now));
    if (inserted.affected() == 1) {
      result.kind = SubscribeResult::Kind::created;
      return false;
    }
    const Result r = db.query("SELECT state FROM subscriptions WHERE email_key = $1", key);
    result.kind = r.rows() == 1 && r.text(0, 0) == "confirmed"
                      ? SubscribeResult::Kind::already_confirmed
                      : SubscribeResult::Kind::still_pending;
    return false;
  });
  return result;
}

bool PostgresSubscriptionStore::confirm(std::string_view email, domain::Timestamp now) {
  bool found = false;
  db_->write([&](Connection& db) {
    // Confirming twice keeps the first confirmation time.
    found = db.query(
                  "UPDATE subscriptions SET state = 'confirmed', "
                  "confirmed_us = coalesce(confirmed_us, $2) WHERE email_key = $1",
                  domain::email_key(email), to_us(now))
                .affected() == 1;
    return false;
  });
  return found;
}

std::optional<SubscriberState> PostgresSubscriptionStore::state(std::string_view email) {
  std::optional<SubscriberState> state;
  db_->read([&](Connection& db) {
    const Result r =
        db.query("SELECT state FROM subscriptions WHERE email_key = $1", domain::email_key(email));
    state.reset();
    if (r.rows() == 1)
      state = r.text(0, 0) == "confirmed" ? SubscriberState::confirmed : SubscriberState::pending;
  });
  return state;
}

bool PostgresSubscriptionStore::unsubscribe(std::string_view email) {
  bool removed = false;
  db_->write([&](Connection& db) {
    // The notifications stay: a redelivered event must not mail a returning subscriber twice.
    removed = db.query("DELETE FROM subscriptions WHERE email_key = $1", domain::email_key(email))
                  .affected() == 1;
    return false;
  });
  return removed;
}

std::vector<std::string> PostgresSubscriptionStore::confirmed(std::string_view after, int limit) {
  std::vector<std::string> emails;
  if (limit <= 0) return emails;
  db_->read([&](Connection& db) {
    // Lower-cased, so a caller passing the last address as given pages correctly too.
    const Result r = db.query(
        "SELECT email FROM subscriptions WHERE state = 'confirmed' AND email_key > $1 "
        "ORDER BY email_key LIMIT $2",
        domain::email_key(after), std::int64_t{limit});
    emails.clear();
    for (int row = 0; row < r.rows(); ++row) emails.push_back(r.text(row, 0));
  });
  return emails;
}

NoticeClaim PostgresSubscriptionStore::claim_notice(std::string_view event_id,
                                                    std::string_view email, domain::Timestamp now,
                                                    domain::Timestamp lease_until) {
  const std::string key = domain::email_key(email);
  // A redelivered event finds its notices sent: a read says so without joining a batch.
  if (notice_sent(event_id, key)) return NoticeClaim::sent;
  NoticeClaim outcome = NoticeClaim::claimed;
  db_->write([&](Connection& db) {
    // Inserts the claim, or takes over one whose holder let the lease end without marking it
    // sent. A concurrent claimer waits here for the other's commit and then sees its row, so
    // only one of them gets `claimed`.
    const Result taken = db.query(
        "INSERT INTO notifications (event_id, email_key, state, lease_until_us, sent_us) "
        "VALUES ($1, $2, 'claimed', $4, NULL) "
        "ON CONFLICT (event_id, email_key) DO UPDATE SET lease_until_us = excluded.lease_until_us "
        "WHERE notifications.state = 'claimed' AND notifications.lease_until_us <= $3",
        event_id, key, to_us(now), to_us(lease_until));
    if (taken.affected() == 1) {
      outcome = NoticeClaim::claimed;
      return false;
    }
    const Result r = db.query(
        "SELECT state FROM notifications WHERE event_id = $1 AND email_key = $2", event_id, key);
    outcome = r.rows() == 1 && r.text(0, 0) == "sent" ? NoticeClaim::sent : NoticeClaim::busy;
    return false;
  });
  return outcome;
}

void PostgresSubscriptionStore::mark_notice_sent(std::string_view event_id, std::string_view email,
                                                 domain::Timestamp at) {
  db_->write([&](Connection& db) {
    // A notice marked twice keeps the first time it was sent.
    db.query(
        "INSERT INTO notifications (event_id, email_key, state, lease_until_us, sent_us) "
        "VALUES ($1, $2, 'sent', $3, $3) "
        "ON CONFLICT (event_id, email_key) DO UPDATE SET state = 'sent', "
        "sent_us = coalesce(notifications.sent_us, excluded.sent_us)",
        event_id, domain::email_key(email), to_us(at));
    return false;
  });
}

void PostgresSubscriptionStore::release_notice(std::string_view event_id, std::string_view email,
                                               domain::Timestamp lease_until) {
  db_->write([&](Connection& db) {
    db.query(
        "DELETE FROM notifications WHERE event_id = $1 AND email_key = $2 "
        "AND state = 'claimed' AND lease_until_us = $3",
        event_id, domain::email_key(email), to_us(lease_until));
    return false;
  });
}

bool PostgresSubscriptionStore::notice_sent(std::string_view event_id, std::string_view email) {
  bool sent = false;
  db_->read([&](Connection& db) {
    sent = db.query(
                 "SELECT 1 FROM notifications "
                 "WHERE event_id = $1 AND email_key = $2 AND state = 'sent'",
                 event_id, domain::email_key(email))
               .rows() == 1;
  });
  return sent;
}

void PostgresSubscriptionStore::keep_link(std::string_view token_hash, ports::LinkPurpose purpose,
                                          std::string_view email,
                                          std::optional<domain::Timestamp> expires,
                                          domain::Timestamp now) {
  db_->write([&](Connection& db) {
    db.query("DELETE FROM link_tokens WHERE expires_us IS NOT NULL AND expires_us <= $1",
             to_us(now));
    // 0 stands for "never" (no link ends at the epoch).
    db.query(
        "INSERT INTO link_tokens (token_hash, purpose, email_key, email, expires_us) "
        "VALUES ($1, $2, $3, $4, nullif($5, 0)) ON CONFLICT (token_hash) DO NOTHING",
        token_hash, ports::link_purpose_name(purpose), domain::email_key(email), email,
        expires ? to_us(*expires) : std::int64_t{0});
    return false;
  });
}

std::optional<std::string> PostgresSubscriptionStore::find_link(std::string_view token_hash,
                                                                ports::LinkPurpose purpose,
                                                                domain::Timestamp now) {
  std::optional<std::string> email;
  db_->read([&](Connection& db) {
    const Result r = db.query(
        "SELECT email FROM link_tokens WHERE token_hash = $1 AND purpose = $2 "
        "AND (expires_us IS NULL OR expires_us > $3)",
        token_hash, ports::link_purpose_name(purpose), to_us(now));
    email.reset();
    if (r.rows() == 1) email = r.text(0, 0);
  });
  return email;
}

void PostgresSubscriptionStore::drop_links(std::string_view email, ports::LinkPurpose purpose) {
  db_->write([&](Connection& db) {
    db.query("DELETE FROM link_tokens WHERE email_key = $1 AND purpose = $2",
             domain::email_key(email), ports::link_purpose_name(purpose));
    return false;
  });
}

}  // namespace orderflow::adapters::pg
