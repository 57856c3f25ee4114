// The embedded OpenAPI document describes every route of the route table.
#include "runtime/openapi.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>

#include "runtime/routes.hpp"

namespace orderflow::runtime {
namespace {

// The document's path for a route pattern: a greedy "{key+}" (the router's) is one "{key}"
// parameter there, which OpenAPI tools understand (its '/' sent as %2F).
std::string document_path(std::string_view pattern) {
  std::string path(pattern);
  if (const auto at = path.find("+}"); at != std::string::npos) path.erase(at, 1);
  return path;
}

boost::json::object document() {
  boost::system::error_code ec;
  auto doc = boost::json::parse(openapi_document(), ec);
  EXPECT_FALSE(ec) << "openapi.json does not parse: " << ec.message();
  return doc.is_object() ? doc.as_object() : boost::json::object{};
}

TEST(OpenApi, IsAnOpenApi31Document) {
  const auto doc = document();
  ASSERT_TRUE(doc.contains("openapi"));
  EXPECT_EQ(doc.at("openapi").as_string().subview().substr(0, 3), "3.1");
  EXPECT_TRUE(doc.contains("info"));
}

TEST(OpenApi, EveryRouteIsDescribed) {
  const auto doc = document();
  ASSERT_TRUE(doc.contains("paths"));
  const auto& paths = doc.at("paths").as_object();
  for (const auto& route : route_table()) {
    std::string method(route.method);
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto* path = paths.if_contains(document_path(route.pattern));
    ASSERT_NE(path, nullptr) << "paths lacks " << route.pattern;
    EXPECT_TRUE(path->as_object().contains(method)) << "paths[" << route.pattern << "] lacks " << method;
  }
}

// Each operation's `security` says what the gateway asks (the route's Access): [] for an open
// route, else the apiKey scheme with the one scope a key needs.
TEST(OpenApi, EveryOperationDeclaresTheScopeItsRouteAsks) {
  const auto doc = document();
  ASSERT_TRUE(doc.at("components").at("securitySchemes").as_object().contains("apiKey"));
  const auto& paths = doc.at("paths").as_object();
  for (const auto& route : route_table()) {
    std::string method(route.method);
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto* path = paths.if_contains(document_path(route.pattern));
    ASSERT_NE(path, nullptr) << route.pattern;
    const auto* op = path->as_object().if_contains(method);
    ASSERT_NE(op, nullptr) << route.method << " " << route.pattern;
    const auto* security = op->as_object().if_contains("security");
    ASSERT_NE(security, nullptr) << route.method << " " << route.pattern << " declares no security";
    const auto& requirements = security->as_array();
    if (route.access == Access::open) {
      EXPECT_TRUE(requirements.empty()) << route.method << " " << route.pattern << " is open";
      continue;
    }
    ASSERT_EQ(requirements.size(), 1u) << route.method << " " << route.pattern;
    const auto& scopes = requirements[0].as_object().at("apiKey").as_array();
    ASSERT_EQ(scopes.size(), 1u) << route.method << " " << route.pattern;
    EXPECT_EQ(scopes[0].as_string(), access_name(route.access)) << route.method << " " << route.pattern;
    const auto& responses = op->as_object().at("responses").as_object();
    EXPECT_TRUE(responses.contains("401")) << route.method << " " << route.pattern;
    EXPECT_TRUE(responses.contains("403")) << route.method << " " << route.pattern;
  }
}

TEST(OpenApi, OrderPriceIsANumberAndErrorsHaveTheEnvelope) {
  const auto doc = document();
  const auto& schemas = doc.at("components").at("schemas").as_object();
  EXPECT_EQ(schemas.at("Order").at("properties").at("price").at("$ref").as_string(), "#/components/schemas/Price");
  EXPECT_EQ(schemas.at("Price").at("type").as_string(), "number");
  const auto& required = schemas.at("Error").at("required").as_array();
  EXPECT_NE(std::find(required.begin(), required.end(), boost::json::value("code")), required.end());
}

// Validators evaluate a float multipleOf in binary and refuse valid prices (19.99): money is
// described by its range and decimal places, and a string form by a pattern.
TEST(OpenApi, MoneyIsDescribedWithoutAFloatMultipleOfAndServersAreDeclared) {
  EXPECT_EQ(openapi_document().find("\"multipleOf\":"), std::string_view::npos);
  const auto doc = document();
  const auto& schemas = doc.at("components").at("schemas").as_object();
  const auto& input = schemas.at("PriceInput").at("oneOf").as_array();
  ASSERT_EQ(input.size(), 2u);
  EXPECT_EQ(input[1].at("type").as_string(), "string");
  EXPECT_FALSE(input[1].at("pattern").as_string().empty());
  EXPECT_EQ(schemas.at("NewOrder").at("properties").at("price").at("$ref").as_string(),
            "#/components/schemas/PriceInput");
  ASSERT_TRUE(doc.contains("servers"));
  EXPECT_FALSE(doc.at("servers").as_array().empty());
}

}  // namespace
}  // namespace orderflow::runtime
