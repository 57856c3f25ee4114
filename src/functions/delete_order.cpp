// DELETE /orders/{orderId}: removes the order and records order.deleted in the same commit.
#include "functions/order_functions.hpp"
#include "functions/order_input.hpp"

namespace orderflow::functions {

Response delete_order(OrderContext& ctx, const Request& req) {
  const std::string id = lower_case_id(req.path_param("orderId"));
  if (auto bad = check_order_id(id)) return std::move(*bad);
  const auto if_match = read_if_match(req, [&]() -> std::optional<std::int64_t> {
    const auto order = ctx.store.get(id);
    return order ? std::optional<std::int64_t>(order->version) : std::nullopt;
  });
  if (!if_match) return error_response(400, "validation", if_match.why());
  const std::optional<std::int64_t> expected_version = *if_match;

  const auto result = ctx.store.remove(id, expected_version, ctx.clock.now(), ctx.ids.new_id());
  switch (result.kind) {
    case ports::ChangeResult::Kind::done: {
      domain::JsonWriter w;
      w.begin_object()
          .field("status", "success")
          .field("message", "Order deleted successfully")
          .field("orderId", id)
          .end_object();
      return json_response(200, w.take());
    }
    case ports::ChangeResult::Kind::not_found:
      return not_found_response();
    case ports::ChangeResult::Kind::version_mismatch:
      break;
  }
  return precondition_failed_response();
}

}  // namespace orderflow::functions
