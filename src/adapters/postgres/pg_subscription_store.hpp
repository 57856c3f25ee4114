#pragma once

#include <memory>

#include "adapters/postgres/pg_database.hpp"
#include "ports/subscription_store.hpp"

namespace orderflow::adapters::pg {

// SubscriptionStore on a shared Database: subscriptions keyed by the lower-case address, and
// one notifications row per (event, address) that senders in any process claim under a lease.
class PostgresSubscriptionStore final : public ports::SubscriptionStore {
 public:
  explicit PostgresSubscriptionStore(std::shared_ptr<Database> database);
  ~PostgresSubscriptionStore() override;
  PostgresSubscriptionStore(const PostgresSubscriptionStore&) = delete;
  PostgresSubscriptionStore& operator=(const PostgresSubscriptionStore&) = delete;

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
  std::shared_ptr<Database> db_;
};

}  // namespace orderflow::adapters::pg
