// Reads a request body as a flat JSON object, keeping each member's kind and exact text.
// Numbers keep the characters the client sent, so a price is never read through a double.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

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

// Bounds on a body's shape, enforced while it is parsed: parsing stops at the first value past
// them, so a body of 100,000 keys costs no more than one of `max_members`.
struct JsonLimits {
  std::size_t max_members = 1000;  // members of any one object, elements of any one array
  std::size_t max_depth = 32;      // nesting of objects and arrays: a flat object is 1
};

// The members, or a failure that says "Invalid JSON body" (not JSON, bad UTF-8, trailing
// data), "Request body must be a JSON object", "duplicate field: <name>", or one of the limit
// messages of json_limit_problem.
domain::Result<JsonBody> parse_json_object(std::string_view body, const JsonLimits& limits = {});

// Checks only the limits, keeping nothing: what is wrong ("JSON object has more than 16
// fields", "JSON array has more than 16 elements", "JSON nesting is deeper than 4 levels"),
// or nullopt when the body stays within them. A body that is not JSON at all is nullopt
// too (as far as it is read): reporting that is left to the function that reads the body.
std::optional<std::string> json_limit_problem(std::string_view body, const JsonLimits& limits);

}  // namespace orderflow::functions
