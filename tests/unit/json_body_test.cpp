// The JSON body reader: members and exact number text, the linear duplicate-key check, and the
// member and depth limits that stop the parser early, with the messages clients see.
#include "functions/json_body.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace orderflow::functions {
namespace {

// {"k0":0,"k1":0,...}: `n` distinct keys.
std::string many_keys(std::size_t n) {
  std::string body = "{";
  for (std::size_t i = 0; i < n; ++i) body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  return body + "}";
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string why_of(std::string_view body, const JsonLimits& limits = {}) {
  const auto parsed = parse_json_object(body, limits);
  EXPECT_FALSE(parsed.has_value()) << body.substr(0, 200);
  return parsed.why();
}

TEST(JsonBodyRead, KeepsMembersInOrderWithTheirKinds) {
  const auto body =
      parse_json_object(R"({"s":"x","n":-0.50,"t":true,"z":null,"o":{},"a":[]})");
  ASSERT_TRUE(body.has_value()) << body.why();
  ASSERT_EQ(body->members.size(), 6u);
  EXPECT_EQ(body->members[0].key, "s");
  EXPECT_EQ(body->members[1].text, "-0.50");
  EXPECT_EQ(body->members[2].kind, JsonMember::Kind::boolean);
  EXPECT_EQ(body->members[3].kind, JsonMember::Kind::null);
  EXPECT_EQ(body->members[4].kind, JsonMember::Kind::object);
  EXPECT_EQ(body->members[5].kind, JsonMember::Kind::array);
}

TEST(JsonBodyRead, NestedStringsAndKeysAreNotKept) {
  const auto body = parse_json_object(R"({"a":{"x":"deep","y":12.5},"b":"top"})");
  ASSERT_TRUE(body.has_value()) << body.why();
  ASSERT_EQ(body->members.size(), 2u);
  EXPECT_EQ(body->find("a")->text, "");
  EXPECT_EQ(body->find("b")->text, "top");
  EXPECT_EQ(body->find("x"), nullptr);
}

TEST(JsonBodyRead, ErrorsKeepTheirMessages) {
  EXPECT_EQ(why_of(""), "Invalid JSON body");
  EXPECT_EQ(why_of(R"({"a":1} x)"), "Invalid JSON body");
  EXPECT_EQ(why_of("[1,2]"), "Request body must be a JSON object");
  EXPECT_EQ(why_of(R"({"a":1,"b":2,"a":3})"), "duplicate field: a");
  // Keys are compared after unescaping.
  EXPECT_EQ(why_of(R"({"price":1,"pr\u0069ce":2})"), "duplicate field: price");
}

TEST(JsonBodyDuplicates, AreFoundInLinearTimeAmongManyKeys) {
  const JsonLimits roomy{200'000, 4};
  const std::string distinct = many_keys(100'000);
  const auto start = std::chrono::steady_clock::now();
  const auto body = parse_json_object(distinct, roomy);
  ASSERT_TRUE(body.has_value()) << body.why();
  EXPECT_EQ(body->members.size(), 100'000u);
  // A duplicate at the very end, after 100,000 keys.
  std::string repeated = distinct;
  repeated.back() = ',';
  repeated += R"("k5":1})";
  EXPECT_EQ(why_of(repeated, roomy), "duplicate field: k5");
  // Generous: the pairwise check took about 10 s for these two; a linear one takes milliseconds.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(JsonBodyLimits, MembersPerObjectAndElementsPerArray) {
  const JsonLimits two{2, 4};
  EXPECT_EQ(parse_json_object(R"({"a":1,"b":2})", two).why(), "");
  EXPECT_EQ(why_of(R"({"a":1,"b":2,"c":3})", two), "JSON object has more than 2 fields");
  EXPECT_EQ(why_of(R"({"a":[1,2,3]})", two), "JSON array has more than 2 elements");
  EXPECT_EQ(why_of(R"({"a":{"x":1,"y":2,"z":3}})", two), "JSON object has more than 2 fields");
  // Each container counts its own members.
  EXPECT_EQ(parse_json_object(R"({"a":{"x":1,"y":2},"b":[1,2]})", two).why(), "");
}

TEST(JsonBodyLimits, Depth) {
  const JsonLimits shallow{16, 3};
  EXPECT_EQ(parse_json_object(R"({"a":[[1]]})", shallow).why(), "");  // 3 levels
  EXPECT_EQ(why_of(R"({"a":[[[1]]]})", shallow), "JSON nesting is deeper than 3 levels");
  EXPECT_EQ(why_of(R"({"a":{"b":{"c":{}}}})", shallow), "JSON nesting is deeper than 3 levels");
  // Far deeper than Boost.JSON's own limit: still our message, not a parser error.
  EXPECT_EQ(why_of(nested_arrays(100'000)), "JSON nesting is deeper than 32 levels");
}

TEST(JsonBodyLimits, DefaultsAllowOrdinaryDocuments) {
  EXPECT_EQ(parse_json_object(many_keys(1000)).why(), "");
  EXPECT_EQ(why_of(many_keys(1001)), "JSON object has more than 1000 fields");
  EXPECT_EQ(parse_json_object(R"({"a":)" + nested_arrays(31) + "}").why(), "");
}

TEST(JsonBodyLimits, ALimitStopsTheParserEarly) {
  // 100,000 keys against a cap of 16: the answer comes after the 17th key, whatever follows,
  // so a thousand of them cost less than one did with the pairwise check (~10 s).
  const std::string body = many_keys(100'000);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(why_of(body, {16, 4}), "JSON object has more than 16 fields");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(JsonLimitProblem, ReportsOnlyLimits) {
  const JsonLimits limits{16, 4};
  EXPECT_EQ(json_limit_problem(R"({"description":"a","price":1})", limits), std::nullopt);
  // Not JSON, or JSON of the wrong shape, is the function's to report.
  EXPECT_EQ(json_limit_problem("not json", limits), std::nullopt);
  EXPECT_EQ(json_limit_problem(R"({"a":1,"a":2})", limits), std::nullopt);
  EXPECT_EQ(json_limit_problem("[1,2,3]", limits), std::nullopt);
  EXPECT_EQ(json_limit_problem(many_keys(100'000), limits), "JSON object has more than 16 fields");
  EXPECT_EQ(json_limit_problem(nested_arrays(5), limits), "JSON nesting is deeper than 4 levels");
  EXPECT_EQ(json_limit_problem("[1,,2,3,4]", {2, 4}),
            std::nullopt);  // broken before any limit is passed
  // A limit passed before the syntax breaks is still a limit.
  EXPECT_EQ(json_limit_problem(R"({"a":1,"b":2,"c":3,)", {2, 4}),
            "JSON object has more than 2 fields");
}

}  // namespace
}  // namespace orderflow::functions
