// The admin delivery functions: list pending or dead deliveries, redrive one or all dead.
#include <charconv>

#include "domain/json_writer.hpp"
#include "functions/admin_functions.hpp"

namespace orderflow::functions {
namespace {

constexpr int kDefaultLimit = 100;

std::optional<std::int64_t> parse_positive(std::string_view text) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::string delivery_json(const ports::Delivery& d) {
  domain::JsonWriter w;
  w.begin_object()
      .field("id", d.id)
      .field("eventId", d.event.id)
      .field("eventType", d.event.type)
      .field("subject", d.event.subject)
      .field("subscription", d.subscription)
      .field("state", ports::delivery_state_name(d.state))
      .field("attempts", d.attempts)
      .field("nextAttemptAt", domain::format_rfc3339(d.next_attempt))
      .field("lastError", d.last_error)
      .field("updatedAt", domain::format_rfc3339(d.updated))
      .end_object();
  return w.take();
}

Response list_deliveries(AdminContext& ctx, const Request& req) {
  ports::DeliveryState state = ports::DeliveryState::dead;
  if (const std::string* s = req.query_param("state")) {
    if (*s == "pending")
      state = ports::DeliveryState::pending;
    else if (*s == "dead")
      state = ports::DeliveryState::dead;
    else if (*s == "done")
      state = ports::DeliveryState::done;
    else
      return error_response(400, "validation", "state must be pending, dead or done");
  }
  int limit = kDefaultLimit;
  if (const std::string* l = req.query_param("limit")) {
    const auto v = parse_positive(*l);
    if (!v || *v < 1 || *v > 1000)
      return error_response(400, "validation", "limit must be an integer between 1 and 1000");
    limit = static_cast<int>(*v);
  }
  std::int64_t after = 0;
  if (const std::string* c = req.query_param("cursor"); c && !c->empty()) {
    const auto v = parse_positive(*c);
    if (!v) return error_response(400, "validation", "cursor is invalid");
    after = *v;
  }
  const auto page = ctx.deliveries.list(state, after, limit);
  domain::JsonWriter w;
  w.begin_object()
      .field("status", "success")
      .field("message", "Deliveries fetched: " + std::to_string(page.deliveries.size()))
      .key("deliveries")
      .begin_array();
  for (const auto& d : page.deliveries) w.raw(delivery_json(d));
  w.end_array();
  if (page.has_more && !page.deliveries.empty())
    w.field("nextCursor", std::to_string(page.deliveries.back().id));
  w.end_object();
  return json_response(200, w.take());
}

Response redrive_delivery(AdminContext& ctx, const Request& req) {
  const auto id = parse_positive(req.path_param("deliveryId"));
  if (!id) return error_response(400, "validation", "deliveryId must be a positive integer");
  const auto existing = ctx.deliveries.get(*id);
  if (!existing) return error_response(404, "not_found", "Delivery not found");
  if (!ctx.deliveries.redrive(*id, ctx.clock.now()))
    return error_response(409, "conflict", "Only a dead delivery can be redriven");
  domain::JsonWriter w;
  w.begin_object()
      .field("status", "success")
      .field("message", "Delivery redriven")
      .field("id", *id)
      .end_object();
  return json_response(200, w.take());
}

Response redrive_deliveries(AdminContext& ctx, const Request& req) {
  const std::string* state = req.query_param("state");
  if (state == nullptr || *state != "dead")
    return error_response(400, "validation",
                          "state=dead is required (only dead deliveries can be redriven)");
  const auto n = ctx.deliveries.redrive_all_dead(ctx.clock.now());
  domain::JsonWriter w;
  w.begin_object()
      .field("status", "success")
      .field("message", "Deliveries redriven: " + std::to_string(n))
      .field("redriven", n)
      .end_object();
  return json_response(200, w.take());
}

}  // namespace orderflow::functions
