#include "functions/order_input.hpp"

#include <gtest/gtest.h>

#include "functions/json_body.hpp"

namespace orderflow::functions {
namespace {

std::string create_error(std::string_view body) {
  const auto input = read_order_input(body, true);
  EXPECT_FALSE(input.has_value()) << body;
  return input.why();
}

TEST(JsonBody, KeepsNumberTextExactly) {
  auto body = parse_json_object(R"({"price": 0.1, "n": 12345678901234567890, "s": "x\u00e9"})");
  ASSERT_TRUE(body.has_value()) << body.why();
  EXPECT_EQ(body->find("price")->text, "0.1");
  EXPECT_EQ(body->find("n")->text, "12345678901234567890");
  EXPECT_EQ(body->find("s")->text, "x\xC3\xA9");
}

TEST(JsonBody, NestedValuesReportOnlyTheirKind) {
  auto body = parse_json_object(R"({"a": {"price": 1, "b": [1, {"c": 2}]}, "d": [], "e": null})");
  ASSERT_TRUE(body.has_value()) << body.why();
  ASSERT_EQ(body->members.size(), 3u);
  EXPECT_EQ(body->find("a")->kind, JsonMember::Kind::object);
  EXPECT_EQ(body->find("d")->kind, JsonMember::Kind::array);
  EXPECT_EQ(body->find("e")->kind, JsonMember::Kind::null);
  EXPECT_EQ(body->find("price"), nullptr);
}

TEST(OrderInput, AcceptsNumbersAndDecimalStrings) {
  const auto in = read_order_input(R"({"description":" Pizza ","price":0.1})", true);
  ASSERT_TRUE(in.has_value()) << in.why();
  EXPECT_EQ(*in->description, "Pizza");
  EXPECT_EQ(in->price->cents(), 10);
  const auto s = read_order_input(R"({"description":"x","price":"19.99"})", true);
  ASSERT_TRUE(s.has_value()) << s.why();
  EXPECT_EQ(s->price->cents(), 1999);
}

TEST(OrderInput, SaysWhatIsWrong) {
  EXPECT_EQ(create_error(""), "Invalid JSON body");
  EXPECT_EQ(create_error("{"), "Invalid JSON body");
  EXPECT_EQ(create_error(R"({"description":"x","price":1} trailing)"), "Invalid JSON body");
  EXPECT_EQ(create_error(R"({"description":"x","price":NaN})"), "Invalid JSON body");
  EXPECT_EQ(create_error("{\"description\":\"\xFF\",\"price\":1}"), "Invalid JSON body");
  EXPECT_EQ(create_error("[1,2]"), "Request body must be a JSON object");
  EXPECT_EQ(create_error("null"), "Request body must be a JSON object");
  EXPECT_EQ(create_error("\"text\""), "Request body must be a JSON object");
  EXPECT_EQ(create_error(R"({"price":1})"), "description is required");
  EXPECT_EQ(create_error(R"({"description":null,"price":1})"), "description is required");
  EXPECT_EQ(create_error(R"({"description":"   ","price":1})"), "description is required");
  EXPECT_EQ(create_error(R"({"description":5,"price":1})"), "description must be a string");
  EXPECT_EQ(create_error(R"({"description":["a"],"price":1})"), "description must be a string");
  EXPECT_EQ(create_error(R"({"description":"x"})"), "price is required");
  EXPECT_EQ(create_error(R"({"description":"x","price":null})"), "price is required");
  EXPECT_EQ(create_error(R"({"description":"x","price":true})"), "price must be a number");
  EXPECT_EQ(create_error(R"({"description":"x","price":{}})"), "price must be a number");
  EXPECT_EQ(create_error(R"({"description":"x","price":"ten"})"), "price must be a number");
  EXPECT_EQ(create_error(R"({"description":"x","price":0})"), "price must be > 0");
  EXPECT_EQ(create_error(R"({"description":"x","price":-3.5})"), "price must be > 0");
  EXPECT_EQ(create_error(R"({"description":"x","price":12.345})"), "price must have at most 2 decimal places");
  EXPECT_EQ(create_error(R"({"description":"x","price":1e3})"), "price must be a plain decimal number (no exponent)");
  EXPECT_EQ(create_error(R"({"description":"x","price":1000000000})"), "price must be at most 999999999.99");
  EXPECT_EQ(create_error(R"({"description":"x","price":1,"extra":1})"), "unknown field: extra");
  EXPECT_EQ(create_error(R"({"description":"x","price":1,"price":2})"), "duplicate field: price");
}

TEST(OrderInput, UpdateNeedsSomethingToUpdate) {
  EXPECT_EQ(read_order_input("{}", false).why(),
            "Nothing to update. Send price and/or description.");
  const auto only_price = read_order_input(R"({"price":"5"})", false);
  ASSERT_TRUE(only_price.has_value()) << only_price.why();
  EXPECT_FALSE(only_price->description.has_value());
  EXPECT_EQ(only_price->price->cents(), 500);
}

TEST(OrderInput, NullOnUpdateIsAnErrorNotAnOmission) {
  EXPECT_EQ(read_order_input(R"({"description":null,"price":5})", false).why(),
            "description is required");
  EXPECT_EQ(read_order_input(R"({"description":"fine","price":null})", false).why(),
            "price is required");
}

}  // namespace
}  // namespace orderflow::functions
