// The SubscriptionStore port: e-mail subscribers to deletion notices (double opt-in), and the
// record of which notices were sent, so a redelivered event never mails anyone twice.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"

namespace orderflow::ports {

enum class SubscriberState { pending, confirmed };

struct SubscribeResult {
  enum class Kind { created, still_pending, already_confirmed };
  Kind kind;
};

// Addresses are compared case-insensitively (the store keeps a lower-case key and the address
// as given). Infrastructure failures throw InfraError; thread-safe.
class SubscriptionStore {
 public:
  virtual ~SubscriptionStore() = default;
  virtual SubscribeResult subscribe(std::string_view email, domain::Timestamp now) = 0;
  // pending -> confirmed. False when the address has no subscription (e.g. unsubscribed since).
  virtual bool confirm(std::string_view email, domain::Timestamp now) = 0;
  virtual std::optional<SubscriberState> state(std::string_view email) = 0;
  // Removes the subscription; true when there was one.
  virtual bool unsubscribe(std::string_view email) = 0;
  // Confirmed addresses (as given) whose lower-case key is > `after`, ascending, at most `limit`.
  virtual std::vector<std::string> confirmed(std::string_view after, int limit) = 0;

  // Records that the notice for `event_id` went to `email`; false when it already had been.
  virtual bool mark_notified(std::string_view event_id, std::string_view email,
                             domain::Timestamp at) = 0;
  virtual bool was_notified(std::string_view event_id, std::string_view email) = 0;
};

}  // namespace orderflow::ports
