// The gateway's defences that need no socket: which framings are refused (RFC 9112 §6), the
// shared body budget and the per-address connection count (their settings: config_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/http_policy.hpp"

namespace orderflow::runtime {
namespace {

std::optional<std::string> framing(std::vector<std::string_view> transfer_encodings,
                                   bool content_length = false, unsigned version = 11) {
  return framing_problem(transfer_encodings, content_length, version);
}

TEST(Framing, ContentLengthOrChunkedAloneIsFine) {
  EXPECT_EQ(framing({}), std::nullopt);
  EXPECT_EQ(framing({}, true), std::nullopt);
  EXPECT_EQ(framing({"chunked"}), std::nullopt);
  EXPECT_EQ(framing({"Chunked"}), std::nullopt);
  EXPECT_EQ(framing({" chunked\t"}), std::nullopt);
  EXPECT_EQ(framing({"chunked, "}), std::nullopt);  // empty list elements do not count
  EXPECT_EQ(framing({}, false, 10), std::nullopt);
}

TEST(Framing, EveryOtherCodingIsRefused) {
  for (std::string_view te :
       {"xchunked", "gzip", "identity", "chunked, gzip", "foo", "gzip, chunked", "chunked, chunked",
        "chunked;q=1", "", " , ", "chunked x"})
    EXPECT_EQ(framing({te}), std::string(kUnsupportedCodingMessage)) << '"' << te << '"';
  // The codings of several fields are one list.
  EXPECT_EQ(framing({"chunked", "gzip"}), std::string(kUnsupportedCodingMessage));
  EXPECT_EQ(framing({"gzip", "chunked"}), std::string(kUnsupportedCodingMessage));
  EXPECT_EQ(framing({"chunked", "chunked"}), std::string(kUnsupportedCodingMessage));
}

TEST(Framing, BothLengthsOrHttp10AreRefused) {
  EXPECT_EQ(framing({"chunked"}, true), std::string(kBothFramingsMessage));
  EXPECT_EQ(framing({"gzip"}, true), std::string(kBothFramingsMessage));
  EXPECT_EQ(framing({"chunked"}, false, 10),
            "Transfer-Encoding is not allowed in an HTTP/1.0 request");
}

TEST(BodyBudget, ReservesUpToItsCapacity) {
  BodyBudget budget(100);
  EXPECT_TRUE(budget.try_reserve(60));
  EXPECT_FALSE(budget.try_reserve(41));
  EXPECT_EQ(budget.in_use(), 60u);
  EXPECT_TRUE(budget.try_reserve(40));
  EXPECT_FALSE(budget.try_reserve(1));
  budget.release(60);
  EXPECT_TRUE(budget.try_reserve(60));
  EXPECT_FALSE(budget.try_reserve(~std::uint64_t{0}));  // no overflow past the capacity
  EXPECT_EQ(budget.in_use(), 100u);
}

TEST(BodyBudget, NeverOversubscribedUnderContention) {
  BodyBudget budget(1000);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (budget.try_reserve(7)) granted.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1000 / 7);
  EXPECT_EQ(budget.in_use(), 7u * (1000 / 7));
}

TEST(ClientConnections, CountsEachAddressOnItsOwn) {
  ClientConnections clients(2);
  const auto a = boost::asio::ip::make_address("10.0.0.1");
  const auto b = boost::asio::ip::make_address("10.0.0.2");
  EXPECT_TRUE(clients.try_add(a));
  EXPECT_TRUE(clients.try_add(a));
  EXPECT_FALSE(clients.try_add(a));
  EXPECT_TRUE(clients.try_add(b));
  // The same IPv4 address seen on a dual-stack socket counts as itself.
  EXPECT_FALSE(clients.try_add(boost::asio::ip::make_address("::ffff:10.0.0.1")));
  clients.remove(a);
  EXPECT_EQ(clients.count(a), 1);
  EXPECT_TRUE(clients.try_add(boost::asio::ip::make_address("::ffff:10.0.0.1")));
  EXPECT_EQ(clients.count(a), 2);
}

TEST(ClientConnections, ZeroMeansNoLimit) {
  ClientConnections clients(0);
  const auto a = boost::asio::ip::make_address("10.0.0.1");
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(clients.try_add(a));
}

// JSON routes take only application/json: the bodies a browser sends across sites without a
// preflight (text/plain, forms, multipart) are refused, and so is a body without a type.
TEST(MediaType, JsonRoutesTakeOnlyJson) {
  EXPECT_EQ(media_type_problem(BodyMedia::json, "application/json"), std::nullopt);
  EXPECT_EQ(media_type_problem(BodyMedia::json, " Application/JSON ; charset=utf-8"), std::nullopt);
  for (std::string_view type : {"text/plain", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x", "application/jsonx", ""}) {
    SCOPED_TRACE(type);
    const auto problem = media_type_problem(BodyMedia::json, type);
    ASSERT_TRUE(problem.has_value());
    EXPECT_THAT(*problem, testing::HasSubstr("expected application/json"));
  }
  EXPECT_THAT(media_type_problem(BodyMedia::json, "text/plain").value_or(""),
              testing::HasSubstr("\"text/plain\""));
  EXPECT_THAT(media_type_problem(BodyMedia::json, "").value_or(""),
              testing::HasSubstr("no Content-Type"));
  EXPECT_EQ(media_type_problem(BodyMedia::json_or_multipart, "multipart/form-data; boundary=b"),
            std::nullopt);
  EXPECT_NE(media_type_problem(BodyMedia::json_or_multipart, "text/plain"), std::nullopt);
  EXPECT_EQ(media_type_problem(BodyMedia::json_or_form, "application/x-www-form-urlencoded"),
            std::nullopt);
  EXPECT_NE(media_type_problem(BodyMedia::json_or_form, "multipart/form-data"), std::nullopt);
  EXPECT_EQ(media_type_problem(BodyMedia::any, "text/plain"), std::nullopt);
}

TEST(ForeignOrigin, OnlyThisServerAndListedOriginsMayWrite) {
  const CorsPolicy none({});
  EXPECT_FALSE(is_foreign_origin("", "127.0.0.1:8080", none)) << "no Origin: not a browser page";
  EXPECT_FALSE(is_foreign_origin("http://127.0.0.1:8080", "127.0.0.1:8080", none));
  EXPECT_FALSE(is_foreign_origin("https://Shop.Example", "shop.example", none));
  EXPECT_TRUE(is_foreign_origin("http://evil.example", "127.0.0.1:8080", none));
  EXPECT_TRUE(is_foreign_origin("http://127.0.0.1:8081", "127.0.0.1:8080", none));
  EXPECT_TRUE(is_foreign_origin("null", "127.0.0.1:8080", none));
  EXPECT_TRUE(is_foreign_origin("http://127.0.0.1:8080", "", none));
  const CorsPolicy listed({"https://app.example"});
  EXPECT_FALSE(is_foreign_origin("https://app.example", "api.example", listed));
  EXPECT_TRUE(is_foreign_origin("https://other.example", "api.example", listed));
}

}  // namespace
}  // namespace orderflow::runtime
