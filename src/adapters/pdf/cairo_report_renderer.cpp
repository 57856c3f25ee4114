// Map: geometry constants; TableLayout (fonts, columns, row heights: shared by both passes);
// PageFlow (where rows go and when a page breaks); the paginator (measures only) and the
// document (draws onto a streaming Cairo PDF surface, with metadata and an outline).
#include "adapters/pdf/cairo_report_renderer.hpp"

#include <cairo-pdf.h>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "adapters/pdf/pango_text.hpp"
#include "domain/time.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters {
namespace {

using pdf::printable_text;
using pdf::TextBox;
using pdf::TextStyle;

constexpr double kPageWidth = 595.2756;  // A4 in points
constexpr double kPageHeight = 841.8898;
constexpr double kMargin = 36;
constexpr double kContentWidth = kPageWidth - 2 * kMargin;
constexpr double kFooterHeight = 16;
constexpr double kTableBottom = kPageHeight - kMargin - kFooterHeight;

// Page 1's summary has a fixed size (the chart always reserves room for 15 bars), so the
// page count depends on the rows alone and the measuring pass needs no header.
constexpr double kTitleTop = kMargin;
constexpr double kGeneratedTop = kMargin + 28;
constexpr double kRangeTop = kMargin + 40;
constexpr double kMetricsTop = kMargin + 56;
constexpr double kMetricsHeight = 46;
constexpr double kMetricsGap = 12;
constexpr double kChartTitleTop = kMetricsTop + kMetricsHeight + 14;
constexpr double kChartTop = kChartTitleTop + 20;
constexpr int kMaxBars = 15;
constexpr double kBarSlot = 13;
constexpr double kBarHeight = 9;
constexpr double kBarLabelWidth = 170;
constexpr double kFirstTableTop = kChartTop + kMaxBars * kBarSlot + 14;

constexpr double kTableFontSize = 7.5;
constexpr double kCellPadX = 3;
constexpr double kCellPadY = 2.5;
constexpr int kMaxDescriptionLines = 4;
// Far more than 4 lines of the narrowest glyph hold: a longer text only costs layout time.
constexpr std::size_t kMaxCellChars = 1000;

constexpr cairo_pdf_outline_flags_t kPlainOutline{};  // closed, regular text

struct Rgb {
  double r, g, b;
};
constexpr Rgb kInk{0.12, 0.16, 0.22};
constexpr Rgb kMuted{0.38, 0.43, 0.50};
constexpr Rgb kPanel{0.93, 0.95, 0.97};
constexpr Rgb kBar{0.23, 0.49, 0.85};
constexpr Rgb kHeaderFill{0.17, 0.24, 0.31};
constexpr Rgb kWhite{1, 1, 1};
constexpr Rgb kZebra{0.955, 0.965, 0.975};
constexpr Rgb kRule{0.80, 0.83, 0.87};

struct Columns {
  double id_x, id_w, price_x, price_w, desc_x, desc_w, date_x, date_w;
};

std::string display_time(domain::Timestamp t) {
  std::string s = domain::format_rfc3339(t);  // 2026-11-25T11:47:14.123456Z
  s[10] = ' ';
  s.resize(19);
  return s + " UTC";
}

// A bound of the deletedAt range: to the second, unless it falls between seconds.
std::string display_bound(domain::Timestamp t) {
  const std::string rfc = domain::format_rfc3339(t);
  const std::string fraction = rfc.substr(19, 7);  // ".123456"
  std::string s = display_time(t);
  if (fraction != ".000000") s.insert(19, fraction);
  return s;
}

// Which orders the report holds: the page's second line and the document's subject.
std::string range_text(const ports::ReportHeader& h) {
  if (h.deleted_from && h.deleted_to)
    return "Orders deleted from " + display_bound(*h.deleted_from) + " until before " +
           display_bound(*h.deleted_to);
  if (h.deleted_from) return "Orders deleted from " + display_bound(*h.deleted_from) + " on";
  if (h.deleted_to) return "Orders deleted before " + display_bound(*h.deleted_to);
  return "All deleted orders";
}

// The metadata's date form (ISO 8601, which cairo turns into a PDF date).
std::string metadata_time(domain::Timestamp t) {
  return domain::format_rfc3339(t).substr(0, 19) + "Z";
}

double text_width(const pdf::Typesetter& ts, std::string_view text, bool bold) {
  TextBox box(ts, TextStyle{kTableFontSize, bold});
  box.set_text(text);
  return box.width();
}

// Each column is as wide as its widest possible value (or its heading); the description
// takes the rest.
Columns measure_columns(const pdf::Typesetter& ts) {
  const auto fit = [&](std::string_view widest, std::string_view heading) {
    return std::max(text_width(ts, widest, false), text_width(ts, heading, true)) + 2 * kCellPadX +
           1;
  };
  Columns c{};
  c.id_w = fit("88888888-8888-8888-8888-888888888888", "Order ID");
  c.price_w = fit("-999999999.99", "Price");
  c.date_w = fit("8888-88-88 88:88:88", "Deleted at (UTC)");
  c.desc_w = kContentWidth - c.id_w - c.price_w - c.date_w;
  c.id_x = kMargin;
  c.price_x = c.id_x + c.id_w;
  c.desc_x = c.price_x + c.price_w;
  c.date_x = c.desc_x + c.desc_w;
  return c;
}

// The fonts, column widths and row heights. Both passes build it the same way and measure
// each row with the same code, so both break pages at the same rows.
class TableLayout {
 public:
  TableLayout()
      : cols_(measure_columns(typesetter_)),
        description_(typesetter_, TextStyle{kTableFontSize, false, cols_.desc_w - 2 * kCellPadX,
                                            kMaxDescriptionLines}) {
    description_.set_text("Ag");
    line_height_ = description_.height();
  }

  // Lays the row's description out in description() and returns the row's height.
  double measure(const ports::ReportRow& row) {
    description_.set_text(printable_text(row.description, kMaxCellChars));
    return std::max(line_height_, description_.height()) + 2 * kCellPadY;
  }

  double header_height() const { return line_height_ + 2 * kCellPadY; }
  double line_height() const { return line_height_; }
  const Columns& columns() const { return cols_; }
  const pdf::Typesetter& typesetter() const { return typesetter_; }
  const TextBox& description() const { return description_; }

 private:
  pdf::Typesetter typesetter_;
  Columns cols_;
  TextBox description_;
  double line_height_ = 0;
};

// Where the next row goes. A row taller than the space left starts a new page; a row always
// fits on an empty page (descriptions are clipped to a few lines).
class PageFlow {
 public:
  explicit PageFlow(double header_height)
      : header_height_(header_height), y_(kFirstTableTop + header_height) {}

  bool needs_new_page(double row_height) const {
    return rows_on_page_ > 0 && y_ + row_height > kTableBottom;
  }
  void new_page() {
    ++page_;
    y_ = kMargin + header_height_;
    rows_on_page_ = 0;
  }
  // Takes room for a row; returns its top.
  double place(double row_height) {
    const double top = y_;
    y_ += row_height;
    ++rows_on_page_;
    return top;
  }
  int page() const { return page_; }
  double table_top() const { return page_ == 1 ? kFirstTableTop : kMargin; }

 private:
  double header_height_;
  double y_;
  int page_ = 1;
  int rows_on_page_ = 0;
};

class CairoPaginator final : public ports::ReportPaginator {
 public:
  CairoPaginator() : flow_(layout_.header_height()) {}

  void add_row(const ports::ReportRow& row) override {
    const double h = layout_.measure(row);
    if (flow_.needs_new_page(h)) flow_.new_page();
    flow_.place(h);
  }
  int page_count() const override { return flow_.page(); }

 private:
  TableLayout layout_;
  PageFlow flow_;
};

struct CairoDestroy {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};

class CairoDocument final : public ports::ReportDocument {
 public:
  CairoDocument(const ports::ReportHeader& header, ports::ByteSink sink)
      : sink_(std::move(sink)),
        flow_(layout_.header_height()),
        declared_pages_(header.page_count),
        footer_title_(printable_text(header.title, 200)),
        id_(ts(), cell(layout_.columns().id_w)),
        price_(ts(), TextStyle{kTableFontSize, false, layout_.columns().price_w - 2 * kCellPadX, 1,
                               PANGO_ALIGN_RIGHT}),
        date_(ts(), cell(layout_.columns().date_w)),
        small_(ts(), TextStyle{kTableFontSize}),
        bold_small_(ts(), TextStyle{kTableFontSize, true}) {
    surface_.reset(cairo_pdf_surface_create_for_stream(&CairoDocument::write_chunk, this,
                                                       kPageWidth, kPageHeight));
    set_metadata(header);
    cr_.reset(cairo_create(surface_.get()));
    try {
      check();
      draw_summary(header);
      draw_table_header();
      check();
    } catch (...) {
      abandoned_ = true;
      throw;
    }
  }

  ~CairoDocument() override {
    // Destroying an unfinished surface finishes it; nobody wants those bytes any more.
    if (!finished_) abandoned_ = true;
    cr_.reset();
    surface_.reset();
  }

  void add_row(const ports::ReportRow& row) override {
    const double h = layout_.measure(row);
    if (flow_.needs_new_page(h)) {
      end_page();
      flow_.new_page();
      draw_table_header();
    }
    const double top = flow_.place(h);
    const Columns& c = layout_.columns();
    if (row_index_++ % 2 == 1) fill(kMargin, top, kContentWidth, h, kZebra);
    color(kInk);
    const double text_top = top + kCellPadY;
    id_.set_text(printable_text(row.order_id, 100));
    id_.draw(cr_.get(), c.id_x + kCellPadX, text_top);
    price_.set_text(printable_text(row.price, 100));
    price_.draw(cr_.get(), c.price_x + kCellPadX, text_top);
    layout_.description().draw(cr_.get(), c.desc_x + kCellPadX, text_top);
    date_.set_text(printable_text(row.deleted_at, 100));
    date_.draw(cr_.get(), c.date_x + kCellPadX, text_top);
  }

  void finish() override {
    end_page();  // the last one: written before the outline that points at it
    add_outline();
    cairo_surface_finish(surface_.get());  // writes the fonts, the outline and the trailer
    check();
    finished_ = true;
  }

 private:
  static TextStyle cell(double column_width) {
    return TextStyle{kTableFontSize, false, column_width - 2 * kCellPadX};
  }
  const pdf::Typesetter& ts() const { return layout_.typesetter(); }

  void set_metadata(const ports::ReportHeader& header) {
    cairo_surface_t* s = surface_.get();
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, footer_title_.c_str());
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR, "orderflow");
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, range_text(header).c_str());
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "orderflow");
    // The report's own time, not the wall clock's: the same input makes the same document.
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE,
                                   metadata_time(header.generated_at).c_str());
  }

  // The rows on the page just done, for its bookmark.
  void note_page_rows() {
    if (row_index_ == page_first_row_) return;
    pages_.push_back(PageRows{flow_.page(), flow_.table_top(), page_first_row_ + 1, row_index_});
    page_first_row_ = row_index_;
  }

  // "Summary", then "Orders" with an entry per page: "Page 2: orders 38–91". Added only once
  // every page is written: cairo 1.16 asserts (or crashes) finishing a surface whose outline
  // points at a page it failed to write.
  void add_outline() {
    cairo_surface_t* s = surface_.get();
    const auto link = [](int page, double top) {
      return "page=" + std::to_string(page) + " pos=[" + std::to_string(kMargin) + " " +
             std::to_string(top) + "]";
    };
    cairo_pdf_surface_add_outline(s, CAIRO_PDF_OUTLINE_ROOT, "Summary", "page=1", kPlainOutline);
    const int orders =
        cairo_pdf_surface_add_outline(s, CAIRO_PDF_OUTLINE_ROOT, "Orders",
                                      link(1, kFirstTableTop).c_str(), CAIRO_PDF_OUTLINE_FLAG_OPEN);
    for (const PageRows& p : pages_) {
      const std::string name = "Page " + std::to_string(p.page) + ": orders " +
                               std::to_string(p.first) + "\xE2\x80\x93" + std::to_string(p.last);
      cairo_pdf_surface_add_outline(s, orders, name.c_str(), link(p.page, p.table_top).c_str(),
                                    kPlainOutline);
    }
  }

  // Cairo cannot take an exception through its C frames: keep it and return an error.
  static cairo_status_t write_chunk(void* closure, const unsigned char* data, unsigned int length) {
    auto* self = static_cast<CairoDocument*>(closure);
    if (self->abandoned_) return CAIRO_STATUS_SUCCESS;
    if (self->sink_failure_) return CAIRO_STATUS_WRITE_ERROR;
    try {
      self->sink_(std::string_view(reinterpret_cast<const char*>(data), length));
      return CAIRO_STATUS_SUCCESS;
    } catch (...) {
      self->sink_failure_ = std::current_exception();
      return CAIRO_STATUS_WRITE_ERROR;
    }
  }

  void check() const {
    if (sink_failure_) std::rethrow_exception(sink_failure_);
    cairo_status_t status = cr_ ? cairo_status(cr_.get()) : CAIRO_STATUS_SUCCESS;
    if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface_.get());
    if (status != CAIRO_STATUS_SUCCESS)
      throw ports::InfraError(ports::InfraError::Kind::permanent,
                              std::string("pdf: ") + cairo_status_to_string(status));
  }

  void color(Rgb c) { cairo_set_source_rgb(cr_.get(), c.r, c.g, c.b); }
  void fill(double x, double y, double w, double h, Rgb c) {
    color(c);
    cairo_rectangle(cr_.get(), x, y, w, h);
    cairo_fill(cr_.get());
  }
  void text(TextBox& box, std::string_view utf8, double x, double y, Rgb c) {
    box.set_text(utf8);
    color(c);
    box.draw(cr_.get(), x, y);
  }

  void draw_summary(const ports::ReportHeader& header) {
    TextBox title(ts(), TextStyle{20, true, kContentWidth});
    text(title, footer_title_, kMargin, kTitleTop, kInk);
    TextBox generated(ts(), TextStyle{9});
    text(generated, "Generated " + display_time(header.generated_at), kMargin, kGeneratedTop,
         kMuted);
    TextBox range(ts(), TextStyle{9, false, kContentWidth});
    text(range, range_text(header), kMargin, kRangeTop, kMuted);

    const double box_w = (kContentWidth - kMetricsGap) / 2;
    TextBox label(ts(), TextStyle{8});
    TextBox value(ts(), TextStyle{16, true, box_w - 20});
    const auto metric = [&](double x, std::string_view name, std::string_view figure) {
      fill(x, kMetricsTop, box_w, kMetricsHeight, kPanel);
      text(label, name, x + 10, kMetricsTop + 7, kMuted);
      text(value, figure, x + 10, kMetricsTop + 19, kInk);
    };
    metric(kMargin, "Deleted orders", std::to_string(header.order_count));
    metric(kMargin + box_w + kMetricsGap, "Total revenue lost", printable_text(header.total, 100));

    const auto bars = std::min<std::size_t>(header.bars.size(), kMaxBars);
    TextBox chart_title(ts(), TextStyle{11, true, kContentWidth});
    text(chart_title, "Top " + std::to_string(bars) + " orders by price", kMargin, kChartTitleTop,
         kInk);
    if (bars == 0) return;

    TextBox bar_label(ts(), TextStyle{kTableFontSize, false, kBarLabelWidth});
    const double price_room = text_width(ts(), "-999999999.99", false) + 6;
    const double bar_x = kMargin + kBarLabelWidth + 6;
    const double bar_room = kContentWidth - (bar_x - kMargin) - price_room;
    std::int64_t max_cents = 1;
    for (std::size_t i = 0; i < bars; ++i)
      max_cents = std::max(max_cents, header.bars[i].price.cents());
    const double text_dy = (kBarSlot - layout_.line_height()) / 2;
    for (std::size_t i = 0; i < bars; ++i) {
      const auto& bar = header.bars[i];
      const double y = kChartTop + static_cast<double>(i) * kBarSlot;
      text(bar_label, printable_text(bar.label, kMaxCellChars), kMargin, y + text_dy, kInk);
      const double share = static_cast<double>(std::max<std::int64_t>(bar.price.cents(), 0)) /
                           static_cast<double>(max_cents);
      const double w = std::max(1.0, bar_room * share);
      fill(bar_x, y + (kBarSlot - kBarHeight) / 2, w, kBarHeight, kBar);
      text(small_, bar.price.to_string(), bar_x + w + 4, y + text_dy, kInk);
    }
    color(kRule);
    cairo_set_line_width(cr_.get(), 0.6);
    cairo_move_to(cr_.get(), bar_x, kChartTop);
    cairo_line_to(cr_.get(), bar_x, kChartTop + static_cast<double>(bars) * kBarSlot);
    cairo_stroke(cr_.get());
  }

  void draw_table_header() {
    const Columns& c = layout_.columns();
    const double top = flow_.table_top();
    fill(kMargin, top, kContentWidth, layout_.header_height(), kHeaderFill);
    const double y = top + kCellPadY;
    text(bold_small_, "Order ID", c.id_x + kCellPadX, y, kWhite);
    const double price_right = c.price_x + c.price_w - kCellPadX;
    bold_small_.set_text("Price");
    color(kWhite);
    bold_small_.draw(cr_.get(), price_right - bold_small_.width(), y);
    text(bold_small_, "Description", c.desc_x + kCellPadX, y, kWhite);
    text(bold_small_, "Deleted at (UTC)", c.date_x + kCellPadX, y, kWhite);
  }

  void draw_footer() {
    const double top = kPageHeight - kMargin - layout_.line_height();
    color(kRule);
    cairo_set_line_width(cr_.get(), 0.5);
    cairo_move_to(cr_.get(), kMargin, top - 4);
    cairo_line_to(cr_.get(), kMargin + kContentWidth, top - 4);
    cairo_stroke(cr_.get());
    TextBox left(ts(), TextStyle{kTableFontSize, false, kContentWidth / 2});
    text(left, footer_title_, kMargin, top, kMuted);
    // The measuring pass gave the page count; never print "page 9 of 8" should rows differ.
    const int total = std::max(declared_pages_, flow_.page());
    small_.set_text("Page " + std::to_string(flow_.page()) + " of " + std::to_string(total));
    small_.draw(cr_.get(), kMargin + kContentWidth - small_.width(), top);
  }

  void end_page() {
    note_page_rows();
    draw_footer();
    cairo_show_page(cr_.get());
    check();
  }

  ports::ByteSink sink_;
  std::exception_ptr sink_failure_;
  bool abandoned_ = false;
  bool finished_ = false;
  TableLayout layout_;
  PageFlow flow_;
  int declared_pages_;
  std::uint64_t row_index_ = 0;
  std::uint64_t page_first_row_ = 0;  // rows drawn before the current page
  struct PageRows {
    int page;
    double table_top;
    std::uint64_t first, last;  // 1-based row numbers
  };
  std::vector<PageRows> pages_;  // one entry per page: a few bytes per ~50 rows
  std::string footer_title_;
  TextBox id_, price_, date_, small_, bold_small_;
  // Declared last so they go first: the surface may still call write_chunk while dying.
  std::unique_ptr<cairo_surface_t, CairoDestroy> surface_;
  std::unique_ptr<cairo_t, CairoDestroy> cr_;
};

}  // namespace

ports::ReportPaginatorPtr CairoReportRenderer::paginate() {
  return std::make_unique<CairoPaginator>();
}

ports::ReportDocumentPtr CairoReportRenderer::begin(const ports::ReportHeader& header,
                                                    ports::ByteSink sink) {
  return std::make_unique<CairoDocument>(header, std::move(sink));
}

}  // namespace orderflow::adapters
