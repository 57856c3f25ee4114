// GET /orders/{orderId}: one order, with its ETag (and 304 for an If-None-Match that names it,
// compared weakly as RFC 9110 §13.1.2 asks).
#include "functions/order_functions.hpp"
#include "functions/order_input.hpp"

namespace orderflow::functions {

Response get_order_by_id(OrderContext& ctx, const Request& req) {
  const std::string id = lower_case_id(req.path_param("orderId"));
  if (auto bad = check_order_id(id)) return std::move(*bad);

  const auto order = ctx.store.get(id);
  if (!order) return not_found_response();

  const std::string etag = domain::etag_for(order->version);
  if (req.has_header("If-None-Match") &&
      domain::if_none_match_hits(req.header("If-None-Match"), order->version)) {
    Response r{304, {}, {}, {}};
    r.headers.emplace_back("ETag", etag);
    return r;
  }
  return order_response(200, *order, ctx.objects);
}

}  // namespace orderflow::functions
