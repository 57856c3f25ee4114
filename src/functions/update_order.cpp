// PUT|PATCH /orders/{orderId}: partial update of description and/or price, optimistic via If-Match.
#include "functions/order_functions.hpp"
#include "functions/order_input.hpp"

namespace orderflow::functions {

Response update_order(OrderContext& ctx, const Request& req) {
  const std::string id = lower_case_id(req.path_param("orderId"));
  if (auto bad = check_order_id(id)) return std::move(*bad);
  const auto if_match = read_if_match(req, [&]() -> std::optional<std::int64_t> {
    const auto order = ctx.store.get(id);
    return order ? std::optional<std::int64_t>(order->version) : std::nullopt;
  });
  if (!if_match) return error_response(400, "validation", if_match.why());
  const std::optional<std::int64_t> expected_version = *if_match;

  auto input = read_order_input(req.body, /*require_both=*/false);
  if (!input) return error_response(400, "validation", input.why());

  const ports::OrderPatch patch{std::move(input->description), input->price};
  const auto result =
      ctx.store.update(id, patch, expected_version, ctx.clock.now(), ctx.ids.new_id());
  switch (result.kind) {
    case ports::ChangeResult::Kind::done:
      return order_response(200, result.order, ctx.objects);
    case ports::ChangeResult::Kind::not_found:
      return not_found_response();
    case ports::ChangeResult::Kind::version_mismatch:
      break;
  }
  return precondition_failed_response();
}

}  // namespace orderflow::functions
