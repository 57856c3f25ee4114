// The subscription table — the event half of the system, as the seed's SNS topic and its
// subscriptions declare it. Read this file to see where every event goes.
#include "runtime/subscription_table.hpp"

#include "domain/event.hpp"

namespace orderflow::runtime {

std::vector<Subscription> subscription_table(EventFunctionContexts& ctx, const RetryPolicy& retry) {
  const std::string deleted(domain::kOrderDeleted);
  return {
      // function name        event type  retry  handler
      {"archive_deleted_order", deleted, retry,
       [&ctx](const domain::Event& e) { functions::archive_deleted_order(ctx.archive, e); }},
      {"delete_order_image", deleted, retry,
       [&ctx](const domain::Event& e) { functions::delete_order_image(ctx.archive, e); }},
      {"notify_subscribers", deleted, retry,
       [&ctx](const domain::Event& e) { functions::notify_subscribers(ctx.notify, e); }},
  };
}

}  // namespace orderflow::runtime
