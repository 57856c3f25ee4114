// The ReportRenderer port: turns a summary and a stream of rows into a paged document (the
// deleted-orders report). Rows arrive one at a time and pages leave as they are finished, so
// memory stays bounded however many rows there are.
//
// "page x of y" needs y before page 1 is done, so rendering takes two passes over the same
// rows: a Paginator measures them and says how many pages they fill, then a Document draws
// them with that page count in its header. The page count depends only on the rows (the
// summary block on page 1 has a fixed size), which is why the Paginator needs no header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.hpp"
#include "domain/time.hpp"

namespace orderflow::ports {

struct ReportBar {
  std::string label;  // e.g. the order's description; the renderer shortens it to fit
  domain::Money price;
};

struct ReportHeader {
  std::string title;               // also the document's title in its metadata
  domain::Timestamp generated_at;  // also its creation date
  // The deletedAt range the rows were chosen by (from inclusive, to exclusive; unset: open).
  std::optional<domain::Timestamp> deleted_from;
  std::optional<domain::Timestamp> deleted_to;
  std::uint64_t order_count = 0;
  std::string total;            // exact decimal text, e.g. "1234.50"
  std::vector<ReportBar> bars;  // highest price first; the renderer draws at most 15
  int page_count = 1;           // from a Paginator fed the same rows
};

// One table row. The views need only live for the call that receives them.
struct ReportRow {
  std::string_view order_id;
  std::string_view price;        // exact decimal text
  std::string_view description;  // any UTF-8 text; drawn literally, never read as markup
  std::string_view deleted_at;   // as it should be shown
};

// Receives the document's bytes in order, as they are produced. May throw to abort.
using ByteSink = std::function<void(std::string_view bytes)>;

// Pass 1: lays rows out without drawing them.
class ReportPaginator {
 public:
  virtual ~ReportPaginator() = default;
  virtual void add_row(const ReportRow& row) = 0;
  // Pages the rows added so far fill (at least 1: page 1 holds the summary).
  virtual int page_count() const = 0;
};

// Pass 2: draws the rows, writing finished pages to the sink. finish() writes the rest of
// the document; a document dropped without finish() is abandoned (the sink got a prefix).
class ReportDocument {
 public:
  virtual ~ReportDocument() = default;
  virtual void add_row(const ReportRow& row) = 0;
  virtual void finish() = 0;
};

using ReportPaginatorPtr = std::unique_ptr<ReportPaginator>;
using ReportDocumentPtr = std::unique_ptr<ReportDocument>;

// Failures (the sink threw, the drawing library failed) surface as exceptions from add_row()
// or finish(): the sink's own exception, or InfraError. A renderer is thread-safe; each
// paginator or document belongs to one thread at a time.
class ReportRenderer {
 public:
  virtual ~ReportRenderer() = default;
  virtual ReportPaginatorPtr paginate() = 0;
  virtual ReportDocumentPtr begin(const ReportHeader& header, ByteSink sink) = 0;
};

}  // namespace orderflow::ports
