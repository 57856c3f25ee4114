// The whole HTTP surface of orderflow at a glance (ARCHITECTURE §4).
#include "runtime/routes.hpp"

#include "domain/json_writer.hpp"
#include "runtime/metrics.hpp"
#include "runtime/openapi.hpp"

namespace orderflow::runtime {
namespace {

using functions::Request;
using functions::Response;

Response healthz(Services&, const Request&) { return functions::json_response(200, R"({"status":"ok"})"); }

Response readyz(Services& s, const Request&) {
  bool store_ok = false;
  try {
    store_ok = s.store.ping();
  } catch (const std::exception&) {
    store_ok = false;  // any failure of the check means "not ready", never a 500
  }
  if (store_ok) return functions::json_response(200, R"({"status":"ready","checks":{"store":"ok"}})");
  return functions::json_response(503, R"({"status":"unavailable","checks":{"store":"failing"}})");
}

Response metrics(Services& s, const Request&) {
  Response r{200, s.metrics.render(s.store), "text/plain; version=0.0.4; charset=utf-8", {}};
  return r;
}

Response openapi(Services&, const Request&) {
  return Response{200, std::string(openapi_document()), "application/json", {}};
}

template <Response (*Function)(functions::OrderContext&, const Request&)>
Response order_function(Services& s, const Request& req) {
  return Function(s.orders, req);
}

constexpr auto io = Execution::io_thread;
constexpr auto worker = Execution::worker;

constexpr Route kRoutes[] = {
    // method   pattern              function           runs on  handler
    {"POST",   "/orders",           "create_order",    worker,  order_function<functions::create_order>},
    {"GET",    "/orders",           "get_orders",      io,      order_function<functions::get_orders>},
    {"GET",    "/orders/{orderId}", "get_order_by_id", io,      order_function<functions::get_order_by_id>},
    {"PUT",    "/orders/{orderId}", "update_order",    worker,  order_function<functions::update_order>},
    {"PATCH",  "/orders/{orderId}", "update_order",    worker,  order_function<functions::update_order>},
    {"DELETE", "/orders/{orderId}", "delete_order",    worker,  order_function<functions::delete_order>},
    {"GET",    "/healthz",          "healthz",         io,      healthz},
    {"GET",    "/readyz",           "readyz",          io,      readyz},
    // store.stats() may count rows, so it stays off the I/O threads.
    {"GET",    "/metrics",          "metrics",         worker,  metrics},
    {"GET",    "/openapi.json",     "openapi",         io,      openapi},
};

}  // namespace

std::span<const Route> route_table() { return kRoutes; }

}  // namespace orderflow::runtime
