// POST /orders: validate, create the order and its order.created event in one commit.
#include <variant>

#include "domain/event.hpp"
#include "functions/order_functions.hpp"
#include "functions/order_input.hpp"

namespace orderflow::functions {
namespace {

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  for (char c : key)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
}

constexpr std::int64_t kFirstVersion = 1;  // of every order created

Response created_response(const std::string& order_id, bool replayed) {
  domain::JsonWriter w;
  w.begin_object()
      .field("status", "success")
      .field("message", "Order created successfully")
      .field("orderId", order_id)
      .end_object();
  Response r = json_response(201, w.take());
  r.headers.emplace_back("Location", "/orders/" + order_id);
  if (replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

// What a valid request asks the store to do.
struct NewOrder {
  domain::Order order;
  domain::Event event;
  std::optional<ports::IdempotencyClaim> claim;
};

// Validates the request: the order to create, or the 400 that says what is wrong.
std::variant<NewOrder, Response> read_request(OrderContext& ctx, const Request& req) {
  std::optional<ports::IdempotencyClaim> claim;
  if (req.has_header("Idempotency-Key")) {
    const std::string_view key = req.header("Idempotency-Key");
    if (!valid_idempotency_key(key))
      return error_response(400, "validation",
                            "Idempotency-Key must be 1-255 visible ASCII characters");
    claim = ports::IdempotencyClaim{std::string(key), {}, {}};
  }

  auto input = read_order_input(req.body, /*require_both=*/true);
  if (!input) return error_response(400, "validation", input.why());

  const auto now = ctx.clock.now();
  domain::Order order{ctx.ids.new_id(),
                      std::move(*input->description),
                      *input->price,
                      now,
                      now,
                      kFirstVersion,
                      {},
                      {},
                      {}};
  if (claim) {
    // The content, not the bytes: the same fields sent with other spacing are the same request.
    claim->fingerprint = order.description + '\x1f' + order.price.to_string();
    claim->not_before = now - ctx.idempotency_window;
  }
  auto event = domain::order_created_event(order, ctx.ids.new_id(), now);
  return NewOrder{std::move(order), std::move(event), std::move(claim)};
}

Response response_for(const ports::CreateResult& result) {
  switch (result.kind) {
    case ports::CreateResult::Kind::created: {
      Response r = created_response(result.order.id, false);
      r.headers.emplace_back("ETag", domain::etag_for(result.order.version));
      return r;
    }
    case ports::CreateResult::Kind::replayed: {
      // The first answer again: the order as it was created, whatever it became since.
      Response r = created_response(result.order.id, true);
      r.headers.emplace_back("ETag", domain::etag_for(kFirstVersion));
      return r;
    }
    case ports::CreateResult::Kind::key_conflict:
      break;
  }
  return error_response(409, "conflict",
                        "Idempotency-Key was already used with a different request body");
}

}  // namespace

Response create_order(OrderContext& ctx, const Request& req) {
  auto request = read_request(ctx, req);
  if (auto* refused = std::get_if<Response>(&request)) return std::move(*refused);
  const auto& create = std::get<NewOrder>(request);
  return response_for(ctx.store.create(create.order, create.event, create.claim));
}

void create_order_async(OrderContext& ctx, const Request& req, Respond respond) {
  auto request = read_request(ctx, req);
  if (auto* refused = std::get_if<Response>(&request)) return respond(std::move(*refused), nullptr);
  const auto& create = std::get<NewOrder>(request);
  ctx.store.create_async(create.order, create.event, create.claim,
                         [respond = std::move(respond)](const ports::CreateResult& result,
                                                        const std::exception_ptr& error) {
                           if (error) return respond(Response{}, error);
                           respond(response_for(result), nullptr);
                         });
}

}  // namespace orderflow::functions
