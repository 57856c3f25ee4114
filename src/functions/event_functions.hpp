// Functions triggered by events (the subscription table says which event reaches which).
// Each handles one event and returns normally when done; it throws when it could not finish,
// and the dispatcher tries it again later. Each is idempotent: running it twice for the same
// event has the effect of running it once.
#pragma once

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>

#include "domain/event.hpp"
#include "ports/archive_index.hpp"
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
  ports::ArchiveIndex& index;
};

// order.deleted -> deleted_orders/{orderId}.json (the key depends only on the order id, so a
// redelivery rewrites the same object) and its entry in the archive index (which a redelivery
// leaves as it is).
void archive_deleted_order(ArchiveContext& ctx, const domain::Event& event);

// order.deleted -> removes the order's product photo, if it had one (removing a photo that is
// already gone is a no-op, so redelivery is harmless).
void delete_order_image(ArchiveContext& ctx, const domain::Event& event);

struct NotifyContext {
  ports::SubscriptionStore& subscriptions;
  ports::Mailer& mailer;
  const ports::Signer& signer;
  MailSettings mail;
  const ports::Clock& clock;
  // How long a sender holds the claim of one notice: longer than one send can take.
  std::chrono::milliseconds lease{30000};
};

// order.deleted -> one mail to each confirmed subscriber. Each (event, address) is claimed
// before its mail is sent and marked sent once the mail server accepted it, so neither a
// redelivery nor a second worker mails anyone twice. A notice whose claim another send holds
// (still at work, or failed or died within its lease) is left alone; once every other address is
// done the call throws RetryLater, and the delivery comes back when that claim has ended.
//
// The one window in which a notice can go twice: a crash (or a failed mark) after the mail
// server accepted the mail and before it was marked sent; once the claim's lease has ended it is
// sent again, with the same Message-ID (a pure function of event id and address), so mail
// clients and servers that de-duplicate by Message-ID show it once.
void notify_subscribers(NotifyContext& ctx, const domain::Event& event);

// Raised for an event that can never be handled (malformed): the dispatcher dead-letters it at
// once instead of retrying.
class PermanentFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised when part of the work is held by someone else's claim (a notice another send has
// claimed): nothing failed, it just cannot be finished yet. The dispatcher attempts the delivery
// again once its own claim's lease has ended, which is after any claim taken before it with the
// same lease, without counting a failed attempt.
class RetryLater : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The one rule for a failed delivery attempt, applied alike by the local dispatcher and the bus
// consumers:
//   dead_now:  PermanentFailure. The event itself can never be handled; it is dead at once.
//   later:     RetryLater. Nothing failed; attempted again when the claim's lease ends, and not
//              counted as an attempt.
//   retry:     anything else, ports::InfraError of either kind included: a failed attempt,
//              retried with the policy's backoff until max_attempts. A *permanent* InfraError
//              is permanent for the infrastructure as it is configured (credentials refused, a
//              bucket missing): an operator can fix that, and the deliveries must then go
//              through by themselves, so it does not cut the retries short. It is logged as an
//              error (it needs someone) where a transient one is a warning.
struct FailedAttempt {
  enum class Kind { dead_now, later, retry };
  Kind kind = Kind::retry;
  bool needs_operator = false;  // a permanent InfraError
  std::string error;            // what() of the exception
};
FailedAttempt classify_failure(std::exception_ptr failure) noexcept;

}  // namespace orderflow::functions
