#include "functions/order_input.hpp"

#include <gtest/gtest.h>

#include "functions/json_body.hpp"

namespace orderflow::functions {
namespace {

std::string create_error(std::string_view body) {
  OrderInput in;
  auto bad = read_order_input(body, true, in);
  EXPECT_TRUE(bad.has_value()) << body;
  if (!bad) return {};
  EXPECT_EQ(bad->status, 400);
  const auto start = bad->body.find("\"message\":\"") + 11;
  return bad->body.substr(start, bad->body.find("\",\"code\"") - start);
}

TEST(JsonBody, KeepsNumberTextExactly) {
  std::string why;
  auto body = parse_json_object(R"({"price": 0.1, "n": 12345678901234567890, "s": "x\u00e9"})", &why);
  ASSERT_TRUE(body.has_value()) << why;
  EXPECT_EQ(body->find("price")->text, "0.1");
  EXPECT_EQ(body->find("n")->text, "12345678901234567890");
  EXPECT_EQ(body->find("s")->text, "x\xC3\xA9");
}

TEST(JsonBody, NestedValuesReportOnlyTheirKind) {
  std::string why;
  auto body = parse_json_object(R"({"a": {"price": 1, "b": [1, {"c": 2}]}, "d": [], "e": null})", &why);
  ASSERT_TRUE(body.has_value()) << why;
  ASSERT_EQ(body->members.size(), 3u);
  EXPECT_EQ(body->find("a")->kind, JsonMember::Kind::object);
  EXPECT_EQ(body->find("d")->kind, JsonMember::Kind::array);
  EXPECT_EQ(body->find("e")->kind, JsonMember::Kind::null);
  EXPECT_EQ(body->find("price"), nullptr);
}

TEST(OrderInput, AcceptsNumbersAndDecimalStrings) {
  OrderInput in;
  EXPECT_FALSE(read_order_input(R"({"description":" Pizza ","price":0.1})", true, in));
  EXPECT_EQ(*in.description, "Pizza");
  EXPECT_EQ(in.price->cents(), 10);
  OrderInput s;
  EXPECT_FALSE(read_order_input(R"({"description":"x","price":"19.99"})", true, s));
  EXPECT_EQ(s.price->cents(), 1999);
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
  OrderInput in;
  auto bad = read_order_input("{}", false, in);
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->body.find("Nothing to update. Send price and/or description."), std::string::npos);
  OrderInput only_price;
  EXPECT_FALSE(read_order_input(R"({"price":"5"})", false, only_price));
  EXPECT_FALSE(only_price.description.has_value());
  EXPECT_EQ(only_price.price->cents(), 500);
}

TEST(OrderInput, NullOnUpdateIsAnErrorNotAnOmission) {
  OrderInput in;
  auto bad = read_order_input(R"({"description":null,"price":5})", false, in);
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->body.find("description is required"), std::string::npos);
  OrderInput in2;
  bad = read_order_input(R"({"description":"fine","price":null})", false, in2);
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->body.find("price is required"), std::string::npos);
}

}  // namespace
}  // namespace orderflow::functions
