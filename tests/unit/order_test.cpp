#include "domain/order.hpp"

#include <gtest/gtest.h>

#include "domain/event.hpp"
#include "domain/time.hpp"

namespace orderflow::domain {
namespace {

std::string description_error(std::string_view raw) {
  const auto normalized = normalize_description(raw);
  EXPECT_FALSE(normalized.has_value());
  return normalized.why();
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Description, IsTrimmedAndKept) {
  EXPECT_EQ(*normalize_description("  pizza \n"), "pizza");
  EXPECT_EQ(*normalize_description("<b>&amp;</b> 'x' \"y\""), "<b>&amp;</b> 'x' \"y\"");
  EXPECT_EQ(*normalize_description("two\nlines\tand tab"), "two\nlines\tand tab");
}

TEST(Description, CountsCodePointsNotBytes) {
  const std::string emoji = "\xF0\x9F\x8D\x95";  // U+1F355, four bytes
  EXPECT_TRUE(normalize_description(repeat(emoji, 1000)).has_value());
  EXPECT_EQ(description_error(repeat(emoji, 1001)), "description must be at most 1000 characters");
  EXPECT_TRUE(normalize_description(repeat("a", 1000)).has_value());
  EXPECT_EQ(description_error(repeat("a", 1001)), "description must be at most 1000 characters");
  // Whitespace around a 1000-character description does not count.
  EXPECT_TRUE(normalize_description("   " + repeat("a", 1000) + "   ").has_value());
}

TEST(Description, RejectsEmptyControlAndBrokenUtf8) {
  EXPECT_EQ(description_error(""), "description is required");
  EXPECT_EQ(description_error(" \t\r\n "), "description is required");
  EXPECT_EQ(description_error(std::string("a\0b", 3)), "description must not contain control characters");
  EXPECT_EQ(description_error("bell\x07"), "description must not contain control characters");
  EXPECT_EQ(description_error("\xC3"), "description must be valid UTF-8");
  EXPECT_EQ(description_error("\xC0\xAF"), "description must be valid UTF-8");       // overlong '/'
  EXPECT_EQ(description_error("\xED\xA0\x80"), "description must be valid UTF-8");   // surrogate
  EXPECT_EQ(description_error("\xF4\x90\x80\x80"), "description must be valid UTF-8");  // > U+10FFFF
}

TEST(Uuid, AcceptsCanonicalTextOnly) {
  EXPECT_TRUE(is_uuid("0190f5d2-7b1c-7a3e-8f00-0123456789ab"));
  EXPECT_TRUE(is_uuid("0190F5D2-7B1C-7A3E-8F00-0123456789AB"));
  EXPECT_FALSE(is_uuid("0190f5d27b1c7a3e8f000123456789ab"));
  EXPECT_FALSE(is_uuid("0190f5d2-7b1c-7a3e-8f00-0123456789a"));
  EXPECT_FALSE(is_uuid("0190f5d2-7b1c-7a3e-8f00-0123456789ag"));
  EXPECT_FALSE(is_uuid("../../etc/passwd"));
}

TEST(ETag, IfMatchComparesStronglyAndTakesListsAndStar) {
  EXPECT_EQ(etag_for(3), "\"3\"");
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(if_match_versions("\"3\""), V{3});
  EXPECT_EQ(if_match_versions(" \"3\" , \"5\""), (V{3, 5}));
  EXPECT_EQ(if_match_versions("*"), V{0});
  EXPECT_EQ(if_match_versions("W/\"7\""), V{}) << "a weak tag never matches strongly";
  EXPECT_EQ(if_match_versions("W/\"7\", \"8\""), V{8});
  EXPECT_EQ(if_match_versions("\"abc\", \"-1\", \"\""), V{}) << "tags we never issued";
  for (const char* malformed : {"3", "\"3", "\"3\" \"4\"", "W/3", "", "\"a b\""})
    EXPECT_FALSE(if_match_versions(malformed).has_value()) << malformed;
}

TEST(ETag, IfNoneMatchComparesWeaklyAndTakesListsAndStar) {
  EXPECT_TRUE(if_none_match_hits("\"1\"", 1));
  EXPECT_TRUE(if_none_match_hits("W/\"1\"", 1));
  EXPECT_TRUE(if_none_match_hits("*", 1));
  EXPECT_TRUE(if_none_match_hits("\"4\", W/\"1\"", 1));
  EXPECT_TRUE(if_none_match_hits("\"x,y\", \"1\"", 1)) << "a comma inside a tag";
  EXPECT_FALSE(if_none_match_hits("\"2\"", 1));
  EXPECT_FALSE(if_none_match_hits("\"11\"", 1));
  EXPECT_FALSE(if_none_match_hits("1", 1)) << "malformed: served in full";
}

TEST(ETag, IfNoneMatchNamesAnyOfOurTagsWeaklyAndTakesListsAndStar) {
  const std::string etag = "\"12-345\"";
  EXPECT_TRUE(if_none_match_names("\"12-345\"", etag));
  EXPECT_TRUE(if_none_match_names("W/\"12-345\"", etag));
  EXPECT_TRUE(if_none_match_names(" \"a\", W/\"12-345\" ", etag));
  EXPECT_TRUE(if_none_match_names("*", etag));
  EXPECT_FALSE(if_none_match_names("\"12-34\"", etag));
  EXPECT_FALSE(if_none_match_names("\"12-345\", junk", etag)) << "malformed: served in full";
  EXPECT_FALSE(if_none_match_names("", etag));
}

TEST(Time, FormatsRfc3339WithMicroseconds) {
  const auto t = parse_rfc3339("2026-11-25T11:47:14.123456Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_rfc3339(*t), "2026-11-25T11:47:14.123456Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2024-02-29T00:00:00Z")), "2024-02-29T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("0999-01-09T09:05:07.000090Z")),
            "0999-01-09T09:05:07.000090Z")
      << "every field zero-padded to its width";
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("9999-12-31T23:59:59.999999Z")),
            "9999-12-31T23:59:59.999999Z");
  Rfc3339Buffer buffer;
  EXPECT_EQ(format_rfc3339(*t, buffer), "2026-11-25T11:47:14.123456Z") << "the allocation-free form";
  EXPECT_EQ(format_rfc3339(Timestamp{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_FALSE(parse_rfc3339("2023-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-11-25 11:47:14Z").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-11-25T11:47:14+01:00").has_value());
}

Order sample() {
  const auto t = *parse_rfc3339("2026-01-02T03:04:05.000006Z");
  return Order{"0190f5d2-7b1c-7a3e-8f00-0123456789ab", "Tea \"green\"", Money::from_cents(1250),
               t, t, 2, {}, {}, {}};
}

TEST(OrderJson, WritesSeedFieldsAndExactPrice) {
  EXPECT_EQ(order_json(sample()),
            "{\"orderId\":\"0190f5d2-7b1c-7a3e-8f00-0123456789ab\",\"description\":\"Tea "
            "\\\"green\\\"\",\"price\":12.50,\"creationDate\":\"2026-01-02T03:04:05.000006Z\","
            "\"lastModifiedDate\":\"2026-01-02T03:04:05.000006Z\"}");
}

TEST(JsonWriter, EscapesControlCharacters) {
  JsonWriter w;
  w.string(std::string("a\x01\n\"\\", 5));
  EXPECT_EQ(w.str(), "\"a\\u0001\\n\\\"\\\\\"");
}

TEST(JsonWriter, KeepsPlainRunsAroundEscapesAndUtf8AsItIs) {
  JsonWriter w;
  w.string("");
  w.string("plain text");
  w.string("\"quoted\" and \\ back\tslash\r\n");
  w.string("caf\xc3\xa9 \xe2\x82\xac\x1f\x7f end");
  EXPECT_EQ(w.str(),
            "\"\",\"plain text\",\"\\\"quoted\\\" and \\\\ back\\tslash\\r\\n\","
            "\"caf\xc3\xa9 \xe2\x82\xac\\u001f\x7f end\"");
}

TEST(JsonWriter, EscapesAtEveryPositionOfALongString) {
  // Strings are scanned eight bytes at a time: an escape must be found wherever it falls.
  for (const char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
    for (std::size_t at = 0; at < 19; ++at) {
      std::string text(19, 'x');
      text[at] = special;
      std::string expected = "\"" + std::string(at, 'x');
      expected += special == '"'    ? "\\\""
                  : special == '\\' ? "\\\\"
                  : special == '\n'  ? "\\n"
                  : special == '\x01' ? "\\u0001"
                                      : "\\u001f";
      expected += std::string(18 - at, 'x') + "\"";
      JsonWriter w;
      w.string(text);
      EXPECT_EQ(w.str(), expected) << "escape at " << at;
    }
  }
  JsonWriter w;
  w.string("\x20\x7e\x80\xff \x21\x23\x5b\x5d");
  EXPECT_EQ(w.str(), "\"\x20\x7e\x80\xff \x21\x23\x5b\x5d\"") << "neighbours of the special bytes stay";
}

TEST(Events, DeletedEventCarriesTheSeedsMessageAndSnapshot) {
  const auto at = *parse_rfc3339("2026-05-06T07:08:09.100000Z");
  const Event e = order_deleted_event(sample(), "0190f5d2-0000-7000-8000-000000000001", at);
  EXPECT_EQ(e.type, "orderflow.order.deleted");
  EXPECT_EQ(e.subject, sample().id);
  EXPECT_NE(e.data.find("\"eventType\":\"ORDER_DELETED\""), std::string::npos);
  EXPECT_NE(e.data.find("\"price\":12.50"), std::string::npos);
  EXPECT_NE(e.data.find("\"deletedAt\":\"2026-05-06T07:08:09.100000Z\""), std::string::npos);
  EXPECT_NE(e.data.find("\"order\":{\"orderId\""), std::string::npos);
  const std::string json = e.to_json();
  EXPECT_EQ(json.rfind("{\"specversion\":\"1.0\",\"id\":\"0190f5d2-0000-7000-8000-000000000001\"", 0), 0u);
  EXPECT_NE(json.find("\"source\":\"orderflow\""), std::string::npos);
  EXPECT_NE(json.find("\"time\":\"2026-05-06T07:08:09.100000Z\""), std::string::npos);
}

}  // namespace
}  // namespace orderflow::domain
