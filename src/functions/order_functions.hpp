// The five order functions of the seed, one file each. Each is a pure request -> response
// over the ports it is given; none sees HTTP plumbing, SQL or a client library.
#pragma once

#include <chrono>
#include <exception>
#include <functional>

#include "functions/api.hpp"
#include "ports/clock.hpp"
#include "ports/id_generator.hpp"
#include "ports/object_store.hpp"
#include "ports/order_store.hpp"

namespace orderflow::functions {

struct OrderContext {
  ports::OrderStore& store;
  ports::Clock& clock;
  ports::IdGenerator& ids;
  // Where product photos live; orders with one are shown with a presigned `imageUrl`.
  ports::ObjectStore* objects = nullptr;
  // How long an Idempotency-Key replays its first answer (retention.idempotency_keys_s).
  std::chrono::seconds idempotency_window = std::chrono::hours(24);
};

Response create_order(OrderContext& ctx, const Request& req);  // POST /orders

// How a function that completes later answers: once, with the response, or with the exception
// the synchronous function would have thrown (the response is then empty).
using Respond = std::function<void(Response&&, std::exception_ptr)>;
// POST /orders without waiting for the commit: `respond` runs on the store's thread once the
// order is durable (ctx.store.create_async), or at once when the request is refused. Throws only
// before anything was written.
void create_order_async(OrderContext& ctx, const Request& req, Respond respond);
Response get_orders(OrderContext& ctx, const Request& req);       // GET /orders
Response get_order_by_id(OrderContext& ctx, const Request& req);  // GET /orders/{orderId}
Response update_order(OrderContext& ctx, const Request& req);     // PUT|PATCH /orders/{orderId}
Response delete_order(OrderContext& ctx, const Request& req);     // DELETE /orders/{orderId}

}  // namespace orderflow::functions
