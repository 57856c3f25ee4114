// Bad input of every kind the contract names: each gets its 4xx and message, changes nothing
// (the order count and an existing order stay as they were), and no response is ever a 5xx.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

using namespace std::string_literals;

constexpr const char* kInvalidJson = "Invalid JSON body";
constexpr const char* kNotObject = "Request body must be a JSON object";
constexpr const char* kDescRequired = "description is required";
constexpr const char* kDescString = "description must be a string";
constexpr const char* kDescLong = "description must be at most 1000 characters";
constexpr const char* kDescControl = "description must not contain control characters";
constexpr const char* kPriceRequired = "price is required";
constexpr const char* kPriceNumber = "price must be a number";
constexpr const char* kPricePositive = "price must be > 0";
constexpr const char* kPriceDecimals = "price must have at most 2 decimal places";
constexpr const char* kPriceMax = "price must be at most 999999999.99";
constexpr const char* kPriceExponent = "price must be a plain decimal number (no exponent)";
constexpr const char* kUnknownId = "0190c1a2-0000-7000-8000-000000000000";

// {"description":"a","price":<price>}
std::string with_price(std::string_view price) {
  return "{\"description\":\"a\",\"price\":" + std::string(price) + "}";
}
// {"description":<description>,"price":1}
std::string with_description(std::string_view description_json) {
  return "{\"description\":" + std::string(description_json) + ",\"price\":1}";
}

// A 4xx with the error envelope (any code and message).
testing::AssertionResult IsClientError(const Response& r) {
  if (r.status < 400 || r.status > 499)
    return testing::AssertionFailure() << "expected a 4xx, got " << describe(r);
  return IsErrorCode(r, r.status, "");
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  for (const char c : s + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (c != ' ' && c != '\t') {
      item += c;
    }
  }
  return out;
}

// Every response of this suite goes through call(), which remembers any 5xx; TearDown fails
// the test that saw one, so no bad input anywhere in the suite may produce a server error.
class BadInput : public SharedServerTest<BadInput> {
 public:
  static void seed(HttpClient& c) {
    existing_id() = create_order(c, "The existing order", "12.50");
  }

 protected:
  static std::string& existing_id() {
    static std::string id;
    return id;
  }

  Response call(std::string_view method, std::string_view target, std::string_view body = {},
                const Headers& headers = {}) {
    return record(client().request(method, target, body, headers));
  }
  Response record(Response r) {
    if (r.status >= 500) server_errors_.push_back(describe(r));
    return r;
  }
  std::size_t order_count() { return count_orders(client()); }
  // The existing order, as the server returns it (body and ETag).
  std::string existing_snapshot() {
    const Response r = call("GET", "/orders/" + existing_id());
    EXPECT_TRUE(HasStatus(r, 200));
    return r.body + " etag=" + r.header("ETag").value_or("<absent>");
  }

  void SetUp() override {
    SharedServerTest::SetUp();
    ASSERT_FALSE(existing_id().empty()) << "could not create the existing order";
  }
  void TearDown() override {
    for (const auto& e : server_errors_) ADD_FAILURE() << "server error (5xx): " << e;
    SharedServerTest::TearDown();
  }

 private:
  std::vector<std::string> server_errors_;
};

struct BodyCase {
  const char* name;
  std::string body;
  const char* message;  // nullptr: the contract names no message, any 4xx envelope will do
};

void PrintTo(const BodyCase& c, std::ostream* os) { *os << c.name; }

std::string case_name(const testing::TestParamInfo<BodyCase>& param_info) {
  return param_info.param.name;
}

// --- POST /orders with bad bodies --------------------------------------------------------------

std::vector<BodyCase> bad_create_bodies() {
  return {
      // Not JSON at all.
      {"EmptyBody", "", kInvalidJson},
      {"TruncatedObject", "{", kInvalidJson},
      {"NotJson", "not json", kInvalidJson},
      {"TrailingComma", R"({"description":"a","price":1,})", kInvalidJson},
      {"TrailingGarbage", R"({"description":"a","price":1} x)", kInvalidJson},
      {"SingleQuotes", R"({'description':'a','price':1})", kInvalidJson},
      {"MissingComma", R"({"description":"a" "price":1})", kInvalidJson},
      {"Comment", R"({"description":"a",/*c*/"price":1})", kInvalidJson},
      {"InvalidUtf8Byte", "{\"description\":\"caf\xff\",\"price\":1}", kInvalidJson},
      {"OverlongUtf8", "{\"description\":\"\xc0\xaf\",\"price\":1}", kInvalidJson},
      {"Utf8EncodedSurrogate", "{\"description\":\"\xed\xa0\x80\",\"price\":1}", kInvalidJson},
      {"TruncatedUtf8", "{\"description\":\"\xe2\x82\",\"price\":1}", kInvalidJson},
      {"InvalidUtf8InKey", "{\"descr\xffiption\":\"a\",\"price\":1}", kInvalidJson},
      {"RawNulInString", "{\"description\":\"a\0b\",\"price\":1}"s, kInvalidJson},
      {"RawNewlineInString", "{\"description\":\"a\nb\",\"price\":1}", kInvalidJson},
      {"PriceNaN", with_price("NaN"), kInvalidJson},
      {"PriceInfinity", with_price("Infinity"), kInvalidJson},
      {"PriceMinusInfinity", with_price("-Infinity"), kInvalidJson},
      {"PriceLeadingPlus", with_price("+1"), kInvalidJson},
      {"PriceLeadingDot", with_price(".5"), kInvalidJson},
      {"PriceLeadingZero", with_price("012"), kInvalidJson},
      {"PriceTrailingDot", with_price("1."), kInvalidJson},
      {"PriceHex", with_price("0x10"), kInvalidJson},
      // JSON, but not an object.
      {"Array", "[]", kNotObject},
      {"ArrayOfOrder", R"([{"description":"a","price":1}])", kNotObject},
      {"String", R"("order")", kNotObject},
      {"Number", "42", kNotObject},
      {"Null", "null", kNotObject},
      {"True", "true", kNotObject},
      // Unknown members.
      {"ExtraField", R"({"description":"a","price":1,"extra":1})", "unknown field: extra"},
      {"OrderIdField", R"({"description":"a","price":1,"orderId":"x"})", "unknown field: orderId"},
      {"NestedUnknownField", R"({"description":"a","price":1,"meta":{"x":1}})",
       "unknown field: meta"},
      // description.
      {"DescriptionMissing", R"({"price":1})", kDescRequired},
      {"DescriptionNull", with_description("null"), kDescRequired},
      {"DescriptionNumber", with_description("42"), kDescString},
      {"DescriptionFloat", with_description("1.5"), kDescString},
      {"DescriptionTrue", with_description("true"), kDescString},
      {"DescriptionFalse", with_description("false"), kDescString},
      {"DescriptionObject", with_description(R"({"text":"a"})"), kDescString},
      {"DescriptionArray", with_description(R"(["a"])"), kDescString},
      {"DescriptionEmpty", with_description(R"("")"), kDescRequired},
      {"DescriptionSpaces", with_description(R"("     ")"), kDescRequired},
      {"DescriptionWhitespace", with_description(R"(" \t\r\n ")"), kDescRequired},
      {"DescriptionTooLong", with_description(json_quote(repeat("a", 1001))), kDescLong},
      {"DescriptionTooLongEmoji", with_description(json_quote(repeat("\xF0\x9F\x98\x80", 1001))),
       kDescLong},
      {"DescriptionNulEscape", with_description(R"("a\u0000b")"), kDescControl},
      {"DescriptionOnlyNul", with_description(R"("\u0000")"), kDescControl},
      {"DescriptionControl01", with_description(R"("a\u0001b")"), kDescControl},
      {"DescriptionAnsiEscape", with_description(R"("\u001b[31mred")"), kDescControl},
      {"DescriptionBell", with_description(R"("ring\u0007 bell")"), kDescControl},
      {"DescriptionBackspace", with_description(R"("a\bb")"), kDescControl},
      {"DescriptionFormFeed", with_description(R"("a\fb")"), kDescControl},
      {"DescriptionVerticalTab", with_description(R"("a\u000bb")"), kDescControl},
      // price.
      {"PriceMissing", R"({"description":"a"})", kPriceRequired},
      {"PriceNull", with_price("null"), kPriceRequired},
      {"PriceTrue", with_price("true"), kPriceNumber},
      {"PriceFalse", with_price("false"), kPriceNumber},
      {"PriceObject", with_price(R"({"amount":1})"), kPriceNumber},
      {"PriceArray", with_price("[1]"), kPriceNumber},
      {"PriceWord", with_price(R"("abc")"), kPriceNumber},
      {"PriceNumberThenWord", with_price(R"("12abc")"), kPriceNumber},
      {"PriceDecimalComma", with_price(R"("12,50")"), kPriceNumber},
      {"PriceStringNaN", with_price(R"("NaN")"), kPriceNumber},
      {"PriceStringInfinity", with_price(R"("Infinity")"), kPriceNumber},
      {"PriceZero", with_price("0"), kPricePositive},
      {"PriceZeroCents", with_price("0.00"), kPricePositive},
      {"PriceNegativeZero", with_price("-0"), kPricePositive},
      {"PriceNegative", with_price("-1"), kPricePositive},
      {"PriceNegativeCents", with_price("-0.01"), kPricePositive},
      {"PriceNegativeString", with_price(R"("-5")"), kPricePositive},
      {"PriceThreeDecimals", with_price("12.345"), kPriceDecimals},
      {"PriceThreeDecimalsString", with_price(R"("12.345")"), kPriceDecimals},
      {"PriceManyDecimals", with_price("0.123456789"), kPriceDecimals},
      {"PriceTooBig", with_price("1000000000"), kPriceMax},
      {"PriceTooBigCents", with_price("1000000000.01"), kPriceMax},
      {"PriceTooBigString", with_price(R"("1000000000")"), kPriceMax},
      {"PriceHugeInteger", with_price("123456789012345678901234567890"), kPriceMax},
      {"PriceTenThousandDigits", with_price(repeat("9", 10000)), kPriceMax},
      {"PriceExponent", with_price("1e2"), kPriceExponent},
      {"PriceExponentUpper", with_price("1.5E1"), kPriceExponent},
      {"PriceExponentNegative", with_price("1E-2"), kPriceExponent},
      {"PriceExponentPlus", with_price("1e+2"), kPriceExponent},
      {"PriceExponentHuge", with_price("1e400"), kPriceExponent},
      {"PriceExponentTiny", with_price("1e-400"), kPriceExponent},
      // The contract names no message for these: any 4xx envelope, nothing created.
      {"LoneSurrogateEscape", with_description(R"("\ud800")"), nullptr},
      {"DuplicateKeys", R"({"description":"a","description":"b","price":1})", nullptr},
      {"DeepNestingInUnknownField",
       R"({"description":"a","price":1,"x":)" + repeat("[", 10000) + repeat("]", 10000) + "}",
       nullptr},
      {"DeepNestingTopLevel", repeat("[", 100000) + repeat("]", 100000), nullptr},
      {"PriceEmptyString", with_price(R"("")"), nullptr},
      {"PriceSpacedString", with_price(R"(" 12.50")"), nullptr},
      {"PriceStringExponent", with_price(R"("1e2")"), nullptr},
      {"PriceTinyThreeDecimals", with_price("0.001"), nullptr},
      {"DescriptionKeyCase", R"({"Description":"a","price":1})", nullptr},
  };
}

class BadCreateBody : public BadInput, public testing::WithParamInterface<BodyCase> {};

TEST_P(BadCreateBody, IsRejectedAndCreatesNothing) {
  const BodyCase& c = GetParam();
  const std::size_t before = order_count();
  const Response r = call("POST", "/orders", c.body);
  if (c.message != nullptr) {
    EXPECT_TRUE(IsError(r, 400, "validation", c.message));
  } else {
    EXPECT_TRUE(IsClientError(r));
  }
  EXPECT_EQ(order_count(), before);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadCreateBody, testing::ValuesIn(bad_create_bodies()), case_name);

// --- PUT / PATCH with bad bodies ---------------------------------------------------------------

std::vector<BodyCase> bad_update_bodies() {
  return {
      {"EmptyObject", "{}", "Nothing to update. Send price and/or description."},
      {"OnlyUnknownField", R"({"color":"red"})", "unknown field: color"},
      {"UnknownFieldWithValidOne", R"({"description":"x","color":"red"})", "unknown field: color"},
      {"OrderIdField", R"({"orderId":"0190c1a2-0000-7000-8000-000000000000"})",
       "unknown field: orderId"},
      {"EmptyBody", "", kInvalidJson},
      {"TruncatedObject", "{", kInvalidJson},
      {"InvalidUtf8", "{\"description\":\"caf\xff\"}", kInvalidJson},
      {"PriceNaN", R"({"price":NaN})", kInvalidJson},
      {"Array", "[]", kNotObject},
      {"Null", "null", kNotObject},
      {"DescriptionNull", R"({"description":null})", kDescRequired},
      {"DescriptionEmpty", R"({"description":""})", kDescRequired},
      {"DescriptionSpaces", R"({"description":"   "})", kDescRequired},
      {"DescriptionNumber", R"({"description":5})", kDescString},
      {"DescriptionTooLong", "{\"description\":" + json_quote(repeat("a", 1001)) + "}", kDescLong},
      {"DescriptionControl", R"({"description":"a\u0000b"})", kDescControl},
      {"PriceNull", R"({"price":null})", kPriceRequired},
      {"PriceBool", R"({"price":true})", kPriceNumber},
      {"PriceWord", R"({"price":"abc"})", kPriceNumber},
      {"PriceZero", R"({"price":0})", kPricePositive},
      {"PriceNegative", R"({"price":-3})", kPricePositive},
      {"PriceThreeDecimals", R"({"price":12.345})", kPriceDecimals},
      {"PriceTooBig", R"({"price":1000000000})", kPriceMax},
      {"PriceExponent", R"({"price":1e2})", kPriceExponent},
      {"ValidDescriptionBadPrice", R"({"description":"fine","price":0})", kPricePositive},
      {"ValidPriceBadDescription", R"({"description":"","price":5})", kDescRequired},
      {"NullDescriptionWithValidPrice", R"({"description":null,"price":5})", kDescRequired},
      {"NullPriceWithValidDescription", R"({"description":"fine","price":null})", kPriceRequired},
  };
}

class BadUpdateBody : public BadInput,
                      public testing::WithParamInterface<std::tuple<const char*, BodyCase>> {};

TEST_P(BadUpdateBody, IsRejectedAndChangesNothing) {
  const auto& [method, c] = GetParam();
  const std::string before = existing_snapshot();
  const std::size_t count = order_count();
  const Response r = call(method, "/orders/" + existing_id(), c.body);
  EXPECT_TRUE(IsError(r, 400, "validation", c.message));
  EXPECT_EQ(existing_snapshot(), before);
  EXPECT_EQ(order_count(), count);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadUpdateBody,
                         testing::Combine(testing::Values("PUT", "PATCH"),
                                          testing::ValuesIn(bad_update_bodies())),
                         [](const auto& param_info) {
                           return std::string(std::get<0>(param_info.param)) + "_" +
                                  std::get<1>(param_info.param).name;
                         });

// --- Sizes -------------------------------------------------------------------------------------

TEST_F(BadInput, TwentyMebibyteBodyIs413AndCreatesNothing) {
  const std::size_t before = order_count();
  const std::string body = with_description(json_quote(repeat("a", 20u << 20)));
  const Response r = call("POST", "/orders", body);
  EXPECT_TRUE(IsErrorCode(r, 413, "payload_too_large"));
  EXPECT_EQ(r.header_count("X-Request-Id"), 1u) << describe(r);
  EXPECT_EQ(order_count(), before);
  EXPECT_TRUE(HasStatus(call("GET", "/healthz"), 200));
}

// Below the 8 MiB default the body is read and validated: the description is what is wrong.
// Just inside the order routes' 64 KiB body limit: read whole and validated (larger is a 413,
// tests/e2e/hardening_test.cpp).
TEST_F(BadInput, BodyJustUnderTheRouteLimitIsReadAndValidated) {
  const std::size_t before = order_count();
  const std::string body = with_description(json_quote(repeat("a", 60u << 10)));
  EXPECT_TRUE(IsError(call("POST", "/orders", body), 400, "validation", kDescLong));
  EXPECT_EQ(order_count(), before);
}

TEST_F(BadInput, TwentyMebibyteChunkedBodyIs413AndCreatesNothing) {
  const std::size_t before = order_count();
  std::string raw =
      "POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const std::string chunk = repeat("a", 1u << 20);
  raw += "10\r\n{\"description\":\"\r\n";
  for (int i = 0; i < 20; ++i) raw += "100000\r\n" + chunk + "\r\n";
  raw += "C\r\n\",\"price\":1}\r\n0\r\n\r\n";
  const auto r = client().raw_exchange(raw);
  ASSERT_TRUE(r.has_value()) << "connection closed without a response";
  record(*r);
  EXPECT_TRUE(IsErrorCode(*r, 413, "payload_too_large"));
  EXPECT_EQ(order_count(), before);
}

TEST_F(BadInput, OversizedHeaderIs431) {
  const std::size_t before = order_count();
  const Response get = call("GET", "/healthz", {}, {{"X-Big", repeat("h", 20 * 1024)}});
  EXPECT_EQ(get.status, 431) << describe(get);
  EXPECT_EQ(get.header_count("X-Request-Id"), 1u) << describe(get);
  const Response post =
      call("POST", "/orders", with_price("1"), {{"X-Big", repeat("h", 20 * 1024)}});
  EXPECT_EQ(post.status, 431) << describe(post);
  Headers many;
  for (int i = 0; i < 1000; ++i) many.emplace_back("X-Many-" + std::to_string(i), "some value");
  const Response lots = call("POST", "/orders", with_price("1"), many);
  EXPECT_EQ(lots.status, 431) << describe(lots);
  EXPECT_EQ(order_count(), before);
  EXPECT_TRUE(HasStatus(call("GET", "/healthz"), 200));
}

TEST_F(BadInput, HeadersUnderTheLimitAreFine) {
  EXPECT_TRUE(HasStatus(call("GET", "/healthz", {}, {{"X-Big", repeat("h", 12 * 1024)}}), 200));
}

// --- Hostile but valid strings are stored and returned exactly ----------------------------------

struct TextCase {
  const char* name;
  std::string text;
};

class HostileDescription : public BadInput, public testing::WithParamInterface<TextCase> {};

TEST_P(HostileDescription, IsStoredAndReturnedExactly) {
  const std::string& text = GetParam().text;
  const Response created = call("POST", "/orders", order_body(text, "1.00"));
  ASSERT_TRUE(HasStatus(created, 201));
  const std::string id = string_field(created.json(), "orderId");
  const Response r = call("GET", "/orders/" + id);
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(string_field(r.json().at("order"), "description"), text);

  bool listed = false;
  for (const auto& o : list_all_orders(client()))
    if (string_field(o, "orderId") == id) {
      listed = true;
      EXPECT_EQ(string_field(o, "description"), text);
    }
  EXPECT_TRUE(listed);

  const Response updated =
      call("PATCH", "/orders/" + id, "{\"description\":" + json_quote(text + "!") + "}");
  ASSERT_TRUE(HasStatus(updated, 200));
  EXPECT_EQ(string_field(updated.json().at("order"), "description"), text + "!");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HostileDescription,
    testing::Values(
        TextCase{"ScriptTag", "<script>alert('x')</script>"},
        TextCase{"ImgOnError", "<img src=x onerror=alert(1)>&amp;&lt;"},
        TextCase{"SqlInjection", "'; DROP TABLE orders; --"},
        TextCase{"SqlInjectionQuoted", "Robert'); DROP TABLE orders;-- \" OR 1=1 --"},
        TextCase{"JsonInside", R"({"description":"x","price":0})"},
        TextCase{"QuotesAndBackslashes", R"(a "quoted" \back\slash\ /slash/ \u0041)"},
        TextCase{"FormatStrings", "%s%n%x%d {} {0} ${jndi:ldap://x/a}"},
        TextCase{"RightToLeft",
                 "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7"},
        TextCase{"Emoji",
                 "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD "
                 "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7"},
        TextCase{"Cjk", "\xE6\xB3\xA8\xE6\x96\x87\xE3\x81\xAE\xE8\xAA\xAC\xE6\x98\x8E"},
        TextCase{"LineSeparators",
                 "a\xE2\x80\xA8"
                 "b\xE2\x80\xA9"
                 "c"},
        TextCase{"ZeroWidth",
                 "a\xE2\x80\x8B"
                 "b\xEF\xBB\xBF"
                 "c"},
        TextCase{"AstralMath", "\xF0\x9D\x90\x80\xF0\x9D\x95\xAB"},
        TextCase{"NonCharacter",
                 "a\xEF\xBF\xBF"
                 "b"},
        TextCase{"TabsAndNewlinesInside", "col1\tcol2\nrow2\r\nrow3"},
        TextCase{"PathTraversal", "../../etc/passwd\\..\\windows"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// --- Malformed order ids -----------------------------------------------------------------------

TEST_F(BadInput, NotAUuidIs400ForEveryMethod) {
  for (const char* method : {"GET", "PUT", "PATCH", "DELETE"}) {
    SCOPED_TRACE(method);
    const std::string body = std::string(method) == "GET" || std::string(method) == "DELETE"
                                 ? std::string()
                                 : std::string(R"({"price":1})");
    EXPECT_TRUE(IsError(call(method, "/orders/not-a-uuid", body), 400, "validation",
                        "orderId must be a UUID"));
  }
}

TEST_F(BadInput, MalformedIdsAre400Or404NeverServerErrors) {
  const std::size_t before = order_count();
  const std::string snapshot = existing_snapshot();
  const std::vector<std::string> ids = {
      "..%2F..",
      "..%2f..%2f..%2fetc%2fpasswd",
      "%2e%2e",
      repeat("a", 10000),
      repeat("0", 8) + "-" + repeat("0", 4) + "-" + repeat("0", 4) + "-" + repeat("0", 4) + "-" +
          repeat("0", 4000),
      "%00",
      "%E2%82",
      "%FF%FE",
      "0190c1a2-0000-7000-8000-00000000000",
      "0190c1a2-0000-7000-8000-0000000000000",
      "0190c1a2x0000-7000-8000-000000000000",
      "0190c1a2-0000-7000-8000-00000000000g",
      "%20",
      "'%20OR%20'1'='1",
      "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      existing_id() + "%00",
      existing_id() + "%2F..",
      "%7B%7D",
  };
  for (const auto& id : ids) {
    for (const char* method : {"GET", "PUT", "PATCH", "DELETE"}) {
      SCOPED_TRACE(std::string(method) + " /orders/" + id.substr(0, 60));
      const std::string body =
          std::string(method) == "PUT" || std::string(method) == "PATCH" ? R"({"price":7})" : "";
      const Response r = call(method, "/orders/" + id, body);
      EXPECT_TRUE(r.status == 400 || r.status == 404) << describe(r);
    }
  }
  EXPECT_EQ(order_count(), before);
  EXPECT_EQ(existing_snapshot(), snapshot);
}

// --- Garbage that is not HTTP -------------------------------------------------------------------

TEST_F(BadInput, GarbageBytesGet400OrACloseAndTheServerKeepsServing) {
  const std::size_t before = order_count();
  HttpClient bystander(port());  // a keep-alive connection opened before the garbage
  ASSERT_TRUE(HasStatus(record(bystander.get("/healthz")), 200));

  const std::vector<std::string> garbage = {
      "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"s + repeat("\x5a\xc3", 40) + "\r\n\r\n",
      "GARBAGE GARBAGE GARBAGE\r\n\r\n",
      "\x00\x01\x02\x03\xff\xfe\xfd\r\n\r\n"s,
      "GET\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 30\r\nContent-Length: 31\r\n\r\n{\"description\":\"a\",\"price\":1} ",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      "chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nNoColonHere\r\n\r\n",
  };
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    SCOPED_TRACE("garbage #" + std::to_string(i));
    std::optional<Response> r;
    try {
      r = client().raw_exchange(garbage[i]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
    if (r) {
      record(*r);
      EXPECT_EQ(r->status, 400) << describe(*r);
      EXPECT_EQ(r->header_count("X-Request-Id"), 1u) << describe(*r);
    }
    EXPECT_TRUE(HasStatus(call("GET", "/healthz"), 200));
    EXPECT_TRUE(HasStatus(record(bystander.get("/healthz")), 200));
  }
  EXPECT_EQ(order_count(), before);
}

// --- Routing errors ----------------------------------------------------------------------------

TEST_F(BadInput, UnknownPathIs404) {
  for (const std::string& target :
       {std::string("/nope"), std::string("/orders/") + kUnknownId + "/items",
        std::string("/orders/a/b/c"), std::string("/healthz/extra"), std::string("/api/orders")}) {
    SCOPED_TRACE(target);
    EXPECT_TRUE(IsErrorCode(call("GET", target), 404, "not_found"));
  }
}

TEST_F(BadInput, WrongMethodIs405WithAllow) {
  struct Case {
    const char* method;
    std::string target;
    std::vector<std::string> allowed;
  };
  const std::string one = std::string("/orders/") + kUnknownId;
  const std::vector<Case> cases = {
      {"DELETE", "/orders", {"GET", "HEAD", "POST"}},
      {"PUT", "/orders", {"GET", "HEAD", "POST"}},
      {"PATCH", "/orders", {"GET", "HEAD", "POST"}},
      {"POST", one, {"GET", "HEAD", "PUT", "PATCH", "DELETE"}},
      {"POST", "/healthz", {"GET", "HEAD"}},
      {"DELETE", "/metrics", {"GET", "HEAD"}},
      {"PUT", "/openapi.json", {"GET", "HEAD"}},
  };
  const std::size_t before = order_count();
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    const Response r = call(c.method, c.target, R"({"description":"a","price":1})");
    EXPECT_TRUE(IsErrorCode(r, 405, "method_not_allowed"));
    const auto allow = split_list(r.header("Allow").value_or(""));
    for (const auto& m : c.allowed) EXPECT_THAT(allow, testing::Contains(m)) << describe(r);
  }
  EXPECT_EQ(order_count(), before);
}

// A HEAD response carries no body (RFC 9110 9.3.2); one that does desynchronises every
// keep-alive client, which then reads the stray body as the start of the next response.
TEST_F(BadInput, HeadResponsesHaveNoBodySoKeepAliveStaysInSync) {
  for (const char* target : {"/orders", "/healthz", "/nope"}) {
    SCOPED_TRACE(std::string("HEAD ") + target);
    HttpClient c(port());
    const Response head = record(c.request("HEAD", target));
    EXPECT_LT(head.status, 500);
    try {
      EXPECT_TRUE(HasStatus(record(c.get("/healthz")), 200));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the request after HEAD failed on the same connection: " << e.what();
    }
  }
}

// --- Anything odd but well-formed HTTP gets a response below 500 -------------------------------

TEST_F(BadInput, OddRequestsNeverGetServerErrors) {
  const std::size_t before = order_count();
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"FOO", "/orders"},
      {"TRACE", "/orders"},
      {"OPTIONS", "/orders"},
      {"GET", "//orders"},
      {"GET", "/orders/"},
      {"GET", "/orders?"},
      {"GET", "/orders?limit"},
      {"GET", "/orders?limit=5&limit=6"},
      {"GET", "/orders?cursor"},
      {"GET", "/orders?%zz=1"},
      {"GET", "/orders?limit=%zz"},
      {"GET", "/orders/%"},
      {"GET", "/%2e%2e/%2e%2e/etc/passwd"},
      {"GET", "/orders?limit=10#fragment"},
      {"GET", "*"},
      {"GET", "http://127.0.0.1/orders"},
      {"GET", "/orders?unknown=1"},
      {"POST", "/orders?limit=5"},
      {"DELETE", "/orders/" + std::string(kUnknownId) + "?x=1"},
  };
  for (const auto& [method, target] : requests) {
    SCOPED_TRACE(method + " " + target);
    try {
      const Response r = call(method, target);
      EXPECT_LT(r.status, 500) << describe(r);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no response: " << e.what();
    }
  }
  // Odd headers on a valid create: still a 201 or a 4xx, never a 5xx.
  const std::vector<Headers> odd_headers = {
      {{"Content-Type", "text/plain"}},
      {{"Content-Type", "application/json; charset=latin1"}},
      {{"Content-Type", ""}},
      {{"Accept", "application/xml"}},
      {{"Accept-Encoding", "gzip, br"}},
      {{"Expect", "100-continue"}},
      {{"X-Request-Id", repeat("r", 5000)}},
      {{"If-Match", "\"1\""}},
      {{"Idempotency-Key", std::string(255, '~')}},
  };
  std::size_t created = 0;
  for (const auto& h : odd_headers) {
    SCOPED_TRACE(h.front().first + ": " + h.front().second.substr(0, 40));
    const Response r = call("POST", "/orders", with_price("1"), h);
    EXPECT_TRUE(r.status == 201 || (r.status >= 400 && r.status < 500)) << describe(r);
    if (r.status == 201 && r.header("Idempotent-Replayed").value_or("") != "true") ++created;
  }
  EXPECT_EQ(order_count(), before + created);
}

// What a page on another site can make a browser send without a CORS preflight (a text/plain
// or form body, a foreign Origin) creates, changes and deletes nothing (issue 13, part 3).
TEST_F(BadInput, CrossSiteWritesAreRefusedAndChangeNothing) {
  const std::size_t before = order_count();
  for (std::string_view type : {"text/plain", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x"}) {
    SCOPED_TRACE(type);
    const Response r = call("POST", "/orders", with_price("1"), {{"Content-Type", std::string(type)}});
    EXPECT_TRUE(IsErrorCode(r, 415, "unsupported_media_type")) << describe(r);
    EXPECT_THAT(r.body, testing::HasSubstr("application/json"));
  }
  const Response foreign =
      call("POST", "/orders", with_price("1"), {{"Origin", "http://evil.example"}});
  EXPECT_TRUE(IsErrorCode(foreign, 403, "forbidden_origin")) << describe(foreign);
  EXPECT_EQ(order_count(), before);

  const Response created = call("POST", "/orders", with_price("2"));
  ASSERT_EQ(created.status, 201) << describe(created);
  const std::string id = string_field(created.json(), "orderId");
  const Response del = call("DELETE", "/orders/" + id, {}, {{"Origin", "null"}});
  EXPECT_TRUE(IsErrorCode(del, 403, "forbidden_origin")) << describe(del);
  EXPECT_EQ(client().get("/orders/" + id).status, 200) << "a foreign DELETE removed the order";
  const Response same = call("DELETE", "/orders/" + id, {},
                             {{"Origin", "http://127.0.0.1:" + std::to_string(server().port())}});
  EXPECT_EQ(same.status, 200) << "this server's own page may delete: " << describe(same);
}

}  // namespace
}  // namespace orderflow::e2e
