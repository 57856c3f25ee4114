// The subscription table — the event half of the system, as the seed's SNS topic and its
// subscriptions declare it. Read this file to see where every event goes.
#include "runtime/subscription_table.hpp"

#include <algorithm>

#include "domain/event.hpp"

namespace orderflow::runtime {

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempts,
                                      std::uint64_t random) {
  auto delay = policy.backoff_initial;
  for (int i = 1; i < attempts && delay < policy.backoff_max; ++i) delay *= 2;
  delay = std::min(delay, policy.backoff_max);
  const auto half = delay.count() / 2;
  const auto jitter =
      half > 0 ? static_cast<long long>(random % static_cast<std::uint64_t>(half + 1)) : 0;
  return std::chrono::milliseconds(delay.count() - half + jitter);
}

std::vector<Subscription> subscription_table(EventFunctionContexts& ctx, const RetryPolicy& retry) {
  const std::string deleted(domain::kOrderDeleted);
  // Up to 8 attempts of a batch at once: each writes and fsyncs its own file, and concurrent
  // fsyncs share the disk's journal commits. All three handlers are thread-safe.
  constexpr int kConcurrency = 8;
  return {
      // function name        event type  retry  handler concurrency
      {"archive_deleted_order", deleted, retry,
       [&ctx](const domain::Event& e) { functions::archive_deleted_order(ctx.archive, e); },
       kConcurrency},
      {"delete_order_image", deleted, retry,
       [&ctx](const domain::Event& e) { functions::delete_order_image(ctx.archive, e); },
       kConcurrency},
      {"notify_subscribers", deleted, retry,
       [&ctx](const domain::Event& e) { functions::notify_subscribers(ctx.notify, e); },
       kConcurrency},
  };
}

}  // namespace orderflow::runtime
