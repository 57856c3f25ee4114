// Turns a request body into validated order fields, with the seed's messages.
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "domain/money.hpp"
#include "domain/order.hpp"
#include "domain/result.hpp"
#include "functions/api.hpp"
#include "ports/object_store.hpp"

namespace orderflow::functions {

struct OrderInput {
  std::optional<std::string> description;  // normalised (trimmed) when present
  std::optional<domain::Money> price;
};

// Parses and validates {description, price}. With `require_both`, both must be present
// (create); otherwise either may be absent (update). A failure says what is wrong (the
// function answers it as a 400 validation error).
domain::Result<OrderInput> read_order_input(std::string_view body, bool require_both);

// Order ids are compared in lower case; "ABC..." and "abc..." name the same order.
std::string lower_case_id(std::string_view id);

// 400 for a path id that is not a UUID; nullopt when it is one.
std::optional<Response> check_order_id(std::string_view id);

// {"status":"success","order":{...}} with the order's ETag (and `imageUrl`, presigned, when the
// order has a photo and `objects` is given).
Response order_response(int status, const domain::Order& order, ports::ObjectStore* objects);

// Writes the order as a JSON object, with a presigned `imageUrl` when it has a photo.
void write_order(domain::JsonWriter& w, const domain::Order& order, ports::ObjectStore* objects);

Response not_found_response();
Response precondition_failed_response();

// A version no order has: an If-Match that names none of ours expects it, and fails.
inline constexpr std::int64_t kNoVersion = std::numeric_limits<std::int64_t>::max();
// The If-Match version the store is to check: none without the header, 0 for "*", kNoVersion
// when it names none of ours (412), or a 400's reason when malformed. A list of several is
// resolved against `current_version` (the order's version now, nullopt when there is none).
domain::Result<std::optional<std::int64_t>> read_if_match(
    const Request& req, const std::function<std::optional<std::int64_t>()>& current_version);

}  // namespace orderflow::functions
