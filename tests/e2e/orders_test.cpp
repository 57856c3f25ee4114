// The order routes against the HTTP contract: every success and error case, through the real
// binary. Tests that need a known store (listing, paging) get a server of their own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

using testing::StartsWith;

constexpr const char* kUnknownId = "0190c1a2-0000-7000-8000-000000000000";
constexpr const char* kNothingToUpdate = "Nothing to update. Send price and/or description.";
constexpr const char* kBadKey = "Idempotency-Key must be 1-255 visible ASCII characters";
constexpr const char* kBadLimit = "limit must be an integer between 1 and 1000";

boost::json::object order_of(const Response& r) { return r.json().at("order").as_object(); }

std::string field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("<absent>");
}

std::string etag(const Response& r) { return r.header("ETag").value_or("<absent>"); }

// ---------------------------------------------------------------------------------------------
class OrdersApi : public SharedServerTest<OrdersApi> {
 protected:
  // GETs an order and returns the response; a failure when it is not there.
  Response fetch(const std::string& id) {
    Response r = client().get("/orders/" + id);
    EXPECT_TRUE(HasStatus(r, 200));
    return r;
  }
};

// --- POST /orders ------------------------------------------------------------------------------

TEST_F(OrdersApi, CreateAnswers201WithIdLocationAndEtag) {
  const Response r = client().post("/orders", order_body("Coffee beans", "12.50"));
  ASSERT_TRUE(HasStatus(r, 201));
  const auto v = r.json();
  EXPECT_EQ(string_field(v, "status"), "success");
  EXPECT_EQ(string_field(v, "message"), "Order created successfully");
  const std::string id = string_field(v, "orderId");
  EXPECT_TRUE(is_lower_uuid(id)) << id;
  EXPECT_EQ(r.header("Location").value_or("<absent>"), "/orders/" + id);
  EXPECT_EQ(etag(r), "\"1\"");
  EXPECT_THAT(r.header("Content-Type").value_or(""), StartsWith("application/json"));
}

TEST_F(OrdersApi, CreatedOrderReadsBackWithAllFields) {
  const std::string id = create_order(client(), "Coffee beans", "12.5");
  ASSERT_FALSE(id.empty());
  const Response r = fetch(id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(string_field(r.json(), "status"), "success");
  const auto o = order_of(r);
  EXPECT_EQ(field(o, "orderId"), id);
  EXPECT_EQ(field(o, "description"), "Coffee beans");
  EXPECT_TRUE(HasRawPrice(r, "12.50"));
  EXPECT_TRUE(is_rfc3339_micro_utc(field(o, "creationDate"))) << field(o, "creationDate");
  EXPECT_TRUE(is_rfc3339_micro_utc(field(o, "lastModifiedDate"))) << field(o, "lastModifiedDate");
  EXPECT_EQ(etag(r), "\"1\"");
  EXPECT_THAT(r.header("Content-Type").value_or(""), StartsWith("application/json"));
}

TEST_F(OrdersApi, PricesAreExactDecimalsWithTwoFractionDigits) {
  struct Case {
    const char* sent;
    const char* stored;
  };
  const Case cases[] = {
      {"12.5", "12.50"},
      {"10", "10.00"},
      {"0.1", "0.10"},
      {"19.99", "19.99"},
      {"0.01", "0.01"},
      {"1.10", "1.10"},
      {"100.0", "100.00"},
      {"999999999.99", "999999999.99"},
      {"999999999", "999999999.00"},
      {"\"12.50\"", "12.50"},
      {"\"7\"", "7.00"},
      {"\"0.1\"", "0.10"},
      {"\"999999999.99\"", "999999999.99"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("price sent as ") + c.sent);
    const std::string id = create_order(client(), "price check", c.sent);
    ASSERT_FALSE(id.empty());
    EXPECT_TRUE(HasRawPrice(fetch(id), c.stored));
  }
}

TEST_F(OrdersApi, PriceAboveTheMaximumIsRejected) {
  const std::size_t before = count_orders(client());
  EXPECT_TRUE(IsError(client().post("/orders", order_body("too much", "1000000000")), 400,
                      "validation", "price must be at most 999999999.99"));
  EXPECT_TRUE(IsError(client().post("/orders", order_body("too much", "\"1000000000.00\"")), 400,
                      "validation", "price must be at most 999999999.99"));
  EXPECT_EQ(count_orders(client()), before);
}

TEST_F(OrdersApi, DescriptionIsTrimmed) {
  const std::string id = create_order(client(), "  \t Fresh bread \r\n ", "3.20");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(field(order_of(fetch(id)), "description"), "Fresh bread");
}

TEST_F(OrdersApi, InnerWhitespaceTabAndNewlinesAreKept) {
  const std::string text = "line one\r\nline  two\tand\nthree";
  const std::string id = create_order(client(), text, "1");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(field(order_of(fetch(id)), "description"), text);
}

TEST_F(OrdersApi, DescriptionOf1000EmojiIsAcceptedAnd1001Rejected) {
  const std::string thousand = repeat("\xF0\x9F\x98\x80", 1000);  // U+1F600, 4 bytes each
  const std::string id = create_order(client(), thousand, "1.00");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(field(order_of(fetch(id)), "description"), thousand);

  const std::size_t before = count_orders(client());
  EXPECT_TRUE(IsError(client().post("/orders", order_body(thousand + "\xF0\x9F\x98\x80", "1")), 400,
                      "validation", "description must be at most 1000 characters"));
  EXPECT_EQ(count_orders(client()), before);
}

TEST_F(OrdersApi, DescriptionLengthCountsCodePointsAfterTrimming) {
  const std::string ascii = repeat("a", 1000);
  const std::string id = create_order(client(), "   " + ascii + "\n\t ", "1");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(field(order_of(fetch(id)), "description"), ascii);

  // "e" + U+0301 COMBINING ACUTE ACCENT is two code points.
  const std::string combining = repeat("e\xCC\x81", 500);
  EXPECT_FALSE(create_order(client(), combining, "1").empty());
  EXPECT_TRUE(IsError(client().post("/orders", order_body(combining + "e\xCC\x81", "1")), 400,
                      "validation", "description must be at most 1000 characters"));

  // Two-byte characters: 1000 is fine.
  EXPECT_FALSE(create_order(client(), repeat("\xC3\xA9", 1000), "1").empty());
  EXPECT_TRUE(IsError(client().post("/orders", order_body(repeat("\xC3\xA9", 1001), "1")), 400,
                      "validation", "description must be at most 1000 characters"));
}

TEST_F(OrdersApi, EscapedSurrogatePairsAreOneCharacter) {
  // 1000 x "\ud83d\ude00" written as JSON escapes is 1000 code points.
  const std::string body =
      "{\"description\":\"" + repeat("\\ud83d\\ude00", 1000) + "\",\"price\":2}";
  const Response r = client().post("/orders", body);
  ASSERT_TRUE(HasStatus(r, 201));
  const std::string id = string_field(r.json(), "orderId");
  EXPECT_EQ(field(order_of(fetch(id)), "description"), repeat("\xF0\x9F\x98\x80", 1000));
}

// --- GET /orders/{orderId} ---------------------------------------------------------------------

TEST_F(OrdersApi, UnknownOrderIs404) {
  EXPECT_TRUE(IsError(client().get(std::string("/orders/") + kUnknownId), 404, "not_found",
                      "Order not found"));
}

TEST_F(OrdersApi, MalformedOrderIdIs400) {
  EXPECT_TRUE(
      IsError(client().get("/orders/not-a-uuid"), 400, "validation", "orderId must be a UUID"));
}

TEST_F(OrdersApi, IfNoneMatchWithTheCurrentEtagIs304) {
  const std::string id = create_order(client(), "conditional", "4.00");
  ASSERT_FALSE(id.empty());
  const Response fresh = client().get("/orders/" + id, {{"If-None-Match", "\"1\""}});
  EXPECT_EQ(fresh.status, 304) << describe(fresh);
  EXPECT_TRUE(fresh.body.empty()) << describe(fresh);

  const Response stale = client().get("/orders/" + id, {{"If-None-Match", "\"7\""}});
  EXPECT_TRUE(HasStatus(stale, 200));
  EXPECT_EQ(etag(stale), "\"1\"");

  ASSERT_TRUE(HasStatus(client().request("PATCH", "/orders/" + id, R"({"price":5})"), 200));
  EXPECT_TRUE(HasStatus(client().get("/orders/" + id, {{"If-None-Match", "\"1\""}}), 200));
  EXPECT_EQ(client().get("/orders/" + id, {{"If-None-Match", "\"2\""}}).status, 304);
}

// --- PUT / PATCH /orders/{orderId} -------------------------------------------------------------

class OrdersUpdate : public OrdersApi, public testing::WithParamInterface<const char*> {
 protected:
  const char* method() const { return GetParam(); }
  Response update(const std::string& id, std::string_view body, const Headers& h = {}) {
    return client().request(method(), "/orders/" + id, body, h);
  }
};

TEST_P(OrdersUpdate, DescriptionAlone) {
  const std::string id = create_order(client(), "Old text", "5.00");
  ASSERT_FALSE(id.empty());
  const auto before = order_of(fetch(id));

  const Response r = update(id, R"({"description":"  New text "})");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(string_field(r.json(), "status"), "success");
  const auto after = order_of(r);
  EXPECT_EQ(field(after, "orderId"), id);
  EXPECT_EQ(field(after, "description"), "New text");
  EXPECT_TRUE(HasRawPrice(r, "5.00"));
  EXPECT_EQ(field(after, "creationDate"), field(before, "creationDate"));
  EXPECT_NE(field(after, "lastModifiedDate"), field(before, "lastModifiedDate"));
  EXPECT_TRUE(is_rfc3339_micro_utc(field(after, "lastModifiedDate")));
  EXPECT_EQ(etag(r), "\"2\"");

  const Response read = fetch(id);
  EXPECT_EQ(order_of(read), after);
  EXPECT_EQ(etag(read), "\"2\"");
}

TEST_P(OrdersUpdate, PriceAlone) {
  const std::string id = create_order(client(), "Keep me", "5.00");
  ASSERT_FALSE(id.empty());
  const auto before = order_of(fetch(id));

  const Response r = update(id, R"({"price":0.1})");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(field(order_of(r), "description"), "Keep me");
  EXPECT_TRUE(HasRawPrice(r, "0.10"));
  EXPECT_EQ(field(order_of(r), "creationDate"), field(before, "creationDate"));
  EXPECT_NE(field(order_of(r), "lastModifiedDate"), field(before, "lastModifiedDate"));
  EXPECT_EQ(etag(r), "\"2\"");
  EXPECT_TRUE(HasRawPrice(fetch(id), "0.10"));
}

TEST_P(OrdersUpdate, BothFieldsAndPriceAsString) {
  const std::string id = create_order(client(), "Both", "5.00");
  ASSERT_FALSE(id.empty());
  const Response r = update(id, R"({"description":"Both changed","price":"19.99"})");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(field(order_of(r), "description"), "Both changed");
  EXPECT_TRUE(HasRawPrice(r, "19.99"));
  const Response read = fetch(id);
  EXPECT_EQ(field(order_of(read), "description"), "Both changed");
  EXPECT_TRUE(HasRawPrice(read, "19.99"));
}

TEST_P(OrdersUpdate, EachUpdateBumpsTheVersion) {
  const std::string id = create_order(client(), "Versions", "1");
  ASSERT_FALSE(id.empty());
  for (int v = 2; v <= 4; ++v) {
    const Response r = update(id, "{\"price\":" + std::to_string(v) + "}");
    ASSERT_TRUE(HasStatus(r, 200));
    EXPECT_EQ(etag(r), "\"" + std::to_string(v) + "\"");
  }
  EXPECT_EQ(etag(fetch(id)), "\"4\"");
}

TEST_P(OrdersUpdate, NothingToUpdateIs400) {
  const std::string id = create_order(client(), "Unchanged", "5.00");
  ASSERT_FALSE(id.empty());
  const Response before = fetch(id);
  EXPECT_TRUE(IsError(update(id, "{}"), 400, "validation", kNothingToUpdate));
  const Response after = fetch(id);
  EXPECT_EQ(order_of(after), order_of(before));
  EXPECT_EQ(etag(after), "\"1\"");
}

TEST_P(OrdersUpdate, UnknownFieldIs400AndChangesNothing) {
  const std::string id = create_order(client(), "Unchanged", "5.00");
  ASSERT_FALSE(id.empty());
  const Response before = fetch(id);
  EXPECT_TRUE(IsError(update(id, R"({"description":"x","color":"red"})"), 400, "validation",
                      "unknown field: color"));
  EXPECT_TRUE(IsError(update(id, R"({"creationDate":"2020-01-01T00:00:00.000000Z"})"), 400,
                      "validation", "unknown field: creationDate"));
  EXPECT_EQ(order_of(fetch(id)), order_of(before));
}

TEST_P(OrdersUpdate, IfMatchCurrentVersionSucceeds) {
  const std::string id = create_order(client(), "If-Match", "5.00");
  ASSERT_FALSE(id.empty());
  const Response r = update(id, R"({"price":6})", {{"If-Match", "\"1\""}});
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(etag(r), "\"2\"");
  EXPECT_TRUE(HasStatus(update(id, R"({"price":7})", {{"If-Match", "\"2\""}}), 200));
}

TEST_P(OrdersUpdate, IfMatchStaleVersionIs412AndChangesNothing) {
  const std::string id = create_order(client(), "If-Match", "5.00");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(HasStatus(update(id, R"({"price":6})"), 200));
  const Response before = fetch(id);
  EXPECT_TRUE(IsErrorCode(update(id, R"({"price":7})", {{"If-Match", "\"1\""}}), 412,
                          "precondition_failed"));
  const Response after = fetch(id);
  EXPECT_EQ(order_of(after), order_of(before));
  EXPECT_EQ(etag(after), "\"2\"");
}

TEST_P(OrdersUpdate, IfMatchStarSucceeds) {
  const std::string id = create_order(client(), "If-Match *", "5.00");
  ASSERT_FALSE(id.empty());
  const Response r = update(id, R"({"description":"star"})", {{"If-Match", "*"}});
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(field(order_of(r), "description"), "star");
}

TEST_P(OrdersUpdate, MalformedIfMatchIs400) {
  const std::string id = create_order(client(), "If-Match bad", "5.00");
  ASSERT_FALSE(id.empty());
  const Response before = fetch(id);
  // Not entity tags at all. A well-formed tag that is not ours ("x") is a 412 instead
  // (HttpSemantics.IfMatchComparesStronglyAndTakesLists).
  for (const char* bad : {"abc", "\"1", "1", "\"1\" \"2\""}) {
    SCOPED_TRACE(std::string("If-Match: ") + bad);
    EXPECT_TRUE(IsErrorCode(update(id, R"({"price":9})", {{"If-Match", bad}}), 400, ""));
  }
  EXPECT_TRUE(IsErrorCode(update(id, R"({"price":9})", {{"If-Match", "\"x\""}}), 412, ""));
  EXPECT_EQ(order_of(fetch(id)), order_of(before));
}

TEST_P(OrdersUpdate, UnknownOrderIs404) {
  EXPECT_TRUE(IsError(update(kUnknownId, R"({"price":1})"), 404, "not_found", "Order not found"));
}

TEST_P(OrdersUpdate, MalformedIdIs400) {
  EXPECT_TRUE(IsError(client().request(method(), "/orders/not-a-uuid", R"({"price":1})"), 400,
                      "validation", "orderId must be a UUID"));
}

TEST_P(OrdersUpdate, DeletedOrderIs404) {
  const std::string id = create_order(client(), "gone", "1");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(HasStatus(client().request("DELETE", "/orders/" + id), 200));
  EXPECT_TRUE(IsError(update(id, R"({"price":2})"), 404, "not_found", "Order not found"));
}

INSTANTIATE_TEST_SUITE_P(Methods, OrdersUpdate, testing::Values("PUT", "PATCH"),
                         [](const auto& param_info) { return std::string(param_info.param); });

// --- DELETE /orders/{orderId} ------------------------------------------------------------------

TEST_F(OrdersApi, DeleteRemovesTheOrder) {
  const std::string id = create_order(client(), "to delete", "2.00");
  ASSERT_FALSE(id.empty());
  const Response r = client().request("DELETE", "/orders/" + id);
  ASSERT_TRUE(HasStatus(r, 200));
  const auto v = r.json();
  EXPECT_EQ(string_field(v, "status"), "success");
  EXPECT_EQ(string_field(v, "message"), "Order deleted successfully");
  EXPECT_EQ(string_field(v, "orderId"), id);

  EXPECT_TRUE(IsError(client().get("/orders/" + id), 404, "not_found", "Order not found"));
  EXPECT_TRUE(
      IsError(client().request("DELETE", "/orders/" + id), 404, "not_found", "Order not found"));
  for (const auto& o : list_all_orders(client())) EXPECT_NE(field(o, "orderId"), id);
}

TEST_F(OrdersApi, DeleteUnknownIs404AndMalformedIs400) {
  EXPECT_TRUE(IsError(client().request("DELETE", std::string("/orders/") + kUnknownId), 404,
                      "not_found", "Order not found"));
  EXPECT_TRUE(IsError(client().request("DELETE", "/orders/not-a-uuid"), 400, "validation",
                      "orderId must be a UUID"));
}

TEST_F(OrdersApi, DeleteWithStaleIfMatchIs412AndKeepsTheOrder) {
  const std::string id = create_order(client(), "keep", "2.00");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(HasStatus(client().request("PATCH", "/orders/" + id, R"({"price":3})"), 200));
  const Response before = fetch(id);

  EXPECT_TRUE(IsErrorCode(client().request("DELETE", "/orders/" + id, {}, {{"If-Match", "\"1\""}}),
                          412, "precondition_failed"));
  const Response after = fetch(id);
  EXPECT_EQ(order_of(after), order_of(before));

  EXPECT_TRUE(
      HasStatus(client().request("DELETE", "/orders/" + id, {}, {{"If-Match", "\"2\""}}), 200));
  EXPECT_EQ(client().get("/orders/" + id).status, 404);
}

// --- Idempotency-Key ---------------------------------------------------------------------------

TEST_F(OrdersApi, IdempotentReplayReturnsTheSameOrderAndCreatesOne) {
  const std::string key = "replay-" + create_order(client(), "key seed", "1");
  const std::string body = order_body("Idempotent order", "42.00");
  const std::size_t before = count_orders(client());

  const Response first = client().post("/orders", body, {{"Idempotency-Key", key}});
  ASSERT_TRUE(HasStatus(first, 201));
  EXPECT_NE(first.header("Idempotent-Replayed").value_or(""), "true");
  const Response again = client().post("/orders", body, {{"Idempotency-Key", key}});
  ASSERT_TRUE(HasStatus(again, 201));
  EXPECT_EQ(again.json(), first.json());
  EXPECT_EQ(again.header("Idempotent-Replayed").value_or("<absent>"), "true");
  EXPECT_EQ(again.header("Location").value_or("<absent>"),
            first.header("Location").value_or("<absent>"));

  EXPECT_EQ(count_orders(client()), before + 1);
  const std::string id = string_field(first.json(), "orderId");
  EXPECT_EQ(field(order_of(fetch(id)), "description"), "Idempotent order");
}

TEST_F(OrdersApi, IdempotencyKeyReusedWithAnotherBodyIs409) {
  const std::string key = "conflict-" + create_order(client(), "key seed", "1");
  const Response first =
      client().post("/orders", order_body("first body", "1.00"), {{"Idempotency-Key", key}});
  ASSERT_TRUE(HasStatus(first, 201));
  const std::string id = string_field(first.json(), "orderId");
  const std::size_t before = count_orders(client());

  EXPECT_TRUE(IsErrorCode(
      client().post("/orders", order_body("other body", "1.00"), {{"Idempotency-Key", key}}), 409,
      "conflict"));
  EXPECT_TRUE(IsErrorCode(
      client().post("/orders", order_body("first body", "2.00"), {{"Idempotency-Key", key}}), 409,
      "conflict"));
  EXPECT_EQ(count_orders(client()), before);
  EXPECT_EQ(field(order_of(fetch(id)), "description"), "first body");
}

TEST_F(OrdersApi, DifferentIdempotencyKeysAndNoKeyCreateSeparateOrders) {
  const std::string seed = create_order(client(), "key seed", "1");
  const std::string body = order_body("same body", "1.00");
  const Response a = client().post("/orders", body, {{"Idempotency-Key", "a-" + seed}});
  const Response b = client().post("/orders", body, {{"Idempotency-Key", "b-" + seed}});
  const Response c = client().post("/orders", body);
  const Response d = client().post("/orders", body);
  ASSERT_TRUE(HasStatus(a, 201));
  ASSERT_TRUE(HasStatus(b, 201));
  ASSERT_TRUE(HasStatus(c, 201));
  ASSERT_TRUE(HasStatus(d, 201));
  const std::set<std::string> ids = {
      string_field(a.json(), "orderId"), string_field(b.json(), "orderId"),
      string_field(c.json(), "orderId"), string_field(d.json(), "orderId")};
  EXPECT_EQ(ids.size(), 4u);
}

TEST_F(OrdersApi, IdempotencyKeyMustBe1To255VisibleAscii) {
  const std::size_t before = count_orders(client());
  const std::string body = order_body("bad key", "1.00");
  const std::vector<std::string> bad = {"", repeat("k", 256), "has space", "tab\there",
                                        "\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87"};
  for (const auto& key : bad) {
    SCOPED_TRACE("Idempotency-Key of " + std::to_string(key.size()) +
                 " bytes: " + key.substr(0, 20));
    EXPECT_TRUE(IsError(client().post("/orders", body, {{"Idempotency-Key", key}}), 400,
                        "validation", kBadKey));
  }
  EXPECT_EQ(count_orders(client()), before);

  const std::string longest =
      repeat("k", 230) + create_order(client(), "key seed", "1").substr(0, 25);
  ASSERT_EQ(longest.size(), 255u);
  EXPECT_TRUE(HasStatus(client().post("/orders", body, {{"Idempotency-Key", longest}}), 201));
  EXPECT_TRUE(
      HasStatus(client().post("/orders", body, {{"Idempotency-Key", "!~#$%&'*+-.^_`|"}}), 201));
}

// --- GET /orders: listing and paging -----------------------------------------------------------

using OrdersListEmpty = FreshServerTest;

TEST_F(OrdersListEmpty, EmptyStoreIs200WithNoOrders) {
  const Response r = client().get("/orders");
  ASSERT_TRUE(HasStatus(r, 200));
  const auto v = r.json();
  EXPECT_EQ(string_field(v, "status"), "success");
  EXPECT_EQ(string_field(v, "message"), "Orders fetched: 0");
  ASSERT_TRUE(v.at("orders").is_array());
  EXPECT_TRUE(v.at("orders").as_array().empty());
  EXPECT_FALSE(v.as_object().contains("nextCursor")) << describe(r);
}

// 250 orders created once; the tests only read.
class OrdersPaging : public SharedServerTest<OrdersPaging> {
 public:
  static void seed(HttpClient& c) {
    ids().clear();
    for (int i = 0; i < 250; ++i) {
      const std::string price = std::to_string(i + 1) + "." + (i % 2 ? "05" : "50");
      ids().push_back(create_order(c, "order #" + std::to_string(i), price));
    }
  }

 protected:
  void SetUp() override {
    SharedServerTest::SetUp();
    ASSERT_EQ(ids().size(), 250u) << "seeding the 250 orders failed";
  }
  static std::vector<std::string>& ids() {
    static std::vector<std::string> v;
    return v;
  }
  static std::vector<std::string> ids_of(const boost::json::value& page) {
    std::vector<std::string> out;
    for (const auto& o : page.at("orders").as_array()) out.push_back(string_field(o, "orderId"));
    return out;
  }
};

TEST_F(OrdersPaging, LimitOf100PagesThroughEveryOrderOnceInCreationOrder) {
  std::vector<std::string> seen;
  std::vector<std::size_t> sizes;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    std::string target = "/orders?limit=100";
    if (!cursor.empty()) target += "&cursor=" + query_escape(cursor);
    const Response r = client().get(target);
    ASSERT_TRUE(HasStatus(r, 200));
    const auto v = r.json();
    const auto page_ids = ids_of(v);
    EXPECT_EQ(string_field(v, "message"), "Orders fetched: " + std::to_string(page_ids.size()));
    sizes.push_back(page_ids.size());
    seen.insert(seen.end(), page_ids.begin(), page_ids.end());
    const auto* next = v.as_object().if_contains("nextCursor");
    if (next == nullptr) break;
    ASSERT_TRUE(next->is_string()) << describe(r);
    cursor = std::string(next->get_string());
    ASSERT_FALSE(cursor.empty());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{100, 100, 50}));
  EXPECT_EQ(seen, ids());
}

TEST_F(OrdersPaging, OrdersInAPageCarryAllFieldsAndExactPrices) {
  const Response r = client().get("/orders?limit=2");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_TRUE(HasRawPrice(r, "1.50"));
  EXPECT_TRUE(HasRawPrice(r, "2.05"));
  const auto orders = r.json().at("orders").as_array();
  ASSERT_EQ(orders.size(), 2u);
  for (const auto& o : orders) {
    EXPECT_TRUE(is_lower_uuid(string_field(o, "orderId")));
    EXPECT_THAT(string_field(o, "description"), StartsWith("order #"));
    EXPECT_TRUE(is_rfc3339_micro_utc(string_field(o, "creationDate")));
    EXPECT_TRUE(is_rfc3339_micro_utc(string_field(o, "lastModifiedDate")));
  }
}

TEST_F(OrdersPaging, DefaultLimitIs100) {
  const Response r = client().get("/orders");
  ASSERT_TRUE(HasStatus(r, 200));
  const auto v = r.json();
  EXPECT_EQ(ids_of(v), std::vector<std::string>(ids().begin(), ids().begin() + 100));
  EXPECT_EQ(string_field(v, "message"), "Orders fetched: 100");
  EXPECT_TRUE(v.as_object().contains("nextCursor"));
}

TEST_F(OrdersPaging, Limit1000ReturnsEverythingWithoutCursor) {
  const Response r = client().get("/orders?limit=1000");
  ASSERT_TRUE(HasStatus(r, 200));
  const auto v = r.json();
  EXPECT_EQ(ids_of(v), ids());
  EXPECT_EQ(string_field(v, "message"), "Orders fetched: 250");
  EXPECT_FALSE(v.as_object().contains("nextCursor"));
}

TEST_F(OrdersPaging, Limit1IsAccepted) {
  const Response r = client().get("/orders?limit=1");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(ids_of(r.json()), std::vector<std::string>{ids().front()});
}

// The contract: nextCursor is absent on the last page, also when that page is exactly full.
TEST_F(OrdersPaging, ExactlyFullLastPageHasNoCursor) {
  const Response first = client().get("/orders?limit=125");
  ASSERT_TRUE(HasStatus(first, 200));
  const auto first_page = first.json();
  const auto* next = first_page.as_object().if_contains("nextCursor");
  ASSERT_NE(next, nullptr) << describe(first);
  const Response last =
      client().get("/orders?limit=125&cursor=" + query_escape(std::string(next->as_string())));
  ASSERT_TRUE(HasStatus(last, 200));
  EXPECT_EQ(ids_of(last.json()).size(), 125u);
  EXPECT_FALSE(last.json().as_object().contains("nextCursor"))
      << "the page holding the last order still has a nextCursor";
}

TEST_F(OrdersPaging, BadLimitIs400) {
  for (const char* limit : {"0", "1001", "-1", "abc", "1.5", "", "10abc", "1e2", "+5", "%205",
                            "99999999999999999999", "%00"}) {
    SCOPED_TRACE(std::string("limit=") + limit);
    EXPECT_TRUE(
        IsError(client().get(std::string("/orders?limit=") + limit), 400, "validation", kBadLimit));
  }
}

TEST_F(OrdersPaging, GarbageCursorIs400) {
  for (const std::string& cursor :
       {std::string("garbage"), std::string("!!!not-a-cursor!!!"), repeat("A", 4000),
        std::string("eyJ4IjoxfQ"), std::string("%FF%FE")}) {
    SCOPED_TRACE("cursor=" + cursor.substr(0, 40));
    EXPECT_TRUE(
        IsError(client().get("/orders?cursor=" + cursor), 400, "validation", "cursor is invalid"));
  }
}

// Keyset paging: orders created while a client pages appear once, at the end; deleted ones
// that were not reached yet do not appear.
using OrdersPagingWhileWriting = FreshServerTest;

TEST_F(OrdersPagingWhileWriting, NewOrdersAppearOnceAtTheEndAndDeletedOnesVanish) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(create_order(client(), "early " + std::to_string(i), "1"));
  const Response first = client().get("/orders?limit=3");
  ASSERT_TRUE(HasStatus(first, 200));
  const auto v = first.json();
  ASSERT_EQ(v.at("orders").as_array().size(), 3u);
  const std::string cursor = std::string(v.at("nextCursor").as_string());

  ids.push_back(create_order(client(), "late 0", "1"));
  ids.push_back(create_order(client(), "late 1", "1"));
  ASSERT_TRUE(HasStatus(client().request("DELETE", "/orders/" + ids[4]), 200));

  std::vector<std::string> rest;
  std::string next = cursor;
  while (!next.empty()) {
    const Response r = client().get("/orders?limit=3&cursor=" + query_escape(next));
    ASSERT_TRUE(HasStatus(r, 200));
    const auto page = r.json();
    for (const auto& o : page.at("orders").as_array()) rest.push_back(string_field(o, "orderId"));
    const auto* c = page.as_object().if_contains("nextCursor");
    next = c != nullptr ? std::string(c->as_string()) : std::string();
    ASSERT_LT(rest.size(), 20u);
  }
  EXPECT_EQ(rest, (std::vector<std::string>{ids[3], ids[5], ids[6], ids[7]}));
}

}  // namespace
}  // namespace orderflow::e2e
