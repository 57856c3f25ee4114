// E-mail subscriptions to deletion notices, with double opt-in (the seed's SNS e-mail
// subscriptions): subscribe sends a signed, expiring confirmation link; unsubscribe never
// reveals whether an address was subscribed.
#pragma once

#include <chrono>

#include "functions/api.hpp"
#include "functions/event_functions.hpp"

namespace orderflow::functions {

struct SubscriptionContext {
  ports::SubscriptionStore& subscriptions;
  ports::Mailer& mailer;
  const ports::Signer& signer;
  ports::Clock& clock;
  MailSettings mail;
  std::chrono::seconds confirm_ttl = std::chrono::hours(48);
};

Response subscribe_email(SubscriptionContext& ctx, const Request& req);  // POST /subscriptions
Response confirm_subscription(SubscriptionContext& ctx,
                              const Request& req);  // GET /subscriptions/confirm
// POST /subscriptions/unsubscribe: JSON {email}, or ?token= from a mail (one-click, RFC 8058).
Response unsubscribe_email(SubscriptionContext& ctx, const Request& req);
// GET /subscriptions/unsubscribe?token=: a page with a button (a GET never unsubscribes, since
// mail scanners follow links).
Response unsubscribe_page(SubscriptionContext& ctx, const Request& req);

}  // namespace orderflow::functions
