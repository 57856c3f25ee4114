// The Cairo renderer on its own: the measuring pass agrees with the drawing pass, pages are
// streamed before the end, and sink failures reach the caller.
#include <random>
#include <stdexcept>

#include "report_fixture.hpp"

namespace orderflow::report_test {
namespace {

ports::ReportHeader header_for(std::uint64_t rows, int pages) {
  ports::ReportHeader h;
  h.title = "Deleted Orders Report";
  h.generated_at = *domain::parse_rfc3339("2026-11-25T10:00:00Z");
  h.order_count = rows;
  h.total = "0.00";
  h.page_count = pages;
  return h;
}

// Rows of many heights: one line up to the clipped maximum.
struct RowSource {
  std::mt19937 rng{7};
  std::string id, description;
  ports::ReportRow next(int i) {
    id = order_id(i);
    const int words = std::uniform_int_distribution<int>(1, 60)(rng);
    description = "Row " + std::to_string(i);
    for (int w = 0; w < words; ++w) description += " word";
    return ports::ReportRow{id, "12.34", description, "2026-11-24 10:00:00"};
  }
};

TEST(CairoReportRenderer, MeasuredPageCountIsTheDrawnPageCount) {
  TempDir tmp;
  adapters::CairoReportRenderer renderer;
  for (const int rows : {0, 1, 37, 400}) {
    auto paginator = renderer.paginate();
    RowSource measure;
    for (int i = 0; i < rows; ++i) paginator->add_row(measure.next(i));
    const int pages = paginator->page_count();

    std::string pdf;
    auto doc = renderer.begin(header_for(static_cast<std::uint64_t>(rows), pages),
                              [&pdf](std::string_view b) { pdf.append(b); });
    RowSource draw;
    for (int i = 0; i < rows; ++i) doc->add_row(draw.next(i));
    doc->finish();
    const PdfText text = read_pdf(pdf, tmp.path());
    EXPECT_EQ(text.pages, pages) << rows << " rows";
    const std::string n = std::to_string(pages);
    EXPECT_NE(text.text.find("Page " + n + " of " + n), std::string::npos) << rows << " rows";
  }
}

TEST(CairoReportRenderer, PagesReachTheSinkBeforeTheDocumentEnds) {
  adapters::CairoReportRenderer renderer;
  std::size_t before_finish = 0;
  std::string pdf;
  auto doc = renderer.begin(header_for(2000, 1), [&pdf](std::string_view b) { pdf.append(b); });
  RowSource rows;
  for (int i = 0; i < 2000; ++i) doc->add_row(rows.next(i));
  before_finish = pdf.size();
  doc->finish();
  EXPECT_GT(before_finish, pdf.size() / 2);  // most of the document left before finish()
  EXPECT_TRUE(pdf.starts_with("%PDF-"));
  EXPECT_NE(pdf.find("%%EOF", pdf.size() - 16), std::string::npos);
}

TEST(CairoReportRenderer, SinkFailureReachesTheCaller) {
  adapters::CairoReportRenderer renderer;
  const auto render = [&] {
    auto doc = renderer.begin(header_for(500, 1),
                              [](std::string_view) { throw std::runtime_error("disk full"); });
    RowSource rows;
    for (int i = 0; i < 500; ++i) doc->add_row(rows.next(i));
    doc->finish();
  };
  try {
    render();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk full");
  }
}

// The fonts, the outline and the trailer are written by finish(): a sink failing then (after
// several pages went out) is the caller's exception too, and nothing crashes.
TEST(CairoReportRenderer, SinkFailingWhileFinishingReachesTheCaller) {
  adapters::CairoReportRenderer renderer;
  bool finishing = false;
  auto doc = renderer.begin(header_for(300, 1), [&finishing](std::string_view) {
    if (finishing) throw std::runtime_error("disk full at the end");
  });
  RowSource rows;
  for (int i = 0; i < 300; ++i) doc->add_row(rows.next(i));
  finishing = true;
  try {
    doc->finish();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk full at the end");
  }
}

TEST(CairoReportRenderer, AbandonedDocumentStopsWriting) {
  adapters::CairoReportRenderer renderer;
  std::string pdf;
  {
    auto doc = renderer.begin(header_for(100, 1), [&pdf](std::string_view b) { pdf.append(b); });
    RowSource rows;
    for (int i = 0; i < 100; ++i) doc->add_row(rows.next(i));
  }
  EXPECT_EQ(pdf.find("%%EOF"), std::string::npos);
}

TEST(CairoReportRenderer, ChartShowsAtMostFifteenBarsWithExactPrices) {
  TempDir tmp;
  adapters::CairoReportRenderer renderer;
  ports::ReportHeader h = header_for(20, 1);
  for (int i = 20; i >= 1; --i) {
    const std::string label = "Bar " + std::string(i < 10 ? "0" : "") + std::to_string(i);
    h.bars.push_back(ports::ReportBar{label, domain::Money::from_cents(99'999'999'999 - 20 + i)});
  }
  std::string pdf;
  auto doc = renderer.begin(h, [&pdf](std::string_view b) { pdf.append(b); });
  doc->finish();
  const PdfText text = read_pdf(pdf, tmp.path());
  EXPECT_NE(text.text.find("Top 15 orders by price"), std::string::npos);
  EXPECT_NE(text.text.find("Bar 20"), std::string::npos);
  EXPECT_NE(text.text.find("Bar 06"), std::string::npos);
  EXPECT_EQ(text.text.find("Bar 05"), std::string::npos);
  EXPECT_NE(text.text.find(h.bars[0].price.to_string()), std::string::npos);  // 999999999.99
}

}  // namespace
}  // namespace orderflow::report_test
