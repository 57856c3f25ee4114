// Timestamps: UTC, microsecond precision, written as RFC 3339 with six fraction digits.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace orderflow::domain {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// "2026-11-25T11:47:14.123456Z"
std::string format_rfc3339(Timestamp t);

// The same text without allocating: writes it into `out` and returns a view of it.
struct Rfc3339Buffer {
  char text[40];
};
std::string_view format_rfc3339(Timestamp t, Rfc3339Buffer& out);
// Accepts what format_rfc3339 writes (and "Z"/"+00:00" with 0–9 fraction digits).
std::optional<Timestamp> parse_rfc3339(std::string_view text);

}  // namespace orderflow::domain
