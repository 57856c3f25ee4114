// PLACEHOLDER: replaced by the five order functions.
#include "functions/order_functions.hpp"

namespace orderflow::functions {
Response create_order(OrderContext&, const Request&) { return error_response(501, "todo", "todo"); }
Response get_orders(OrderContext&, const Request&) { return error_response(501, "todo", "todo"); }
Response get_order_by_id(OrderContext&, const Request&) { return error_response(501, "todo", "todo"); }
Response update_order(OrderContext&, const Request&) { return error_response(501, "todo", "todo"); }
Response delete_order(OrderContext&, const Request&) { return error_response(501, "todo", "todo"); }
}  // namespace orderflow::functions
