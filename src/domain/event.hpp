// Events: what changed, as CloudEvents 1.0 in JSON structured mode. Each is written to the
// outbox in the same transaction as the change it describes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/order.hpp"
#include "domain/time.hpp"

namespace orderflow::domain {

inline constexpr std::string_view kOrderCreated = "orderflow.order.created";
inline constexpr std::string_view kOrderUpdated = "orderflow.order.updated";
inline constexpr std::string_view kOrderDeleted = "orderflow.order.deleted";
inline constexpr std::string_view kEventSource = "orderflow";

struct Event {
  std::string id;       // UUIDv7
  std::string type;     // one of the kOrder* types
  std::string subject;  // the order id
  Timestamp time;
  std::string data;  // the `data` member, as JSON object text

  // The whole CloudEvent as JSON text.
  std::string to_json() const;
};

Event order_created_event(const Order& order, std::string event_id, Timestamp at);
Event order_updated_event(const Order& before, const Order& after, std::string event_id,
                          Timestamp at);
// `data` is a superset of the seed's SNS message: eventType "ORDER_DELETED", orderId,
// description, price, deletedAt, plus the full order snapshot under "order".
Event order_deleted_event(const Order& order, std::string event_id, Timestamp deleted_at);

}  // namespace orderflow::domain
