// The ReportRenderer on Cairo + Pango: an A4 portrait PDF streamed page by page through a
// Cairo write callback, all text set by Pango in DejaVu Sans, and in whichever installed font
// fontconfig finds for a character DejaVu lacks (CJK, Thai, most emoji; see install-deps.sh).
#pragma once

#include "ports/report_renderer.hpp"

namespace orderflow::adapters {

// Page 1: title, generation time, the deletedAt range, key metrics, a bar chart of the top
// orders by price, then the table; every page: the table header and a "Page x of y" footer.
// Metadata: title, author and creator "orderflow", the range as subject, generated_at as the
// creation date. Outline: "Summary", and "Orders" with an entry per page. Stateless; each
// paginator and document has its own fonts, so documents may be rendered concurrently.
class CairoReportRenderer final : public ports::ReportRenderer {
 public:
  ports::ReportPaginatorPtr paginate() override;
  ports::ReportDocumentPtr begin(const ports::ReportHeader& header, ports::ByteSink sink) override;
};

}  // namespace orderflow::adapters
