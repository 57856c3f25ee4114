// GET /reports/deleted-orders?from=&to=: a deletedAt range (from inclusive, to exclusive,
// either optional) chooses the orders; a malformed bound or an empty range is a 400 and
// nothing is rendered; a report is reused only for the range it was made for.
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "report_fixture.hpp"

namespace orderflow::report_test {
namespace {

using functions::Response;
using Query = std::vector<std::pair<std::string, std::string>>;

domain::Timestamp at(std::string_view rfc3339) { return *domain::parse_rfc3339(rfc3339); }

class ReportRange : public ReportTest {
 protected:
  // Four orders deleted on three days; "Late" one microsecond before Nov 24 ends.
  void SetUp() override {
    archive(1, "Early Nov 22", "1.00", at("2026-11-22T09:00:00Z"));
    archive(2, "Start Nov 23", "2.00", at("2026-11-23T00:00:00Z"));
    archive(3, "Noon Nov 23", "4.00", at("2026-11-23T12:00:00Z"));
    archive(4, "Late Nov 24", "8.00", at("2026-11-24T23:59:59.999999Z"));
  }

  // The PDF of a 200 answer, with its "orders" count checked against `orders`.
  PdfText report(const Query& query, std::int64_t orders) {
    const Response r = generate(query);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    EXPECT_EQ(body_of(r).at("orders"), orders) << r.body;
    return pdf_of(report_key(r));
  }

  bool no_report_stored() { return objects_.list("reports/", "", 10).objects.empty(); }
};

bool shows(const PdfText& pdf, std::string_view text) {
  return pdf.text.find(text) != std::string::npos;
}

TEST_F(ReportRange, FromIsInclusiveAndToExclusive) {
  const PdfText pdf = report({{"from", "2026-11-23T00:00:00Z"}, {"to", "2026-11-23T12:00:00Z"}}, 1);
  EXPECT_TRUE(shows(pdf, "Start Nov 23")) << pdf.text;  // deleted at exactly `from`
  EXPECT_FALSE(shows(pdf, "Noon Nov 23")) << pdf.text;  // deleted at exactly `to`
  EXPECT_FALSE(shows(pdf, "Early Nov 22"));
  EXPECT_FALSE(shows(pdf, "Late Nov 24"));
  EXPECT_TRUE(std::regex_search(pdf.text,
                                std::regex(R"(Deleted orders\s+Total revenue lost\s+1\s+2\.00\b)")))
      << pdf.text;
  EXPECT_TRUE(shows(pdf,
                    "Orders deleted from 2026-11-23 00:00:00 UTC until before "
                    "2026-11-23 12:00:00 UTC"))
      << pdf.text;
}

TEST_F(ReportRange, EitherEndIsOptional) {
  const PdfText since = report({{"from", "2026-11-23T12:00:00Z"}}, 2);
  EXPECT_TRUE(shows(since, "Noon Nov 23"));
  EXPECT_TRUE(shows(since, "Late Nov 24"));
  EXPECT_FALSE(shows(since, "Start Nov 23"));
  EXPECT_TRUE(shows(since, "Orders deleted from 2026-11-23 12:00:00 UTC on")) << since.text;
  EXPECT_TRUE(std::regex_search(since.text, std::regex(R"(\b2\s+12\.00\b)"))) << since.text;

  const PdfText before = report({{"to", "2026-11-24T23:59:59.999999Z"}}, 3);
  EXPECT_FALSE(shows(before, "Late Nov 24"));
  EXPECT_TRUE(shows(before, "Early Nov 22"));
  EXPECT_TRUE(shows(before, "Orders deleted before 2026-11-24 23:59:59.999999 UTC")) << before.text;

  const PdfText all = report({}, 4);
  EXPECT_TRUE(shows(all, "All deleted orders")) << all.text;
}

TEST_F(ReportRange, OffsetsAndFractionsAreHonoured) {
  // 2026-11-25T01:59:59.999999+02:00 is 23:59:59.999999Z on Nov 24: the last order is in.
  report({{"from", "2026-11-24T23:59:59.999999Z"}, {"to", "2026-11-25T02:00:00+02:00"}}, 1);
  // 2026-11-22T23:00:00-01:00 is midnight UTC on Nov 23.
  report({{"to", "2026-11-22T23:00:00-01:00"}}, 1);
  report({{"from", "2026-11-23T00:00:00.000001+00:00"}}, 2);
}

TEST_F(ReportRange, MalformedBoundsAreRejectedAndNothingIsRendered) {
  const std::string from_message =
      "from must be an RFC 3339 timestamp such as 2026-11-01T00:00:00Z (write a + in an offset "
      "as %2B)";
  for (const std::string bad :
       {"", "yesterday", "2026-11-23", "2026-11-23T00:00:00", "2026-11-23 00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-23T24:00:00Z",
        "2026-11-23T00:00:00+24:00", "2026-11-23T00:00:00 02:00", "2026-11-23T00:00:00Z junk",
        "1732320000"}) {
    const Response r = generate({{"from", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.body,
              R"({"status":"error","message":")" + from_message + R"(","code":"validation"})")
        << bad;
  }
  const Response r = generate({{"from", "2026-11-23T00:00:00Z"}, {"to", "soon"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_of(r).at("code"), "validation");
  EXPECT_EQ(body_of(r).at("message"),
            "to must be an RFC 3339 timestamp such as 2026-11-01T00:00:00Z (write a + in an "
            "offset as %2B)");
  EXPECT_TRUE(no_report_stored());
}

TEST_F(ReportRange, EmptyOrReversedRangeIsRejected) {
  const std::string message =
      R"json({"status":"error","message":"from must be earlier than to (the range is from inclusive, to exclusive)","code":"validation"})json";
  const Response same =
      generate({{"from", "2026-11-23T00:00:00Z"}, {"to", "2026-11-23T00:00:00Z"}});
  EXPECT_EQ(same.status, 400);
  EXPECT_EQ(same.body, message);
  // The same instant written in two offsets is still an empty range.
  const Response same_instant =
      generate({{"from", "2026-11-23T02:00:00+02:00"}, {"to", "2026-11-23T00:00:00Z"}});
  EXPECT_EQ(same_instant.status, 400);
  EXPECT_EQ(same_instant.body, message);
  const Response reversed =
      generate({{"from", "2026-11-24T00:00:00Z"}, {"to", "2026-11-23T00:00:00Z"}});
  EXPECT_EQ(reversed.status, 400);
  EXPECT_EQ(reversed.body, message);
  EXPECT_TRUE(no_report_stored());
}

TEST_F(ReportRange, RangeWithoutOrdersIsNotFound) {
  const Response r = generate({{"from", "2026-12-01T00:00:00Z"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(
      r.body,
      R"({"status":"error","message":"No deleted orders found in the requested range","code":"not_found"})");
  EXPECT_TRUE(no_report_stored());
}

TEST_F(ReportRange, AReportIsReusedOnlyForItsOwnRange) {
  const Query nov23{{"from", "2026-11-23T00:00:00Z"}, {"to", "2026-11-24T00:00:00Z"}};
  const Response first = generate(nov23);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(body_of(first).at("orders"), 2);
  // The same instants written otherwise are the same range.
  const Response again =
      generate({{"from", "2026-11-23T01:00:00+01:00"}, {"to", "2026-11-24T00:00:00.000Z"}});
  EXPECT_EQ(report_key(again), report_key(first));
  EXPECT_EQ(body_of(again).at("orders"), 2);

  const Response whole = generate();
  ASSERT_EQ(whole.status, 200);
  EXPECT_NE(report_key(whole), report_key(first));
  EXPECT_EQ(body_of(whole).at("orders"), 4);
  EXPECT_EQ(report_key(generate()), report_key(whole));

  const Response other = generate({{"from", "2026-11-23T00:00:00Z"}});
  ASSERT_EQ(other.status, 200);
  EXPECT_NE(report_key(other), report_key(whole));
  EXPECT_EQ(body_of(other).at("orders"), 3);
}

}  // namespace
}  // namespace orderflow::report_test
