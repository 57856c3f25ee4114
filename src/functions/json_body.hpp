// Reads a request body as a flat JSON object, keeping each member's kind and exact text.
// Numbers keep the characters the client sent, so a price is never read through a double.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::functions {

struct JsonMember {
  enum class Kind { string, number, boolean, null, object, array };
  std::string key;
  Kind kind;
  std::string text;  // string: decoded value; number: literal text; boolean: "true"/"false"
};

struct JsonBody {
  std::vector<JsonMember> members;
  const JsonMember* find(std::string_view key) const;
};

// nullopt and `why` = "Invalid JSON body" (not JSON, bad UTF-8, trailing data) or
// "Request body must be a JSON object", or "duplicate field: <name>".
std::optional<JsonBody> parse_json_object(std::string_view body, std::string* why);

}  // namespace orderflow::functions
