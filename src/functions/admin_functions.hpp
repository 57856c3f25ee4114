// Operator functions for failed deliveries: see them, and send them again once fixed.
// The gateway lets only the admin token or a key with the admin scope reach them (routes.cpp).
#pragma once

#include <string>

#include "functions/api.hpp"
#include "ports/clock.hpp"
#include "ports/delivery_admin.hpp"

namespace orderflow::functions {

// A redrive wakes the dispatchers itself: DeliveryAdmin promises that of every redrive.
struct AdminContext {
  ports::DeliveryAdmin& deliveries;
  ports::Clock& clock;
};

Response list_deliveries(AdminContext& ctx, const Request& req);  // GET /admin/deliveries
Response redrive_delivery(AdminContext& ctx,
                          const Request& req);  // POST /admin/deliveries/{deliveryId}/redrive
Response redrive_deliveries(AdminContext& ctx,
                            const Request& req);  // POST /admin/deliveries/redrive?state=dead

// A delivery as the admin API and the CLI show it.
std::string delivery_json(const ports::Delivery& d);

}  // namespace orderflow::functions
