// The GET /orders cursor on any text. Properties: a cursor that decodes names a lower-case UUID
// and is, up to the case of its hex digits, the cursor encode_cursor makes for that id; any
// UUID's cursor decodes to the UUID in lower case.
#include "domain/order.hpp"
#include "functions/list_cursor.hpp"
#include "functions/order_input.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using orderflow::fuzz::require;
namespace functions = orderflow::functions;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = orderflow::fuzz::as_text(data, size);

  if (const auto id = functions::decode_cursor(text)) {
    require(orderflow::domain::is_uuid(*id), "a decoded cursor is a UUID");
    require(functions::lower_case_id(*id) == *id, "a decoded cursor is in lower case");
    require(functions::encode_cursor(*id) == functions::lower_case_id(text),
            "a decoded cursor encodes back to the cursor");
  }

  // The input read as an id, as the store hands ids to encode_cursor.
  if (orderflow::domain::is_uuid(text)) {
    const auto id = functions::decode_cursor(functions::encode_cursor(text));
    require(id && *id == functions::lower_case_id(text), "a UUID's cursor decodes to the UUID");
  }
  return 0;
}
