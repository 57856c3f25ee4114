#include "domain/event.hpp"

namespace orderflow::domain {

std::string Event::to_json() const {
  JsonWriter w;
  w.begin_object()
      .field("specversion", "1.0")
      .field("id", id)
      .field("source", kEventSource)
      .field("type", type)
      .field("subject", subject)
      .field("time", format_rfc3339(time))
      .field("datacontenttype", "application/json")
      .key("data")
      .raw(data)
      .end_object();
  return w.take();
}

Event order_created_event(const Order& order, std::string event_id, Timestamp at) {
  JsonWriter w;
  w.begin_object()
      .field("eventType", "ORDER_CREATED")
      .key("order")
      .raw(order_json(order))
      .end_object();
  return Event{std::move(event_id), std::string(kOrderCreated), order.id, at, w.take()};
}

Event order_updated_event(const Order& before, const Order& after, std::string event_id,
                          Timestamp at) {
  JsonWriter w;
  w.begin_object()
      .field("eventType", "ORDER_UPDATED")
      .key("order")
      .raw(order_json(after))
      .key("previous")
      .raw(order_json(before))
      .end_object();
  return Event{std::move(event_id), std::string(kOrderUpdated), after.id, at, w.take()};
}

Event order_deleted_event(const Order& order, std::string event_id, Timestamp deleted_at) {
  JsonWriter w;
  w.begin_object()
      .field("eventType", "ORDER_DELETED")
      .field("orderId", order.id)
      .field("description", order.description)
      .key("price")
      .raw_number(order.price.to_string())
      .field("deletedAt", format_rfc3339(deleted_at))
      .key("order")
      .raw(order_json(order))
      .end_object();
  return Event{std::move(event_id), std::string(kOrderDeleted), order.id, deleted_at, w.take()};
}

}  // namespace orderflow::domain
