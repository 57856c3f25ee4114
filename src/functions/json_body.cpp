#include "functions/json_body.hpp"

#include <boost/json/basic_parser_impl.hpp>

namespace orderflow::functions {
namespace {

using boost::json::error_code;
using boost::json::string_view;

// Collects the members of a top-level object; nested values only report their kind.
class FlatObjectHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) {
    if (depth_ == 0) top_is_object_ = true;
    value(JsonMember::Kind::object, {});
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    --depth_;
    return true;
  }
  bool on_array_begin(error_code&) {
    value(JsonMember::Kind::array, {});
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    --depth_;
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    if (depth_ == 1) key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    if (depth_ == 1) {
      key_.append(s.data(), s.size());
      pending_key_ = std::move(key_);
      key_.clear();
    }
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    if (depth_ == 1) text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    text_.append(s.data(), s.size());
    value(JsonMember::Kind::string, std::move(text_));
    text_.clear();
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, string_view s, error_code&) { return number(s); }
  bool on_uint64(std::uint64_t, string_view s, error_code&) { return number(s); }
  bool on_double(double, string_view s, error_code&) { return number(s); }
  bool on_bool(bool b, error_code&) {
    value(JsonMember::Kind::boolean, b ? "true" : "false");
    return true;
  }
  bool on_null(error_code&) {
    value(JsonMember::Kind::null, {});
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

  bool top_is_object_ = false;
  std::vector<JsonMember> members_;

 private:
  bool number(string_view s) {
    text_.append(s.data(), s.size());
    value(JsonMember::Kind::number, std::move(text_));
    text_.clear();
    return true;
  }
  // A value begins (or is complete, for scalars) at the current depth.
  void value(JsonMember::Kind kind, std::string text) {
    if (depth_ == 1) members_.push_back(JsonMember{std::move(pending_key_), kind, std::move(text)});
  }

  int depth_ = 0;
  std::string key_;
  std::string pending_key_;
  std::string text_;
};

}  // namespace

const JsonMember* JsonBody::find(std::string_view key) const {
  for (const auto& m : members)
    if (m.key == key) return &m;
  return nullptr;
}

std::optional<JsonBody> parse_json_object(std::string_view body, std::string* why) {
  boost::json::parse_options options;  // strict JSON: no comments, no NaN, valid UTF-8 only
  boost::json::basic_parser<FlatObjectHandler> parser(options);
  error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (ec || used != body.size() || !parser.done()) {
    *why = "Invalid JSON body";
    return std::nullopt;
  }
  FlatObjectHandler& h = parser.handler();
  if (!h.top_is_object_) {
    *why = "Request body must be a JSON object";
    return std::nullopt;
  }
  JsonBody out{std::move(h.members_)};
  for (std::size_t i = 0; i < out.members.size(); ++i)
    for (std::size_t j = i + 1; j < out.members.size(); ++j)
      if (out.members[i].key == out.members[j].key) {
        *why = "duplicate field: " + out.members[i].key;
        return std::nullopt;
      }
  return out;
}

}  // namespace orderflow::functions
