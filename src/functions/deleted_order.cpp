#include "functions/deleted_order.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "functions/json_body.hpp"

namespace orderflow::functions {
namespace {

const std::string* string_member(const JsonBody& body, std::string_view key) {
  const JsonMember* m = body.find(key);
  return m != nullptr && m->kind == JsonMember::Kind::string ? &m->text : nullptr;
}

// Reads the flat fields every archived or deleted order carries; `order_fields` is the object
// holding creationDate/lastModifiedDate (the event nests them under "order").
std::optional<DeletedOrder> read_fields(const JsonBody& top, const JsonBody& order_fields,
                                        std::string_view event_id) {
  const std::string* id = string_member(top, "orderId");
  const std::string* description = string_member(top, "description");
  const std::string* deleted_at = string_member(top, "deletedAt");
  const std::string* created = string_member(order_fields, "creationDate");
  const std::string* modified = string_member(order_fields, "lastModifiedDate");
  const JsonMember* price = top.find("price");
  if (!id || !description || !deleted_at || !created || !modified || !price ||
      price->kind != JsonMember::Kind::number || !domain::is_uuid(*id))
    return std::nullopt;
  const auto money = domain::Money::parse(price->text);
  const auto t_deleted = domain::parse_rfc3339(*deleted_at);
  const auto t_created = domain::parse_rfc3339(*created);
  const auto t_modified = domain::parse_rfc3339(*modified);
  if (!money || !t_deleted || !t_created || !t_modified) return std::nullopt;
  DeletedOrder out;
  out.order.id = *id;
  out.order.description = *description;
  out.order.price = *money;
  out.order.created = *t_created;
  out.order.last_modified = *t_modified;
  if (const std::string* key = string_member(order_fields, "imageKey")) out.order.image_key = *key;
  if (const std::string* st = string_member(order_fields, "validationStatus"))
    out.order.validation_status = *st;
  out.deleted_at = *t_deleted;
  out.event_id = std::string(event_id);
  return out;
}

}  // namespace

std::optional<DeletedOrder> read_deleted_event(const domain::Event& event) {
  const auto top = parse_json_object(event.data);
  if (!top) return std::nullopt;
  const JsonMember* order = top->find("order");
  if (order == nullptr || order->kind != JsonMember::Kind::object) return std::nullopt;
  // The nested snapshot's text is needed for its dates only; re-read it as a flat object.
  boost::system::error_code ec;
  const auto value = boost::json::parse(event.data, ec);
  if (ec || !value.is_object() || !value.as_object().contains("order")) return std::nullopt;
  const auto nested = parse_json_object(boost::json::serialize(value.as_object().at("order")));
  if (!nested) return std::nullopt;
  return read_fields(*top, *nested, event.id);
}

std::string archive_json(const DeletedOrder& d) {
  domain::JsonWriter w;
  w.begin_object();
  domain::write_order_fields(w, d.order);
  w.field("deletedAt", domain::format_rfc3339(d.deleted_at))
      .field("eventId", d.event_id)
      .end_object();
  return w.take();
}

std::optional<DeletedOrder> read_archive_json(std::string_view json) {
  const auto top = parse_json_object(json);
  if (!top) return std::nullopt;
  const std::string* event_id = string_member(*top, "eventId");
  return read_fields(*top, *top, event_id ? std::string_view(*event_id) : std::string_view{});
}

std::string archive_key(std::string_view order_id) {
  return "deleted_orders/" + std::string(order_id) + ".json";
}

ports::ArchivedOrder index_entry(const DeletedOrder& deleted) {
  return ports::ArchivedOrder{deleted.order.id, deleted.order.description, deleted.order.price,
                              deleted.deleted_at};
}

}  // namespace orderflow::functions
