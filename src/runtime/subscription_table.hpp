#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "domain/event.hpp"
#include "functions/event_functions.hpp"

namespace orderflow::runtime {

// The defaults are DeliveryConfig's: retried for at least 24 h before a delivery is dead.
struct RetryPolicy {
  int max_attempts = 300;
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{600000};
};

// The delay before attempt `attempts + 1`, given `attempts` failures so far: exponential from
// backoff_initial, capped at backoff_max, with "equal jitter" (half fixed, half taken from
// `random`, any uniformly random value).
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempts,
                                      std::uint64_t random);

// One row of the subscription table: a function subscribed to an event type.
struct Subscription {
  std::string name;        // the function's name, e.g. "archive_deleted_order"
  std::string event_type;  // e.g. "orderflow.order.deleted"
  RetryPolicy retry;
  std::function<void(const domain::Event&)> handler;  // throws when it could not finish
  // How many deliveries of one batch may be attempted at once (the handler must then be
  // thread-safe). 1 keeps attempts in event order.
  int concurrency = 1;
};

struct EventFunctionContexts {
  functions::ArchiveContext& archive;
  functions::NotifyContext& notify;
};

// The subscription table: which event reaches which function, with which retry policy.
std::vector<Subscription> subscription_table(EventFunctionContexts& ctx, const RetryPolicy& retry);

}  // namespace orderflow::runtime
