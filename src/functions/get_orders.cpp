// GET /orders: one page of orders in creation order, with an opaque keyset cursor.
#include <charconv>

#include "functions/list_cursor.hpp"
#include "functions/order_functions.hpp"
#include "functions/order_input.hpp"

namespace orderflow::functions {
namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;

}  // namespace

std::string encode_cursor(std::string_view last_id) {
  std::string c = "c1";
  for (char ch : last_id)
    if (ch != '-') c.push_back(ch);
  return c;
}

std::optional<std::string> decode_cursor(std::string_view cursor) {
  if (cursor.size() != 34 || !cursor.starts_with("c1")) return std::nullopt;
  std::string id;
  for (std::size_t i = 2; i < cursor.size(); ++i) {
    const std::size_t n = i - 2;
    if (n == 8 || n == 12 || n == 16 || n == 20) id.push_back('-');
    id.push_back(cursor[i]);
  }
  if (!domain::is_uuid(id)) return std::nullopt;
  for (char& ch : id)
    if (ch >= 'A' && ch <= 'F') ch = static_cast<char>(ch - 'A' + 'a');
  return id;
}

Response get_orders(OrderContext& ctx, const Request& req) {
  int limit = kDefaultLimit;
  if (const std::string* text = req.query_param("limit")) {
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, limit);
    if (ec != std::errc{} || ptr != end || limit < 1 || limit > kMaxLimit)
      return error_response(400, "validation", "limit must be an integer between 1 and 1000");
  }
  std::string after;
  if (const std::string* cursor = req.query_param("cursor"); cursor && !cursor->empty()) {
    auto id = decode_cursor(*cursor);
    if (!id) return error_response(400, "validation", "cursor is invalid");
    after = std::move(*id);
  }

  const auto page = ctx.store.list(after, limit);

  domain::JsonWriter w;
  // An order without a photo is about 200 bytes of JSON; one with a signed photo link, ~600.
  w.reserve(128 + page.orders.size() * 256);
  w.begin_object()
      .field("status", "success")
      .field("message", "Orders fetched: " + std::to_string(page.orders.size()))
      .key("orders")
      .begin_array();
  for (const auto& o : page.orders) write_order(w, o, ctx.objects);
  w.end_array();
  if (page.has_more && !page.orders.empty())
    w.field("nextCursor", encode_cursor(page.orders.back().id));
  w.end_object();
  return json_response(200, w.take());
}

}  // namespace orderflow::functions
