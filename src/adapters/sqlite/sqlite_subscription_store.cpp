#include "adapters/sqlite/sqlite_subscription_store.hpp"

#include <utility>

#include "adapters/sqlite/sqlite_db.hpp"
#include "domain/email.hpp"

namespace orderflow::adapters {

using ports::NoticeClaim;
using ports::SubscribeResult;
using ports::SubscriberState;
using sqlite::Connection;
using sqlite::to_us;

SqliteSubscriptionStore::SqliteSubscriptionStore(std::shared_ptr<SqliteDatabase> database)
    : db_(std::move(database)) {}

SqliteSubscriptionStore::~SqliteSubscriptionStore() = default;

SubscribeResult SqliteSubscriptionStore::subscribe(std::string_view email, domain::Timestamp now) {
  const std::string key = domain::email_key(email);
  SubscribeResult result{SubscribeResult::Kind::created};
  db_->write([&](Connection& db) {
    {
      auto q = db.query("SELECT state FROM subscriptions WHERE email_key = ?1");
      q.bind(1, key);
      if (q.step()) {
        result.kind = q.text(0) == "confirmed" ? SubscribeResult::Kind::already_confirmed
                                               : SubscribeResult::Kind::still_pending;
        return false;
      }
    }
    db.query(
          "INSERT INTO subscriptions(email_key, email, state, created_us, confirmed_us) "
          "VALUES (?1, ?2, 'pending', ?3, NULL)")
        .bind(1, key)
        .bind(2, email)
        .bind(3, to_us(now))
        .run();
    result.kind = SubscribeResult::Kind::created;
    return false;
  });
  return result;
}

bool SqliteSubscriptionStore::confirm(std::string_view email, domain::Timestamp now) {
  bool found = false;
  db_->write([&](Connection& db) {
    // Confirming twice keeps the first confirmation time.
    db.query(
          "UPDATE subscriptions SET state = 'confirmed', confirmed_us = coalesce(confirmed_us, ?2) "
          "WHERE email_key = ?1")
        .bind(1, domain::email_key(email))
        .bind(2, to_us(now))
        .run();
    found = db.changes() == 1;
    return false;
  });
  return found;
}

std::optional<SubscriberState> SqliteSubscriptionStore::state(std::string_view email) {
  std::optional<SubscriberState> state;
  db_->read([&](Connection& db) {
    auto q = db.query("SELECT state FROM subscriptions WHERE email_key = ?1");
    q.bind(1, domain::email_key(email));
    if (q.step())
      state = q.text(0) == "confirmed" ? SubscriberState::confirmed : SubscriberState::pending;
  });
  return state;
}

bool SqliteSubscriptionStore::unsubscribe(std::string_view email) {
  bool removed = false;
  db_->write([&](Connection& db) {
    // The notifications stay: a redelivered event must not mail a returning subscriber twice.
    db.query("DELETE FROM subscriptions WHERE email_key = ?1")
        .bind(1, domain::email_key(email))
        .run();
    removed = db.changes() == 1;
    return false;
  });
  return removed;
}

std::vector<std::string> SqliteSubscriptionStore::confirmed(std::string_view after, int limit) {
  std::vector<std::string> emails;
  if (limit <= 0) return emails;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT email FROM subscriptions WHERE state = 'confirmed' AND email_key > ?1 "
        "ORDER BY email_key LIMIT ?2");
    // Lower-cased, so a caller passing the last address as given pages correctly too.
    q.bind(1, domain::email_key(after)).bind(2, std::int64_t{limit});
    while (q.step()) emails.push_back(q.text(0));
  });
  return emails;
}

ports::NoticeClaim SqliteSubscriptionStore::claim_notice(std::string_view event_id,
                                                         std::string_view email,
                                                         domain::Timestamp now,
                                                         domain::Timestamp lease_until) {
  const std::string key = domain::email_key(email);
  // A redelivered event finds its notices sent: a reader says so without taking the writer.
  if (notice_sent(event_id, key)) return NoticeClaim::sent;
  NoticeClaim outcome = NoticeClaim::claimed;
  db_->write([&](Connection& db) {
    {
      auto q = db.query(
          "SELECT state, lease_until_us FROM notifications WHERE event_id = ?1 AND email_key = ?2");
      q.bind(1, event_id).bind(2, key);
      if (q.step()) {
        if (q.text(0) == "sent") {
          outcome = NoticeClaim::sent;
          return false;
        }
        if (q.int64(1) > to_us(now)) {
          outcome = NoticeClaim::busy;
          return false;
        }
      }
    }
    // No claim yet, or one whose holder let its lease end without marking it sent.
    db.query(
          "INSERT INTO notifications(event_id, email_key, state, lease_until_us, sent_us) "
          "VALUES (?1, ?2, 'claimed', ?3, NULL) "
          "ON CONFLICT(event_id, email_key) DO UPDATE SET lease_until_us = excluded.lease_until_us")
        .bind(1, event_id)
        .bind(2, key)
        .bind(3, to_us(lease_until))
        .run();
    outcome = NoticeClaim::claimed;
    return false;
  });
  return outcome;
}

void SqliteSubscriptionStore::mark_notice_sent(std::string_view event_id, std::string_view email,
                                               domain::Timestamp at) {
  db_->write([&](Connection& db) {
    // A notice marked twice keeps the first time it was sent.
    db.query(
          "INSERT INTO notifications(event_id, email_key, state, lease_until_us, sent_us) "
          "VALUES (?1, ?2, 'sent', ?3, ?3) "
          "ON CONFLICT(event_id, email_key) DO UPDATE SET state = 'sent', "
          "sent_us = coalesce(sent_us, excluded.sent_us)")
        .bind(1, event_id)
        .bind(2, domain::email_key(email))
        .bind(3, to_us(at))
        .run();
    return false;
  });
}

void SqliteSubscriptionStore::release_notice(std::string_view event_id, std::string_view email,
                                             domain::Timestamp lease_until) {
  db_->write([&](Connection& db) {
    db.query(
          "DELETE FROM notifications WHERE event_id = ?1 AND email_key = ?2 "
          "AND state = 'claimed' AND lease_until_us = ?3")
        .bind(1, event_id)
        .bind(2, domain::email_key(email))
        .bind(3, to_us(lease_until))
        .run();
    return false;
  });
}

bool SqliteSubscriptionStore::notice_sent(std::string_view event_id, std::string_view email) {
  bool sent = false;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT 1 FROM notifications WHERE event_id = ?1 AND email_key = ?2 AND state = 'sent'");
    q.bind(1, event_id).bind(2, domain::email_key(email));
    sent = q.step();
  });
  return sent;
}

void SqliteSubscriptionStore::keep_link(std::string_view token_hash, ports::LinkPurpose purpose,
                                        std::string_view email,
                                        std::optional<domain::Timestamp> expires,
                                        domain::Timestamp now) {
  db_->write([&](Connection& db) {
    db.query("DELETE FROM link_tokens WHERE expires_us IS NOT NULL AND expires_us <= ?1")
        .bind(1, to_us(now))
        .run();
    // 0 stands for "never" (no link ends at the epoch).
    db.query(
          "INSERT INTO link_tokens(token_hash, purpose, email_key, email, expires_us) "
          "VALUES (?1, ?2, ?3, ?4, nullif(?5, 0)) ON CONFLICT(token_hash) DO NOTHING")
        .bind(1, token_hash)
        .bind(2, ports::link_purpose_name(purpose))
        .bind(3, domain::email_key(email))
        .bind(4, email)
        .bind(5, expires ? to_us(*expires) : 0)
        .run();
    return false;
  });
}

std::optional<std::string> SqliteSubscriptionStore::find_link(std::string_view token_hash,
                                                              ports::LinkPurpose purpose,
                                                              domain::Timestamp now) {
  std::optional<std::string> email;
  db_->read([&](Connection& db) {
    auto q = db.query(
        "SELECT email FROM link_tokens WHERE token_hash = ?1 AND purpose = ?2 "
        "AND (expires_us IS NULL OR expires_us > ?3)");
    q.bind(1, token_hash).bind(2, ports::link_purpose_name(purpose)).bind(3, to_us(now));
    if (q.step()) email = q.text(0);
  });
  return email;
}

void SqliteSubscriptionStore::drop_links(std::string_view email, ports::LinkPurpose purpose) {
  db_->write([&](Connection& db) {
    db.query("DELETE FROM link_tokens WHERE email_key = ?1 AND purpose = ?2")
        .bind(1, domain::email_key(email))
        .bind(2, ports::link_purpose_name(purpose))
        .run();
    return false;
  });
}

}  // namespace orderflow::adapters
