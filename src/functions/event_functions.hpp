// Functions triggered by events (the subscription table says which event reaches which).
// Each handles one event and returns normally when done; it throws when it could not finish,
// and the dispatcher tries it again later. Each is idempotent: running it twice for the same
// event has the effect of running it once.
#pragma once

#include <string>

#include "domain/event.hpp"
#include "ports/clock.hpp"
#include "ports/mailer.hpp"
#include "ports/object_store.hpp"
#include "ports/signer.hpp"
#include "ports/subscription_store.hpp"

namespace orderflow::functions {

// Where links in mails point and who mails come from.
struct MailSettings {
  std::string public_url;  // e.g. "http://127.0.0.1:8080", no trailing slash
  std::string from;        // e.g. "orderflow@localhost"
};

struct ArchiveContext {
  ports::ObjectStore& objects;
};

// order.deleted -> deleted_orders/{orderId}.json (the key depends only on the order id, so a
// redelivery rewrites the same object).
void archive_deleted_order(ArchiveContext& ctx, const domain::Event& event);

// order.deleted -> removes the order's product photo, if it had one (removing a photo that is
// already gone is a no-op, so redelivery is harmless).
void delete_order_image(ArchiveContext& ctx, const domain::Event& event);

struct NotifyContext {
  ports::SubscriptionStore& subscriptions;
  ports::Mailer& mailer;
  const ports::Signer& signer;
  MailSettings mail;
};

// order.deleted -> one mail to each confirmed subscriber, recorded per (event, address) so a
// redelivery never mails anyone twice.
void notify_subscribers(NotifyContext& ctx, const domain::Event& event);

// Raised for an event that can never be handled (malformed): the dispatcher dead-letters it at
// once instead of retrying.
class PermanentFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace orderflow::functions
