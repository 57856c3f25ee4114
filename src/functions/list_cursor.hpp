// The opaque keyset cursor of GET /orders: the last id of a page, versioned ("c1") and without
// dashes, so clients treat it as opaque and the format can change later.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orderflow::functions {

// The cursor that continues after the order `last_id` (a UUID).
std::string encode_cursor(std::string_view last_id);

// The order id (a lower-case UUID) a cursor continues after, or nullopt when `cursor` is not
// one that encode_cursor makes.
std::optional<std::string> decode_cursor(std::string_view cursor);

}  // namespace orderflow::functions
