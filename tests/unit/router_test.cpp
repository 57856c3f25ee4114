// Route matching against the real route table: parameters, 404 versus 405, and the table's shape.
#include "runtime/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "runtime/routes.hpp"

namespace orderflow::runtime {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  Router router{route_table()};
  PathParams params;
};

TEST_F(RouterTest, MatchesLiteralRoutes) {
  auto m = router.match_path("POST", "/orders", params);
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  EXPECT_EQ(m.route->function, "create_order");
  EXPECT_EQ(m.route->execution, Execution::worker);
  EXPECT_TRUE(params.empty());

  m = router.match_path("GET", "/orders", params);
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  EXPECT_EQ(m.route->function, "get_orders");
  EXPECT_EQ(m.route->execution, Execution::store_read);

  m = router.match_path("GET", "/healthz", params);
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  EXPECT_EQ(router.pattern(m.pattern), "/healthz");
}

TEST_F(RouterTest, CapturesPathParameters) {
  auto m = router.match_path("GET", "/orders/0191d6c2-aaaa-7bbb-8ccc-123456789abc", params);
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  EXPECT_EQ(m.route->function, "get_order_by_id");
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "orderId");
  EXPECT_EQ(params[0].second, "0191d6c2-aaaa-7bbb-8ccc-123456789abc");

  for (const char* method : {"PUT", "PATCH"}) {
    m = router.match_path(method, "/orders/x", params);
    ASSERT_EQ(m.outcome, Router::Outcome::found) << method;
    EXPECT_EQ(m.route->function, "update_order");
    EXPECT_EQ(m.route->execution, Execution::worker);
  }
  m = router.match_path("DELETE", "/orders/x", params);
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  EXPECT_EQ(m.route->function, "delete_order");
}

TEST_F(RouterTest, DecodedSegmentsMayContainSlashes) {
  const std::string_view segments[] = {"orders", "a/b"};
  auto m = router.match("GET", segments, params);
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  EXPECT_EQ(params.at(0).second, "a/b");
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  auto m = router.match_path("DELETE", "/orders", params);
  ASSERT_EQ(m.outcome, Router::Outcome::method_not_allowed);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(router.allow(m.pattern), "POST, GET, HEAD, OPTIONS");

  m = router.match_path("POST", "/orders/abc", params);
  ASSERT_EQ(m.outcome, Router::Outcome::method_not_allowed);
  EXPECT_EQ(router.allow(m.pattern), "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");

  m = router.match_path("HEAD", "/healthz", params);
  EXPECT_EQ(m.outcome, Router::Outcome::method_not_allowed);
  m = router.match_path("get", "/healthz", params);  // methods are case-sensitive
  EXPECT_EQ(m.outcome, Router::Outcome::method_not_allowed);
}

TEST_F(RouterTest, UnknownPathsAre404) {
  for (const char* path : {"/nope", "/orders/", "/orders/a/b", "/orders//", "//orders", "/Orders",
                           "/healthz/", "/orders/x/extra"}) {
    auto m = router.match_path("GET", path, params);
    EXPECT_EQ(m.outcome, Router::Outcome::not_found) << path;
    EXPECT_EQ(m.pattern, Router::kNoPattern) << path;
  }
}

TEST_F(RouterTest, EveryRouteOfTheTableMatchesItself) {
  for (const auto& route : route_table()) {
    std::string path(route.pattern);
    for (auto open = path.find('{'); open != std::string::npos; open = path.find('{'))
      path.replace(open, path.find('}', open) - open + 1, "value");
    auto m = router.match_path(route.method, path, params);
    ASSERT_EQ(m.outcome, Router::Outcome::found) << route.method << " " << route.pattern;
    EXPECT_EQ(m.route, &route);
  }
}

TEST(RouteTable, WritesRunOnTheWorkerPool) {
  for (const auto& route : route_table()) {
    if (route.method != "GET") {
      EXPECT_EQ(route.execution, Execution::worker) << route.method << " " << route.pattern;
    }
    EXPECT_NE(route.handler, nullptr);
    EXPECT_FALSE(route.function.empty());
  }
}

functions::Response no_op(Services&, const functions::Request&) { return {}; }

TEST(RouterConstruction, RejectsDuplicateRoutes) {
  static const Route duplicated[] = {
      {"GET", "/a/{id}", "first", Execution::io_thread, Access::open, no_op},
      {"GET", "/a/{id}", "second", Execution::io_thread, Access::open, no_op},
  };
  EXPECT_THROW(Router{duplicated}, std::logic_error);
}

TEST(RouterConstruction, FirstMatchingPatternWins) {
  static const Route routes[] = {
      {"GET", "/items/special", "special", Execution::io_thread, Access::open, no_op},
      {"GET", "/items/{id}", "by_id", Execution::io_thread, Access::open, no_op},
  };
  Router router{routes};
  PathParams params;
  EXPECT_EQ(router.match_path("GET", "/items/special", params).route->function, "special");
  EXPECT_EQ(router.match_path("GET", "/items/other", params).route->function, "by_id");
  EXPECT_EQ(router.pattern_count(), 2u);
}

}  // namespace
}  // namespace orderflow::runtime
