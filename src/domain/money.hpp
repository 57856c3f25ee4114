// Exact decimal money: an amount in hundredths, never a binary float.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

namespace orderflow::domain {

__extension__ using Int128 = __int128;  // GCC's 128-bit integer, for exact sums
__extension__ using UInt128 = unsigned __int128;

class Money {
 public:
  static constexpr std::int64_t kMaxCents = 99'999'999'999;  // 999999999.99

  constexpr Money() = default;
  static constexpr Money from_cents(std::int64_t cents) { return Money(cents); }

  // Parses a plain decimal ("12", "12.5", "12.50", "-3"): optional '-', digits, optional '.'
  // and at most two fraction digits. No exponent, no '+', no spaces, no NaN/Infinity.
  // A failure says why.
  static Result<Money> parse(std::string_view text);

  constexpr std::int64_t cents() const { return cents_; }
  // Canonical text with exactly two fraction digits: "12.50", "-0.05".
  std::string to_string() const;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the defaulted comparison
  friend constexpr auto operator<=>(Money, Money) = default;

 private:
  constexpr explicit Money(std::int64_t cents) : cents_(cents) {}
  std::int64_t cents_ = 0;
};

// A price as the seed accepts it: > 0, at most two fraction digits, at most 999999999.99.
// A failure carries the seed's message when the text is not a valid price.
Result<Money> parse_price(std::string_view number_text);

// Exact sum of many amounts (report totals); wide enough for any realistic archive.
class MoneySum {
 public:
  void add(Money m) { total_ += m.cents(); }
  std::string to_string() const;

 private:
  Int128 total_ = 0;
};

}  // namespace orderflow::domain
