#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_database.hpp"
#include "ports/subscription_store.hpp"

namespace orderflow::adapters {

// SubscriptionStore on a SqliteDatabase: the subscriptions table (keyed by domain::email_key,
// keeping the address as first given) and the notifications table of notice claims. Writes go
// through the database's one writer thread (group commit), so two claims of one notice never
// both succeed.
class SqliteSubscriptionStore final : public ports::SubscriptionStore {
 public:
  explicit SqliteSubscriptionStore(std::shared_ptr<SqliteDatabase> database);
  ~SqliteSubscriptionStore() override;
  SqliteSubscriptionStore(const SqliteSubscriptionStore&) = delete;
  SqliteSubscriptionStore& operator=(const SqliteSubscriptionStore&) = delete;

  ports::SubscribeResult subscribe(std::string_view email, domain::Timestamp now) override;
  bool confirm(std::string_view email, domain::Timestamp now) override;
  std::optional<ports::SubscriberState> state(std::string_view email) override;
  bool unsubscribe(std::string_view email) override;
  std::vector<std::string> confirmed(std::string_view after, int limit) override;
  ports::NoticeClaim claim_notice(std::string_view event_id, std::string_view email,
                                  domain::Timestamp now, domain::Timestamp lease_until) override;
  void mark_notice_sent(std::string_view event_id, std::string_view email,
                        domain::Timestamp at) override;
  void release_notice(std::string_view event_id, std::string_view email,
                      domain::Timestamp lease_until) override;
  bool notice_sent(std::string_view event_id, std::string_view email) override;
  void keep_link(std::string_view token_hash, ports::LinkPurpose purpose, std::string_view email,
                 std::optional<domain::Timestamp> expires, domain::Timestamp now) override;
  std::optional<std::string> find_link(std::string_view token_hash, ports::LinkPurpose purpose,
                                       domain::Timestamp now) override;
  void drop_links(std::string_view email, ports::LinkPurpose purpose) override;

 private:
  std::shared_ptr<SqliteDatabase> db_;
};

}  // namespace orderflow::adapters
