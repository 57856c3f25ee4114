// E-mail subscriptions to deletion notices, with double opt-in (the seed's SNS e-mail
// subscriptions), made hard to abuse (issue 13): subscribe mails an opaque, expiring
// confirmation link whose page confirms only by a POST (mail scanners follow links);
// unsubscribing by address mails a link rather than acting at once; and every answer is the
// same whether or not the address is subscribed. Requests per client address and mails per
// address are rate limited.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "domain/token_bucket.hpp"
#include "functions/api.hpp"
#include "functions/event_functions.hpp"

namespace orderflow::functions {

// The token buckets of the subscription routes; a policy of zeros turns one off.
struct SubscriptionLimits {
  SubscriptionLimits(domain::BucketPolicy per_client, domain::BucketPolicy per_interval,
                     domain::BucketPolicy per_day)
      : requests_per_client(per_client), mail_interval(per_interval), mails_per_day(per_day) {}
  domain::TokenBuckets requests_per_client;  // subscribe and unsubscribe-by-address requests
  domain::TokenBuckets mail_interval;        // per address: at most one link mail per interval
  domain::TokenBuckets mails_per_day;        // per address: and so many a day
};

struct SubscriptionContext {
  ports::SubscriptionStore& subscriptions;
  ports::Mailer& mailer;
  const ports::Signer& signer;
  ports::Clock& clock;
  MailSettings mail;
  std::function<std::string()> new_token;  // 256 random bits as text, for confirmation links
  SubscriptionLimits* limits = nullptr;    // null: no limits
  std::chrono::seconds confirm_ttl = std::chrono::hours(48);
};

Response subscribe_email(SubscriptionContext& ctx, const Request& req);  // POST /subscriptions
// GET /subscriptions/confirm?token=: a page whose button confirms (a GET changes nothing).
Response confirmation_page(SubscriptionContext& ctx, const Request& req);
// POST /subscriptions/confirm?token=: confirms, once.
Response confirm_subscription(SubscriptionContext& ctx, const Request& req);
// POST /subscriptions/unsubscribe: ?token= from a mail (one-click, RFC 8058) unsubscribes; a
// JSON {email} mails that address a link to do so.
Response unsubscribe_email(SubscriptionContext& ctx, const Request& req);
// GET /subscriptions/unsubscribe?token=: a page with a button.
Response unsubscribe_page(SubscriptionContext& ctx, const Request& req);

}  // namespace orderflow::functions
