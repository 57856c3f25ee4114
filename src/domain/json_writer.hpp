// A small streaming JSON writer. It exists because money must be written from its decimal
// text, never through a double, which general JSON libraries cannot do.
// Strings must be valid UTF-8 (every string we write was validated on the way in).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orderflow::domain {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view v);
  JsonWriter& number(std::int64_t v);
  JsonWriter& number(double v);
  // A number already written as valid JSON number text (e.g. Money::to_string()).
  JsonWriter& raw_number(std::string_view text);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  // A value that is already valid JSON text (an object, array, ...).
  JsonWriter& raw(std::string_view json);

  // Shorthands for "key": value.
  JsonWriter& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  JsonWriter& field(std::string_view k, const char* v) { return key(k).string(v); }
  JsonWriter& field(std::string_view k, std::int64_t v) { return key(k).number(v); }
  JsonWriter& field(std::string_view k, int v) { return key(k).number(std::int64_t{v}); }
  JsonWriter& field(std::string_view k, bool v) { return key(k).boolean(v); }

  // Room for `bytes` of output, so a large document grows its buffer once, not by doubling.
  JsonWriter& reserve(std::size_t bytes) {
    out_.reserve(bytes);
    return *this;
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

// Appends `v` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view v);

}  // namespace orderflow::domain
