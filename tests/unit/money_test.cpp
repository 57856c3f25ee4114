#include "domain/money.hpp"

#include <gtest/gtest.h>
#include <limits>

namespace orderflow::domain {
namespace {

std::string price_error(std::string_view text) {
  const auto price = parse_price(text);
  EXPECT_FALSE(price.has_value()) << text;
  return price.why();
}

TEST(Money, ParsesPlainDecimalsExactly) {
  EXPECT_EQ(parse_price("12")->cents(), 1200);
  EXPECT_EQ(parse_price("12.5")->cents(), 1250);
  EXPECT_EQ(parse_price("12.50")->cents(), 1250);
  EXPECT_EQ(parse_price("0.1")->cents(), 10);
  EXPECT_EQ(parse_price("0.01")->cents(), 1);
  EXPECT_EQ(parse_price("19.99")->cents(), 1999);
  EXPECT_EQ(parse_price("007.25")->cents(), 725);
  EXPECT_EQ(parse_price("999999999.99")->cents(), Money::kMaxCents);
}

TEST(Money, FormatsWithTwoFractionDigits) {
  EXPECT_EQ(Money::from_cents(1250).to_string(), "12.50");
  EXPECT_EQ(Money::from_cents(10).to_string(), "0.10");
  EXPECT_EQ(Money::from_cents(1).to_string(), "0.01");
  EXPECT_EQ(Money::from_cents(0).to_string(), "0.00");
  EXPECT_EQ(Money::from_cents(-5).to_string(), "-0.05");
  EXPECT_EQ(Money::from_cents(Money::kMaxCents).to_string(), "999999999.99");
}

TEST(Money, RejectsWhatIsNotAPriceWithTheSeedsWords) {
  EXPECT_EQ(price_error("0"), "price must be > 0");
  EXPECT_EQ(price_error("0.00"), "price must be > 0");
  EXPECT_EQ(price_error("-1"), "price must be > 0");
  EXPECT_EQ(price_error("-99999999999999"), "price must be > 0");
  EXPECT_EQ(price_error("12.345"), "price must have at most 2 decimal places");
  EXPECT_EQ(price_error("1000000000"), "price must be at most 999999999.99");
  EXPECT_EQ(price_error("99999999999999999999999"), "price must be at most 999999999.99");
  EXPECT_EQ(price_error("1e2"), "price must be a plain decimal number (no exponent)");
  EXPECT_EQ(price_error("1.5E1"), "price must be a plain decimal number (no exponent)");
  for (const char* text : {"", "abc", "12.", ".5", "1,5", " 1", "1 ", "+1", "NaN", "Infinity",
                           "0x10", "1.2.3", "--1", "-"})
    EXPECT_EQ(price_error(text), "price must be a number") << text;
}

TEST(Money, SumsExactlyBeyondSixtyFourBits) {
  MoneySum sum;
  for (int i = 0; i < 1000; ++i) sum.add(Money::from_cents(Money::kMaxCents));
  EXPECT_EQ(sum.to_string(), "999999999990.00");
  MoneySum small;
  small.add(Money::from_cents(10));
  small.add(Money::from_cents(20));
  EXPECT_EQ(small.to_string(), "0.30");  // 0.1 + 0.2, exactly
}

TEST(Money, WritesSumsPastTheSixtyFourBitRange) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  MoneySum sum;  // 3 x (2^63 - 1) cents: more than 2^64, so the 128-bit digits are written
  for (int i = 0; i < 3; ++i) sum.add(Money::from_cents(kMax));
  EXPECT_EQ(sum.to_string(), "276701161105643274.21");
  MoneySum negative;
  for (int i = 0; i < 3; ++i) negative.add(Money::from_cents(-kMax));
  EXPECT_EQ(negative.to_string(), "-276701161105643274.21");
  MoneySum at_edge;  // exactly 2^64 - 1 cents, the last value of the 64-bit path
  at_edge.add(Money::from_cents(kMax));
  at_edge.add(Money::from_cents(kMax));
  at_edge.add(Money::from_cents(1));
  EXPECT_EQ(at_edge.to_string(), "184467440737095516.15");
}

}  // namespace
}  // namespace orderflow::domain
