// Request bodies as JSON objects, under per-route limits (the first two bytes pick them, as the
// route table does), and then as order input. Properties: parse_json_object and the gateway's
// json_limit_problem agree on every limit; what parse_json_object accepts, or calls invalid or
// no object, boost::json::parse (a DOM parser, no limits) accepts as an object within the
// limits, rejects, or reads as something else; a parsed object has unique keys and, written back
// with JsonWriter, parses to the same members; accepted order input holds a valid price and
// description.
#include <boost/json/parse.hpp>
#include <set>
#include <string>

#include "domain/json_writer.hpp"
#include "domain/money.hpp"
#include "domain/order.hpp"
#include "functions/json_body.hpp"
#include "functions/order_input.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using orderflow::functions::JsonBody;
using orderflow::functions::JsonLimits;
using orderflow::functions::JsonMember;
using orderflow::fuzz::require;

// The members written back as one flat object; nested values become empty ones of their kind.
std::string write_back(const JsonBody& body) {
  orderflow::domain::JsonWriter w;
  w.begin_object();
  for (const auto& m : body.members) {
    w.key(m.key);
    switch (m.kind) {
      case JsonMember::Kind::string:
        w.string(m.text);
        break;
      case JsonMember::Kind::number:
        w.raw_number(m.text);
        break;
      case JsonMember::Kind::boolean:
        w.boolean(m.text == "true");
        break;
      case JsonMember::Kind::null:
        w.null();
        break;
      case JsonMember::Kind::object:
        w.raw("{}");
        break;
      case JsonMember::Kind::array:
        w.raw("[]");
        break;
    }
  }
  w.end_object();
  return w.take();
}

bool same_members(const JsonBody& a, const JsonBody& b) {
  if (a.members.size() != b.members.size()) return false;
  for (std::size_t i = 0; i < a.members.size(); ++i) {
    const JsonMember& x = a.members[i];
    const JsonMember& y = b.members[i];
    if (x.key != y.key || x.kind != y.kind || x.text != y.text) return false;
  }
  return true;
}

// The deepest nesting of objects and arrays in `v` (a scalar is 0), and whether every one of them
// has at most `max_members` values.
std::size_t depth_of(const boost::json::value& v, std::size_t max_members, bool& within) {
  std::size_t deepest = 0;
  if (const auto* object = v.if_object()) {
    within = within && object->size() <= max_members;
    for (const auto& member : *object)
      deepest = std::max(deepest, depth_of(member.value(), max_members, within));
    return deepest + 1;
  }
  if (const auto* array = v.if_array()) {
    within = within && array->size() <= max_members;
    for (const auto& element : *array)
      deepest = std::max(deepest, depth_of(element, max_members, within));
    return deepest + 1;
  }
  return 0;
}

// parse_json_object's verdict against a DOM parser's. Duplicate keys collapse in the DOM, so
// only what parse_json_object accepted is held to the limits.
void compare_with_dom(std::string_view body, const JsonLimits& limits,
                      const orderflow::domain::Result<JsonBody>& parsed, std::string_view why) {
  boost::json::parse_options options;
  options.max_depth = std::max<std::size_t>(limits.max_depth + 1, options.max_depth);
  boost::json::error_code ec;
  const boost::json::value dom = boost::json::parse(body, ec, {}, options);
  if (parsed) {
    require(!ec && dom.is_object(), "an accepted body is a JSON object");
    require(dom.as_object().size() == parsed->members.size(), "the DOM has the same members");
    bool within = true;
    require(depth_of(dom, limits.max_members, within) <= limits.max_depth && within,
            "an accepted body is within the limits");
  } else if (why == "Invalid JSON body") {
    require(bool(ec), "a body called invalid is not JSON");
  } else if (why == "Request body must be a JSON object") {
    require(!ec && !dom.is_object(), "a body called no object is other JSON");
  }
}

void check_order_input(std::string_view body, bool require_both) {
  const auto read = orderflow::functions::read_order_input(body, require_both);
  if (!read) {
    require(!read.why().empty(), "bad order input says why");
    return;
  }
  const orderflow::functions::OrderInput& input = *read;
  if (require_both) require(input.description && input.price, "create has both fields");
  require(input.description || input.price, "an update changes something");
  if (input.price)
    require(input.price->cents() > 0 && input.price->cents() <= orderflow::domain::Money::kMaxCents,
            "an accepted price is in range");
  if (input.description) {
    const auto again = orderflow::domain::normalize_description(*input.description);
    require(again && *again == *input.description, "an accepted description is normalised");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  JsonLimits limits;  // the defaults unless the input asks for a route's tighter ones
  if (size >= 2 && data[0] != 0) {
    limits.max_members = data[0] % 64 + 1;
    limits.max_depth = data[1] % 8 + 1;
  }
  const std::string_view body =
      orderflow::fuzz::as_text(data, size).substr(std::min<std::size_t>(size, 2));

  const auto parsed = orderflow::functions::parse_json_object(body, limits);
  const std::string& why = parsed.why();
  const auto problem = orderflow::functions::json_limit_problem(body, limits);
  if (parsed) {
    require(!problem, "a body within the limits has no limit problem");
    require(parsed->members.size() <= limits.max_members, "no more members than the limit");
    std::set<std::string_view> keys;
    for (const auto& m : parsed->members) {
      require(keys.insert(m.key).second, "keys are unique");
      if (m.kind == JsonMember::Kind::boolean)
        require(m.text == "true" || m.text == "false", "a boolean reads true or false");
    }
    const auto again = orderflow::functions::parse_json_object(write_back(*parsed), limits);
    require(again && same_members(*parsed, *again), "members written back parse the same");
  } else {
    require(!why.empty(), "a rejected body says why");
    if (problem) require(why == *problem, "both readers name the same limit");
  }

  compare_with_dom(body, limits, parsed, why);
  check_order_input(body, /*require_both=*/true);
  check_order_input(body, /*require_both=*/false);
  return 0;
}
