#include "functions/order_input.hpp"

#include "domain/order.hpp"
#include "functions/json_body.hpp"

namespace orderflow::functions {
namespace {

Response invalid(std::string_view message) { return error_response(400, "validation", message); }

}  // namespace

domain::Result<OrderInput> read_order_input(std::string_view body, bool require_both) {
  using domain::fail;
  const auto parsed = parse_json_object(body);
  if (!parsed) return fail(parsed.why());

  for (const auto& m : parsed->members)
    if (m.key != "description" && m.key != "price") return fail("unknown field: " + m.key);

  using Kind = JsonMember::Kind;
  const JsonMember* description = parsed->find("description");
  const JsonMember* price = parsed->find("price");
  // A member sent as null is not "left out": on update it would be a silent no-op where the
  // client asked for a change, so it is as invalid as on create.
  const bool has_description = description != nullptr;
  const bool has_price = price != nullptr;

  OrderInput out;
  if (require_both && !has_description) return fail("description is required");
  if (has_description) {
    if (description->kind == Kind::null) return fail("description is required");
    if (description->kind != Kind::string) return fail("description must be a string");
    auto normalized = domain::normalize_description(description->text);
    if (!normalized) return fail(normalized.why());
    out.description = std::move(*normalized);
  }

  if (require_both && !has_price) return fail("price is required");
  if (has_price) {
    if (price->kind == Kind::null) return fail("price is required");
    if (price->kind != Kind::number && price->kind != Kind::string)
      return fail("price must be a number");
    const auto parsed_price = domain::parse_price(price->text);
    if (!parsed_price) return fail(parsed_price.why());
    out.price = *parsed_price;
  }

  if (!require_both && !has_description && !has_price)
    return fail("Nothing to update. Send price and/or description.");
  return out;
}

std::string lower_case_id(std::string_view id) {
  std::string out(id);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::optional<Response> check_order_id(std::string_view id) {
  if (domain::is_uuid(id)) return std::nullopt;
  return invalid("orderId must be a UUID");
}

void write_order(domain::JsonWriter& w, const domain::Order& order, ports::ObjectStore* objects) {
  w.begin_object();
  domain::write_order_fields(w, order);
  if (objects != nullptr && !order.image_key.empty()) {
    try {
      w.field("imageUrl", objects->presign_get(order.image_key, std::chrono::hours(1)));
    } catch (const std::exception&) {
      // A link that cannot be made leaves the order readable without it.
    }
  }
  w.end_object();
}

Response order_response(int status, const domain::Order& order, ports::ObjectStore* objects) {
  domain::JsonWriter w;
  w.begin_object().field("status", "success").key("order");
  write_order(w, order, objects);
  w.end_object();
  Response r = json_response(status, w.take());
  r.headers.emplace_back("ETag", domain::etag_for(order.version));
  return r;
}

Response not_found_response() { return error_response(404, "not_found", "Order not found"); }

Response precondition_failed_response() {
  return error_response(412, "precondition_failed",
                        "The order was changed since you read it (If-Match does not match its "
                        "current ETag); read it again and retry");
}

domain::Result<std::optional<std::int64_t>> read_if_match(
    const Request& req, const std::function<std::optional<std::int64_t>()>& current_version) {
  if (!req.has_header("If-Match")) return std::optional<std::int64_t>{};
  auto versions = domain::if_match_versions(req.header("If-Match"));
  if (!versions)
    return domain::fail("If-Match must be * or a list of ETags of this order (for example \"3\")");
  // None of ours: no version matches, and the store says 412 (or 404 for no order).
  if (versions->empty()) return std::optional<std::int64_t>{kNoVersion};
  if (versions->size() == 1) return std::optional<std::int64_t>{versions->front()};
  // A list: the one that names the current version, which the store then checks again.
  const auto current = current_version();
  for (const std::int64_t v : *versions)
    if (current && v == *current) return std::optional<std::int64_t>{v};
  return std::optional<std::int64_t>{kNoVersion};
}

}  // namespace orderflow::functions
