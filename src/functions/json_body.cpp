#include "functions/json_body.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <unordered_set>

namespace orderflow::functions {
namespace {

using boost::json::error_code;
using boost::json::string_view;

// Counts the values of every open object and array and the nesting while the parser runs,
// and stops it at the first value past the limits. When collecting, keeps the members of a
// top-level object; nested values only report their kind.
class FlatObjectHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  FlatObjectHandler(const JsonLimits& limits, bool collect) : limits_(limits), collect_(collect) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code& ec) {
    if (open_.empty()) top_is_object_ = true;
    return value(JsonMember::Kind::object, {}, ec) && enter(/*object=*/true, ec);
  }
  bool on_object_end(std::size_t, error_code&) { return leave(); }
  bool on_array_begin(error_code& ec) {
    return value(JsonMember::Kind::array, {}, ec) && enter(/*object=*/false, ec);
  }
  bool on_array_end(std::size_t, error_code&) { return leave(); }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    if (collecting()) key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    if (collecting()) {
      key_.append(s.data(), s.size());
      pending_key_ = std::move(key_);
      key_.clear();
    }
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) { return part(s); }
  bool on_string(string_view s, std::size_t, error_code& ec) {
    return part(s) && scalar(JsonMember::Kind::string, ec);
  }
  bool on_number_part(string_view s, error_code&) { return part(s); }
  bool on_int64(std::int64_t, string_view s, error_code& ec) { return number(s, ec); }
  bool on_uint64(std::uint64_t, string_view s, error_code& ec) { return number(s, ec); }
  bool on_double(double, string_view s, error_code& ec) { return number(s, ec); }
  bool on_bool(bool b, error_code& ec) {
    return value(JsonMember::Kind::boolean, b ? "true" : "false", ec);
  }
  bool on_null(error_code& ec) { return value(JsonMember::Kind::null, {}, ec); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

  bool top_is_object_ = false;
  std::vector<JsonMember> members_;
  std::string problem_;  // what is wrong, when a limit stopped the parser

 private:
  struct Open {
    bool object;
    std::size_t values = 0;
  };

  // The members of the top-level object are kept; everything deeper only counts.
  bool collecting() const { return collect_ && open_.size() == 1; }
  bool part(string_view s) {
    if (collecting()) text_.append(s.data(), s.size());
    return true;
  }
  bool number(string_view s, error_code& ec) {
    return part(s) && scalar(JsonMember::Kind::number, ec);
  }
  bool scalar(JsonMember::Kind kind, error_code& ec) {
    const bool ok = value(kind, std::move(text_), ec);
    text_.clear();
    return ok;
  }
  // A value begins (or is complete, for scalars) inside the innermost open container.
  bool value(JsonMember::Kind kind, std::string text, error_code& ec) {
    if (open_.empty()) return true;
    Open& in = open_.back();
    if (++in.values > limits_.max_members) {
      problem_ = in.object
                     ? fmt::format("JSON object has more than {} fields", limits_.max_members)
                     : fmt::format("JSON array has more than {} elements", limits_.max_members);
      ec = in.object ? boost::json::error::object_too_large : boost::json::error::array_too_large;
      return false;
    }
    if (collecting())
      members_.push_back(JsonMember{std::move(pending_key_), kind, std::move(text)});
    return true;
  }
  bool enter(bool object, error_code& ec) {
    if (open_.size() >= limits_.max_depth) {
      problem_ = fmt::format("JSON nesting is deeper than {} levels", limits_.max_depth);
      ec = boost::json::error::too_deep;
      return false;
    }
    open_.push_back(Open{object});
    return true;
  }
  bool leave() {
    open_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  const bool collect_;
  std::vector<Open> open_;  // the objects and arrays being read, outermost first
  std::string key_;
  std::string pending_key_;
  std::string text_;
};

struct Parsed {
  bool complete = false;  // the whole body is one JSON value
  std::string problem;    // a limit stopped the parser
};

Parsed run(boost::json::basic_parser<FlatObjectHandler>& parser, std::string_view body) {
  error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  Parsed out;
  out.problem = std::move(parser.handler().problem_);
  out.complete = !ec && used == body.size() && parser.done();
  return out;
}

boost::json::parse_options options_for(const JsonLimits& limits) {
  boost::json::parse_options options;  // strict JSON: no comments, no NaN, valid UTF-8 only
  // The parser's own depth limit stays out of the way of ours, which says what is wrong.
  options.max_depth = std::max<std::size_t>(limits.max_depth + 1, options.max_depth);
  return options;
}

}  // namespace

const JsonMember* JsonBody::find(std::string_view key) const {
  for (const auto& m : members)
    if (m.key == key) return &m;
  return nullptr;
}

domain::Result<JsonBody> parse_json_object(std::string_view body, const JsonLimits& limits) {
  using domain::fail;
  boost::json::basic_parser<FlatObjectHandler> parser(options_for(limits), limits,
                                                      /*collect=*/true);
  Parsed parsed = run(parser, body);
  if (!parsed.problem.empty()) {
    return fail(std::move(parsed.problem));
  }
  if (!parsed.complete) {
    return fail("Invalid JSON body");
  }
  FlatObjectHandler& h = parser.handler();
  if (!h.top_is_object_) {
    return fail("Request body must be a JSON object");
  }
  JsonBody out{std::move(h.members_)};
  // One pass with a set: the members are bounded by the limits, but never compared pairwise.
  std::unordered_set<std::string_view> seen;
  seen.reserve(out.members.size());
  for (const auto& m : out.members)
    if (!seen.insert(m.key).second) {
      return fail("duplicate field: " + m.key);
    }
  return out;
}

std::optional<std::string> json_limit_problem(std::string_view body, const JsonLimits& limits) {
  boost::json::basic_parser<FlatObjectHandler> parser(options_for(limits), limits,
                                                      /*collect=*/false);
  Parsed parsed = run(parser, body);
  if (parsed.problem.empty()) return std::nullopt;
  return std::move(parsed.problem);
}

}  // namespace orderflow::functions
