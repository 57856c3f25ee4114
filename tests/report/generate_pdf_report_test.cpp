// generate_pdf_report end to end over a real file object store: the PDF is read back with
// poppler-utils and checked for what a reader of the report would look for.
#include <atomic>
#include <functional>
#include <regex>
#include <set>
#include <thread>

#include "functions/deleted_order.hpp"
#include "report_fixture.hpp"

namespace orderflow::report_test {
namespace {

using functions::Response;

TEST_F(ReportTest, EmptyArchiveIsNotFound) {
  const Response r = generate();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"status":"error","message":"No deleted orders found","code":"not_found"})");
  EXPECT_TRUE(objects_.list("reports/", "", 10).objects.empty());
}

TEST_F(ReportTest, ArchiveOfOnlyUnreadableObjectsIsNotFound) {
  objects_.put("deleted_orders/broken.json", "{not json", "application/json");
  const Response r = generate();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(body_of(r).at("code"), "not_found");
}

TEST_F(ReportTest, AnswersWithPresignedLinkToStoredPdf) {
  archive(1, "Desk lamp", "19.99");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_of(r);
  EXPECT_EQ(body.at("status"), "success");
  EXPECT_EQ(body.at("orders"), 1);
  EXPECT_EQ(body.at("skipped"), 0);
  EXPECT_EQ(body.at("expiresAt"), "2026-11-25T11:00:00.000000Z");
  const std::string url(body.at("pdf_url").as_string());
  EXPECT_TRUE(
      url.starts_with("http://127.0.0.1:9/objects/reports/deleted_orders_20261125T100000Z_"))
      << url;
  const std::string key = report_key(r);
  EXPECT_TRUE(
      std::regex_match(key, std::regex(R"(reports/deleted_orders_\d{8}T\d{6}Z_[0-9a-f-]+\.pdf)")))
      << key;
  // The link is the store's own signed link for that key, valid for an hour.
  const std::string expires = url.substr(url.find("expires=") + 8, 10);
  const std::string signature = url.substr(url.find("signature=") + 10);
  EXPECT_EQ(objects_.check_link(key, expires, signature), adapters::FileObjectStore::LinkCheck::ok);
  clock_.advance(std::chrono::minutes(61));
  EXPECT_EQ(objects_.check_link(key, expires, signature),
            adapters::FileObjectStore::LinkCheck::expired);
}

TEST_F(ReportTest, ShowsCountExactTotalAndEveryOrder) {
  const std::string a = archive(1, "Cheap sticker", "0.10");
  const std::string b = archive(2, "Another sticker", "0.20");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const PdfText pdf = pdf_of(report_key(r));
  EXPECT_NE(pdf.text.find("Deleted Orders Report"), std::string::npos) << pdf.text;
  EXPECT_NE(pdf.text.find("Generated 2026-11-25 10:00:00 UTC"), std::string::npos) << pdf.text;
  EXPECT_TRUE(std::regex_search(pdf.text,
                                std::regex(R"(Deleted orders\s+Total revenue lost\s+2\s+0\.30\b)")))
      << pdf.text;
  for (const auto& needle : {a, b, std::string("Cheap sticker"), std::string("Another sticker"),
                             std::string("0.10"), std::string("0.20")})
    EXPECT_NE(pdf.text.find(needle), std::string::npos) << needle << "\n" << pdf.text;
  EXPECT_EQ(pdf.pages, 1);
  EXPECT_NE(pdf.text.find("Page 1 of 1"), std::string::npos);
}

TEST_F(ReportTest, ChartHoldsTheFifteenMostExpensiveOrders) {
  for (int i = 1; i <= 20; ++i)
    archive(i, "Item " + std::to_string(100 + i), std::to_string(i) + ".00");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const PdfText pdf = pdf_of(report_key(r));
  const std::string chart = pdf.text.substr(0, pdf.text.find("Order ID"));
  EXPECT_NE(chart.find("Top 15 orders by price"), std::string::npos);
  for (int i = 6; i <= 20; ++i)
    EXPECT_NE(chart.find("Item " + std::to_string(100 + i)), std::string::npos) << i;
  for (int i = 1; i <= 5; ++i)
    EXPECT_EQ(chart.find("Item " + std::to_string(100 + i)), std::string::npos) << i;
  EXPECT_LT(chart.find("Item 120"), chart.find("Item 119"));  // highest first
}

TEST_F(ReportTest, LargeTotalsAreExact) {
  for (int i = 1; i <= 7; ++i) archive(i, "Expensive machine", "999999999.99");
  archive(8, "Change", "0.01");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const PdfText pdf = pdf_of(report_key(r));
  // 7 x 999999999.99 + 0.01: a double would print 6999999999.94 or worse.
  EXPECT_NE(pdf.text.find("6999999999.94"), std::string::npos) << pdf.text;
  EXPECT_TRUE(std::regex_search(pdf.text, std::regex(R"(\b8\s+6999999999\.94\b)"))) << pdf.text;
}

TEST_F(ReportTest, PagesGrowWithTheArchiveAndEveryPageHasHeaderAndFooter) {
  for (int i = 1; i <= 10; ++i) archive(i, "Small order " + std::to_string(i), "5.00");
  const Response small = generate();
  ASSERT_EQ(small.status, 200) << small.body;
  const PdfText few = pdf_of(report_key(small));

  std::vector<std::string> ids;
  for (int i = 11; i <= 300; ++i) {
    // Some rows wrap over several lines, as real descriptions do.
    const std::string extra = i % 7 == 0 ? " with a much longer description that has to wrap onto "
                                           "a second and maybe a third line of its cell"
                                         : "";
    ids.push_back(
        archive(i, "Order number " + std::to_string(i) + extra, std::to_string(i) + ".25"));
  }
  const Response big = generate();
  ASSERT_EQ(big.status, 200) << big.body;
  EXPECT_EQ(body_of(big).at("orders"), 300);
  const PdfText many = pdf_of(report_key(big));

  EXPECT_EQ(few.pages, 1);
  EXPECT_GT(many.pages, 5);
  const std::string n = std::to_string(many.pages);
  EXPECT_NE(many.text.find("Page 1 of " + n), std::string::npos);
  EXPECT_NE(many.text.find("Page " + n + " of " + n), std::string::npos);
  EXPECT_EQ(count_of(many.text, " of " + n), static_cast<std::size_t>(many.pages));
  // The table header is repeated at the top of every page.
  EXPECT_EQ(count_of(many.text, "Order ID"), static_cast<std::size_t>(many.pages));
  EXPECT_EQ(count_of(many.text, "Deleted at (UTC)"), static_cast<std::size_t>(many.pages));
  for (const auto& id : ids) EXPECT_NE(many.text.find(id), std::string::npos) << id;
  for (int i = 11; i <= 300; i += 13)
    EXPECT_NE(many.text.find("Order number " + std::to_string(i)), std::string::npos) << i;
  // 300 rows and 10 rows: the exact sum of 11.25 .. 300.25 plus 10 x 5.00.
  EXPECT_NE(many.text.find("45217.50"), std::string::npos);
}

TEST_F(ReportTest, EverythingStaysInsideTheMargins) {
  archive(1, std::string(3000, 'W'), "1.00");  // one unbreakable, enormous word
  for (int i = 2; i <= 120; ++i)
    archive(i,
            "Row " + std::to_string(i) + " " +
                std::string(static_cast<std::size_t>(i % 40) * 7, 'x') + " tail words that wrap",
            "999999999.99");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const PdfText pdf = pdf_of(report_key(r));
  const auto boxes = word_boxes(pdf.bbox);
  ASSERT_GT(boxes.size(), 500u);
  const double margin = 36 - 0.5;  // A4 is 595.28 x 841.89 points
  for (const WordBox& b : boxes) {
    EXPECT_GE(b.x_min, margin) << b.word;
    EXPECT_GE(b.y_min, margin) << b.word;
    EXPECT_LE(b.x_max, 595.28 - margin) << b.word;
    EXPECT_LE(b.y_max, 841.89 - margin) << b.word;
  }
}

TEST_F(ReportTest, HugeOrMultilineDescriptionsAreClippedToAFewLines) {
  std::string many_lines;
  for (int i = 0; i < 200; ++i) many_lines += "line " + std::to_string(i) + "\n";
  archive(1, many_lines, "1.00");
  archive(2, std::string(200'000, 'a') + " end", "2.00");
  archive(3, "Normal row", "3.00");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const PdfText pdf = pdf_of(report_key(r));
  EXPECT_EQ(pdf.pages, 1) << pdf.text;
  EXPECT_NE(pdf.text.find("Normal row"), std::string::npos);
}

TEST_F(ReportTest, UserTextIsShownLiterallyNeverAsMarkup) {
  archive(1, "<b>bold</b> & <i>", "1.00");
  archive(2, "Emoji \xF0\x9F\x98\x80 smile", "2.00");              // U+1F600
  archive(3, "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "3.00");          // Hebrew "shalom"
  archive(4, "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7", "4.00");  // Arabic "marhaba"
  archive(5, "&amp; &lt;script&gt; <span foreground=\"red\">x</span>", "5.00");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("orders"), 5);
  const PdfText pdf = pdf_of(report_key(r));
  for (const std::string needle :
       {"<b>bold</b> & <i>", "Emoji \xF0\x9F\x98\x80 smile", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D",
        "&amp; &lt;script&gt; <span foreground=\"red\">x</span>"})
    EXPECT_NE(pdf.text.find(needle), std::string::npos) << needle << "\n" << pdf.text;
  // pdftotext splits an Arabic word where its letters do not join (after the reh: "mr hba"),
  // a word-break guess of poppler's; the letters themselves come back in logical order.
  std::string unspaced = pdf.text;
  std::erase(unspaced, ' ');
  EXPECT_NE(unspaced.find("\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7"), std::string::npos)
      << pdf.text;
}

TEST_F(ReportTest, UnreadableArchiveObjectIsSkippedNotFatal) {
  archive(1, "Good one", "1.50");
  archive(2, "Good two", "2.50");
  objects_.put("deleted_orders/" + order_id(3) + ".json", R"({"orderId":"oops","price":"NaN"})",
               "application/json");
  objects_.put("deleted_orders/" + order_id(4) + ".json", "\xFF\xFE not even text",
               "application/json");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("orders"), 2);
  EXPECT_EQ(body_of(r).at("skipped"), 2);
  const PdfText pdf = pdf_of(report_key(r));
  EXPECT_TRUE(std::regex_search(pdf.text, std::regex(R"(\b2\s+4\.00\b)"))) << pdf.text;
  EXPECT_NE(pdf.text.find("Good one"), std::string::npos);
}

TEST_F(ReportTest, UnchangedArchiveReusesTheReport) {
  archive(1, "First", "1.00");
  const Response first = generate();
  ASSERT_EQ(first.status, 200);
  clock_.advance(std::chrono::minutes(5));
  const Response second = generate();
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(report_key(second), report_key(first));
  EXPECT_EQ(body_of(second).at("orders"), 1);
  EXPECT_EQ(body_of(second).at("expiresAt"), "2026-11-25T11:05:00.000000Z");  // a fresh link
  EXPECT_EQ(objects_.list("reports/deleted_orders_", "", 10).objects.size(), 1u);

  archive(2, "Second", "2.00");
  const Response third = generate();
  ASSERT_EQ(third.status, 200);
  EXPECT_NE(report_key(third), report_key(first));
  EXPECT_EQ(body_of(third).at("orders"), 2);
  EXPECT_NE(pdf_of(report_key(third)).text.find("Second"), std::string::npos);
}

// The real renderer, counting the renders begun; the first one lingers a little so that the
// other requests arrive while it runs (the outcome does not depend on how long).
class CountingRenderer final : public ports::ReportRenderer {
 public:
  explicit CountingRenderer(ports::ReportRenderer& real) : real_(real) {}
  ports::ReportPaginatorPtr paginate() override {
    if (renders.fetch_add(1) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return real_.paginate();
  }
  ports::ReportDocumentPtr begin(const ports::ReportHeader& header,
                                 ports::ByteSink sink) override {
    return real_.begin(header, std::move(sink));
  }
  std::atomic<int> renders{0};

 private:
  ports::ReportRenderer& real_;
};

TEST_F(ReportTest, ConcurrentRequestsShareOneRender) {
  for (int i = 1; i <= 50; ++i) archive(i, "Order " + std::to_string(i), "1.00");
  CountingRenderer counting(renderer_);
  functions::ReportContext ctx{objects_, index_, counting, clock_, ids_};
  constexpr int kRequests = 8;
  std::vector<Response> answers(kRequests);
  {
    std::vector<std::jthread> requests;
    for (int i = 0; i < kRequests; ++i)
      requests.emplace_back([&, i] { answers[static_cast<std::size_t>(i)] = functions::generate_pdf_report(ctx, {}); });
  }
  std::set<std::string> keys;
  for (const Response& r : answers) {
    ASSERT_EQ(r.status, 200) << r.body;
    keys.insert(report_key(r));
  }
  EXPECT_EQ(counting.renders.load(), 1);
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(objects_.list("reports/deleted_orders_", "", 10).objects.size(), 1u);
}

TEST_F(ReportTest, ReportIsRenderedAgainWhenTheReusedPdfIsGone) {
  archive(1, "First", "1.00");
  const Response first = generate();
  ASSERT_TRUE(objects_.remove(report_key(first)));
  const Response second = generate();
  ASSERT_EQ(second.status, 200);
  EXPECT_NE(report_key(second), report_key(first));
  EXPECT_TRUE(exists(report_key(second)));
}

TEST_F(ReportTest, ReportsOlderThanMaxAgeAreRemovedWhenANewOneIsMade) {
  ctx_.max_age = std::chrono::hours(24);
  archive(1, "First", "1.00");
  const std::string oldest = report_key(generate());
  clock_.advance(std::chrono::hours(20));
  archive(2, "Second", "2.00");
  const std::string recent = report_key(generate());
  EXPECT_TRUE(exists(oldest));  // 20 h old: still young enough

  clock_.advance(std::chrono::hours(5));
  archive(3, "Third", "3.00");
  const std::string newest = report_key(generate());
  EXPECT_FALSE(exists(oldest));  // 25 h old
  EXPECT_TRUE(exists(recent));   // 5 h old
  EXPECT_TRUE(exists(newest));
  EXPECT_TRUE(exists("reports/latest.json"));
}

// Forwards to the real store and counts what is asked of the archive (deleted_orders/).
class WatchedStore final : public ports::ObjectStore {
 public:
  explicit WatchedStore(ports::ObjectStore& inner) : inner_(inner) {}
  void put(std::string_view k, std::string_view b, std::string_view t) override {
    inner_.put(k, b, t);
  }
  std::optional<ports::StoredObject> get(std::string_view k) override {
    if (k.starts_with("deleted_orders/")) ++archive_calls;
    return inner_.get(k);
  }
  ports::ObjectPage list(std::string_view prefix, std::string_view token, int limit) override {
    if (std::string_view("deleted_orders/").starts_with(prefix) ||
        prefix.starts_with("deleted_orders/"))
      ++archive_calls;
    return inner_.list(prefix, token, limit);
  }
  bool remove(std::string_view k) override { return inner_.remove(k); }
  std::string presign_get(std::string_view k, std::chrono::seconds ttl) override {
    return inner_.presign_get(k, ttl);
  }
  int archive_calls = 0;

 private:
  ports::ObjectStore& inner_;
};

TEST_F(ReportTest, ArchiveFromBeforeTheIndexIsAddedOnceThenOnlyTheIndexIsRead) {
  // Objects as an older orderflow left them: in the store, not in the index.
  for (int i = 1; i <= 3; ++i) {
    functions::DeletedOrder d;
    d.order.id = order_id(i);
    d.order.description = "Old order " + std::to_string(i);
    d.order.price = *domain::Money::parse("2.00");
    d.deleted_at = t0() - std::chrono::hours(30);
    objects_.put(functions::archive_key(d.order.id), functions::archive_json(d), "application/json");
  }
  objects_.put("deleted_orders/" + order_id(9) + ".json", "{broken", "application/json");
  WatchedStore store(objects_);
  functions::ReportContext ctx{store, index_, renderer_, clock_, ids_};
  const Response first = functions::generate_pdf_report(ctx, {});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(body_of(first).at("orders"), 3);
  EXPECT_EQ(body_of(first).at("skipped"), 1);
  EXPECT_GT(store.archive_calls, 0);  // the backfill listed and read the archive
  EXPECT_TRUE(index_.state().backfilled.has_value());
  EXPECT_EQ(index_.state().count, 3u);

  // From now on a report never lists or reads the archive, however it changes.
  store.archive_calls = 0;
  archive(4, "New order", "5.00");
  const Response second = functions::generate_pdf_report(ctx, {});
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(body_of(second).at("orders"), 4);
  EXPECT_EQ(body_of(second).at("skipped"), 1);
  EXPECT_NE(report_key(second), report_key(first));
  const PdfText pdf = pdf_of(report_key(second));
  EXPECT_TRUE(std::regex_search(pdf.text, std::regex(R"(\b4\s+11\.00\b)"))) << pdf.text;
  EXPECT_NE(pdf.text.find("Old order 2"), std::string::npos) << pdf.text;
  EXPECT_EQ(report_key(functions::generate_pdf_report(ctx, {})), report_key(second));
  EXPECT_EQ(store.archive_calls, 0);
}

TEST_F(ReportTest, AnOrderIndexedTwiceIsReportedOnce) {
  archive(1, "Delivered twice", "3.00");
  archive(1, "Delivered twice", "3.00");  // a redelivered order.deleted
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("orders"), 1);
  EXPECT_EQ(count_of(pdf_of(report_key(r)).text, order_id(1)), 1u);  // one table row
}

// Forwards to the real index, and archives one more order just before the `change_at`th read
// of its first page (with no earlier report, read 1 starts pass 1 and read 2 pass 2).
class IndexThatChanges final : public ports::ArchiveIndex {
 public:
  IndexThatChanges(ports::ArchiveIndex& inner, int change_at, std::function<void()> change)
      : inner_(inner), change_at_(change_at), change_(std::move(change)) {}
  void add(const std::vector<ports::ArchivedOrder>& orders) override { inner_.add(orders); }
  ports::ArchiveIndexState state() override { return inner_.state(); }
  std::vector<ports::ArchivedOrder> page(const ports::ArchivePageQuery& query) override {
    if (query.after.empty() && ++first_pages_ == change_at_) change_();
    return inner_.page(query);
  }
  void mark_backfilled(domain::Timestamp at, std::uint64_t unreadable) override {
    inner_.mark_backfilled(at, unreadable);
  }

 private:
  ports::ArchiveIndex& inner_;
  int change_at_;
  std::function<void()> change_;
  int first_pages_ = 0;
};

TEST_F(ReportTest, AnOrderArchivedDuringARenderWaitsForTheNextReport) {
  archive(1, "Before one", "1.00");
  archive(2, "Before two", "2.00");
  std::string late;
  IndexThatChanges index(index_, 2, [&] { late = archive(3, "Arrived between passes", "4.00"); });
  functions::ReportContext ctx{objects_, index, renderer_, clock_, ids_};
  const Response r = functions::generate_pdf_report(ctx, functions::Request{});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("orders"), 2);
  const PdfText pdf = pdf_of(report_key(r));
  // Header and rows agree: both passes read the entries the index had when the render began.
  EXPECT_TRUE(std::regex_search(pdf.text, std::regex(R"(\b2\s+3\.00\b)"))) << pdf.text;
  EXPECT_EQ(pdf.text.find(late), std::string::npos) << pdf.text;
  // The index has changed since, so the next report is new and has it.
  const Response next = generate();
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_NE(report_key(next), report_key(r));
  EXPECT_EQ(body_of(next).at("orders"), 3);
  EXPECT_NE(pdf_of(report_key(next)).text.find(late), std::string::npos);
}

}  // namespace
}  // namespace orderflow::report_test
