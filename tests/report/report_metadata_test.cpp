// The PDF's document information (pdfinfo) and outline (pdftohtml -xml): title, author,
// subject (the deletedAt range), creation date (the report's clock), and bookmarks to the
// summary, the table and every page of it, whose row ranges chain from 1 to the last order.
#include <regex>
#include <string>
#include <vector>

#include "report_fixture.hpp"

namespace orderflow::report_test {
namespace {

using functions::Response;

// "Key:   value" lines of pdfinfo, the value without its padding.
std::string info_field(const std::string& info, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(info, m, std::regex("(^|\n)" + key + ":[ \t]*([^\n]*)"))) return "";
  return m[2];
}

struct Bookmark {
  int page = 0;
  std::string title;
  int depth = 0;  // 0: top level
};

// The outline pdftohtml -xml prints: nested <outline> elements of <item page="n">title</item>.
std::vector<Bookmark> outline_of(const std::string& xml) {
  static const std::regex token(R"re(<outline>|</outline>|<item page="(\d+)">([^<]*)</item>)re");
  std::vector<Bookmark> out;
  int depth = -1;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), token); it != std::sregex_iterator();
       ++it) {
    const std::string whole = (*it)[0];
    if (whole == "<outline>")
      ++depth;
    else if (whole == "</outline>")
      --depth;
    else
      out.push_back(Bookmark{std::stoi((*it)[1]), (*it)[2], depth});
  }
  return out;
}

TEST_F(ReportTest, DocumentInformationNamesTheReportItsRangeAndItsTime) {
  archive(1, "Lamp", "1.00", *domain::parse_rfc3339("2026-11-23T08:00:00Z"));
  archive(2, "Desk", "2.00", *domain::parse_rfc3339("2026-11-24T08:00:00Z"));
  clock_.advance(std::chrono::minutes(90));
  const Response ranged =
      generate({{"from", "2026-11-23T00:00:00Z"}, {"to", "2026-11-24T00:00:00Z"}});
  ASSERT_EQ(ranged.status, 200) << ranged.body;
  const std::string info =
      run_pdf_tool("pdfinfo -isodates", pdf_bytes(report_key(ranged)), tmp_.path());
  EXPECT_EQ(info_field(info, "Title"), "Deleted Orders Report") << info;
  EXPECT_EQ(info_field(info, "Author"), "orderflow") << info;
  EXPECT_EQ(info_field(info, "Creator"), "orderflow") << info;
  EXPECT_EQ(info_field(info, "Subject"),
            "Orders deleted from 2026-11-23 00:00:00 UTC until before 2026-11-24 00:00:00 UTC")
      << info;
  EXPECT_EQ(info_field(info, "CreationDate"), "2026-11-25T11:30:00Z") << info;  // t0 + 90 min

  const Response whole = generate();
  ASSERT_EQ(whole.status, 200) << whole.body;
  const std::string whole_info =
      run_pdf_tool("pdfinfo -isodates", pdf_bytes(report_key(whole)), tmp_.path());
  EXPECT_EQ(info_field(whole_info, "Subject"), "All deleted orders") << whole_info;
}

TEST_F(ReportTest, OutlineLeadsToTheSummaryTheTableAndEveryPage) {
  constexpr int kOrders = 260;
  for (int i = 1; i <= kOrders; ++i) archive(i, "Order number " + std::to_string(i), "3.00");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string pdf = pdf_bytes(report_key(r));
  const int pages = read_pdf(pdf, tmp_.path()).pages;
  ASSERT_GT(pages, 3);

  const std::string xml = run_pdf_tool("pdftohtml -xml -stdout -i -q", pdf, tmp_.path());
  const std::vector<Bookmark> outline = outline_of(xml);
  ASSERT_EQ(outline.size(), static_cast<std::size_t>(2 + pages)) << xml;
  EXPECT_EQ(outline[0].title, "Summary");
  EXPECT_EQ(outline[0].page, 1);
  EXPECT_EQ(outline[0].depth, 0);
  EXPECT_EQ(outline[1].title, "Orders");
  EXPECT_EQ(outline[1].page, 1);
  EXPECT_EQ(outline[1].depth, 0);
  // "Page n: orders a–b", one per page, the ranges adjoining from 1 to the last order.
  const std::regex entry("Page (\\d+): orders (\\d+)\u2013(\\d+)");
  int next_row = 1;
  for (int page = 1; page <= pages; ++page) {
    const Bookmark& b = outline[static_cast<std::size_t>(1 + page)];
    std::smatch m;
    ASSERT_TRUE(std::regex_match(b.title, m, entry)) << b.title;
    EXPECT_EQ(b.depth, 1) << b.title;
    EXPECT_EQ(b.page, page) << b.title;
    EXPECT_EQ(std::stoi(m[1]), page) << b.title;
    EXPECT_EQ(std::stoi(m[2]), next_row) << b.title;
    EXPECT_GE(std::stoi(m[3]), std::stoi(m[2])) << b.title;
    next_row = std::stoi(m[3]) + 1;
  }
  EXPECT_EQ(next_row, kOrders + 1);
}

}  // namespace
}  // namespace orderflow::report_test
