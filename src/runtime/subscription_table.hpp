#pragma once

#include <vector>

#include "functions/event_functions.hpp"
#include "runtime/dispatcher.hpp"

namespace orderflow::runtime {

struct EventFunctionContexts {
  functions::ArchiveContext& archive;
  functions::NotifyContext& notify;
};

// The subscription table: which event reaches which function, with which retry policy.
std::vector<Subscription> subscription_table(EventFunctionContexts& ctx, const RetryPolicy& retry);

}  // namespace orderflow::runtime
