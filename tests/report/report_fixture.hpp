// The report tests' world: a real file object store and a real SQLite archive index in a temp
// dir, the Cairo renderer, a clock the test moves, and the PDF read back with poppler-utils (pdftotext, pdfinfo).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "adapters/pdf/cairo_report_renderer.hpp"
#include "adapters/sqlite/sqlite_stores.hpp"
#include "functions/report_functions.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::report_test {

using TempDir = test_support::TempDir;

class FakeClock final : public ports::Clock {
 public:
  explicit FakeClock(domain::Timestamp t) : now_(t) {}
  domain::Timestamp now() const override { return now_; }
  void advance(std::chrono::microseconds d) { now_ += d; }

 private:
  domain::Timestamp now_;
};

class CountingIds final : public ports::IdGenerator {
 public:
  std::string new_id() override;

 private:
  std::atomic<int> next_{1};  // report jobs take ids on their own threads
};

// What poppler reads back from a PDF.
struct PdfText {
  std::string text;  // pdftotext -layout
  int pages = 0;     // pdfinfo
  std::string bbox;  // pdftotext -bbox: one <word xMin= yMin= xMax= yMax=> per word
};
PdfText read_pdf(std::string_view bytes, const std::filesystem::path& dir);
// The standard output of a poppler-utils command run on the PDF, e.g. "pdffonts" or
// "pdfinfo -isodates" (the file name is appended); a failing command fails the test.
std::string run_pdf_tool(std::string_view command, std::string_view bytes,
                         const std::filesystem::path& dir);

// Every word box pdftotext -bbox reports, in points from the top-left corner.
struct WordBox {
  double x_min, y_min, x_max, y_max;
  std::string word;
};
std::vector<WordBox> word_boxes(const std::string& bbox_html);

// How many times `needle` occurs in `haystack`.
std::size_t count_of(std::string_view haystack, std::string_view needle);

// "0000000N-0000-4000-8000-00000000000N"-style ids that sort in the order they are numbered.
std::string order_id(int n);

class ReportTest : public ::testing::Test {
 protected:
  static domain::Timestamp t0();  // 2026-11-25T10:00:00Z

  // Archives one deleted order the way archive_deleted_order does (object, then index entry);
  // returns its id. Deleted at
  // t0() - 24 h + n s unless `deleted_at` says otherwise.
  std::string archive(int n, std::string_view description, std::string_view price,
                      std::optional<domain::Timestamp> deleted_at = std::nullopt);
  functions::Response generate();
  // With these query parameters (decoded), e.g. {{"from", "2026-11-24T00:00:00Z"}}.
  functions::Response generate(std::vector<std::pair<std::string, std::string>> query);
  static boost::json::object body_of(const functions::Response& r);
  // The object key inside the response's pdf_url.
  static std::string report_key(const functions::Response& r);
  PdfText pdf_of(const std::string& key);
  std::string pdf_bytes(const std::string& key);
  bool exists(const std::string& key);

  TempDir tmp_;
  FakeClock clock_{t0()};
  CountingIds ids_;
  adapters::HmacSigner signer_{"report-test-secret-0123456789abcdef"};
  adapters::FileObjectStore objects_{tmp_.path() / "objects", "http://127.0.0.1:9", signer_,
                                     clock_};
  adapters::SqliteStores stores_ =
      adapters::open_sqlite_stores({.path = (tmp_.path() / "orderflow.db").string()});
  ports::ArchiveIndex& index_ = *stores_.archive;
  adapters::CairoReportRenderer renderer_;
  functions::ReportContext ctx_{objects_, index_, renderer_, clock_, ids_};
};

}  // namespace orderflow::report_test
