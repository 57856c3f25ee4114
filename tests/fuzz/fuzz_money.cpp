// Money::parse and parse_price on any text. Properties: a parsed amount formats to the canonical
// decimal of the input (worked out here digit by digit, not by Money), and that text parses back
// to the same amount; a price is > 0 and at most 999999999.99; MoneySum of one amount formats
// as the amount does.
#include <string>

#include "domain/money.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using orderflow::domain::Money;
using orderflow::domain::MoneySum;
using orderflow::fuzz::require;

// "-007.5" -> "-7.50", "0" -> "0.00", "-0" -> "0.00": the text a valid input must format to.
std::string canonical(std::string_view text) {
  const bool negative = text.starts_with('-');
  if (negative) text.remove_prefix(1);
  const auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string fraction(dot == std::string_view::npos ? "" : text.substr(dot + 1));
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  fraction.resize(2, '0');
  const bool zero = whole == "0" && fraction == "00";
  return (negative && !zero ? "-" : "") + std::string(whole) + "." + fraction;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = orderflow::fuzz::as_text(data, size);

  const auto money = Money::parse(text);
  const std::string& why = money.why();
  if (money) {
    const std::string shown = money->to_string();
    require(shown == canonical(text), "Money::to_string is the canonical decimal of the input");
    const auto again = Money::parse(shown);
    require(again && *again == *money, "Money::to_string parses back to the same amount");
    require(money->cents() <= 99'999'999'999 && money->cents() >= -99'999'999'999,
            "Money::parse keeps at most 9 whole digits");
    MoneySum sum;
    sum.add(*money);
    require(sum.to_string() == shown, "MoneySum of one amount formats as the amount");
  } else {
    require(!why.empty(), "a rejected amount says why");
  }

  const auto price = orderflow::domain::parse_price(text);
  const std::string& price_why = price.why();
  if (price) {
    require(price->cents() > 0 && price->cents() <= Money::kMaxCents, "a price is in range");
    require(money && *money == *price, "a price is the amount Money::parse reads");
  } else {
    require(!price_why.empty(), "a rejected price says why");
  }
  return 0;
}
