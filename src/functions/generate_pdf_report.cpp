// GET /reports/deleted-orders. Map: the from/to query (a deletedAt range); the archive index's
// backfill and fingerprint; one streamed pass over the index (scan_index); the summary of
// pass 1 (count, exact total, top 15); render() = measure + draw; the reuse record
// reports/latest.json; removal of old reports; the function.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/json_writer.hpp"
#include "domain/result.hpp"
#include "functions/deleted_order.hpp"
#include "functions/json_body.hpp"
#include "functions/report_functions.hpp"

namespace orderflow::functions {
namespace {

constexpr std::string_view kArchivePrefix = "deleted_orders/";
constexpr std::string_view kReportPrefix = "reports/deleted_orders_";
constexpr std::string_view kLatestKey = "reports/latest.json";
constexpr std::string_view kTitle = "Deleted Orders Report";
constexpr int kListPageSize = 10000;          // S3 adapters return at most 1000 anyway
constexpr std::size_t kIndexPageSize = 1000;  // index entries read or added at once
constexpr std::size_t kTopBars = 15;
constexpr std::chrono::hours kLinkLifetime{1};
// On PostgreSQL an entry may become visible after one with a greater sequence number, so pass 2
// may see more entries than pass 1; render again rather than print a header that disagrees
// with the rows, but not forever.
constexpr int kMaxRenderAttempts = 3;
constexpr std::uint64_t kProgressEvery = 100;  // rows between two progress reports

// A two-digit number at text[pos], or -1.
int two_digits(std::string_view text, std::size_t pos) {
  const auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (!digit(pos) || !digit(pos + 1)) return -1;
  return (text[pos] - '0') * 10 + (text[pos + 1] - '0');
}

// An RFC 3339 timestamp with any offset. domain::parse_rfc3339 reads UTC ("Z", "+00:00") only,
// so a numeric offset is taken off here and applied to the UTC reading of the rest.
std::optional<domain::Timestamp> parse_instant(std::string_view text) {
  if (auto utc = domain::parse_rfc3339(text)) return utc;
  constexpr std::size_t kOffsetChars = 6;  // "+hh:mm"
  if (text.size() <= kOffsetChars) return std::nullopt;
  const std::string_view zone = text.substr(text.size() - kOffsetChars);
  const int hours = two_digits(zone, 1);
  const int minutes = two_digits(zone, 4);
  if ((zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || hours < 0 || hours > 23 ||
      minutes < 0 || minutes > 59)
    return std::nullopt;
  const auto local =
      domain::parse_rfc3339(std::string(text.substr(0, text.size() - kOffsetChars)) + "Z");
  if (!local) return std::nullopt;
  const auto offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
  return zone[0] == '+' ? *local - offset : *local + offset;
}

}  // namespace

std::string DeletedRange::tag() const {
  if (!from && !to) return "";
  return ";from=" + (from ? domain::format_rfc3339(*from) : "") +
         ";to=" + (to ? domain::format_rfc3339(*to) : "");
}

domain::Result<DeletedRange> requested_range(const Request& req) {
  DeletedRange range;
  for (const auto& [name, end] : {std::pair{"from", &range.from}, std::pair{"to", &range.to}}) {
    const std::string* text = req.query_param(name);
    if (text == nullptr) continue;
    *end = parse_instant(*text);
    if (!*end)
      return domain::fail(std::string(name) +
                          " must be an RFC 3339 timestamp such as 2026-11-01T00:00:00Z (write a "
                          "+ in an offset as %2B)");
  }
  if (range.from && range.to && *range.from >= *range.to)
    return domain::fail("from must be earlier than to (the range is from inclusive, to exclusive)");
  return range;
}

namespace {

// Calls visit(info) for every object whose key starts with `prefix`, one listing page at a time.
template <class Visit>
void for_each_object(ports::ObjectStore& objects, std::string_view prefix, Visit&& visit) {
  std::string token;
  do {
    ports::ObjectPage page = objects.list(prefix, token, kListPageSize);
    for (const ports::ObjectInfo& info : page.objects) visit(info);
    token = std::move(page.next_token);
  } while (!token.empty());
}

// Adds the archive objects written before the index existed, once per database: the first
// report after the upgrade lists and reads the archive; every later one reads the index alone.
// Entries the archive function added meanwhile are kept (add() leaves them as they are).
void backfill_index(ReportContext& ctx) {
  std::vector<ports::ArchivedOrder> batch;
  std::uint64_t unreadable = 0;
  for_each_object(ctx.objects, kArchivePrefix, [&](const ports::ObjectInfo& info) {
    const auto stored = ctx.objects.get(info.key);
    const auto deleted = stored ? read_archive_json(stored->bytes) : std::nullopt;
    if (!deleted) {
      ++unreadable;  // not archive JSON, or gone since it was listed
      return;
    }
    batch.push_back(index_entry(*deleted));
    if (batch.size() >= kIndexPageSize) {
      ctx.archive.add(batch);
      batch.clear();
    }
  });
  ctx.archive.add(batch);
  ctx.archive.mark_backfilled(ctx.clock.now(), unreadable);
}

// The index's state; backfilled first if it has not been.
ports::ArchiveIndexState index_state(ReportContext& ctx) {
  ports::ArchiveIndexState state = ctx.archive.state();
  if (state.backfilled) return state;
  const std::lock_guard one_render(*ctx.rendering);
  state = ctx.archive.state();
  if (state.backfilled) return state;  // another request did it while this one waited
  backfill_index(ctx);
  return ctx.archive.state();
}

// Names the index's contents: entries are only ever added, each with a greater sequence number.
std::string fingerprint(const ports::ArchiveIndexState& state) {
  return "ix1-" + std::to_string(state.count) + "-" + std::to_string(state.newest);
}

// One pass over the index entries in the range, up to sequence number `newest`, a page at a
// time: on_order(entry) for each, in order id order. Returns how many there were.
template <class OnOrder>
std::uint64_t scan_index(ports::ArchiveIndex& index, const DeletedRange& range, std::int64_t newest,
                         OnOrder&& on_order) {
  ports::ArchivePageQuery query{.after = {},
                                .newest = newest,
                                .from = range.from,
                                .to = range.to,
                                .limit = static_cast<int>(kIndexPageSize)};
  std::uint64_t orders = 0;
  for (;;) {
    const std::vector<ports::ArchivedOrder> page = index.page(query);
    for (const ports::ArchivedOrder& entry : page) on_order(entry);
    orders += page.size();
    if (page.size() < kIndexPageSize) return orders;
    query.after = page.back().order_id;
  }
}

std::string table_time(domain::Timestamp t) {  // "2026-11-25 11:47:14" (the column says UTC)
  std::string s = domain::format_rfc3339(t);
  s[10] = ' ';
  s.resize(19);
  return s;
}

// Feeds one order to a paginator or a document (same rows, same order, in both passes).
template <class Pass>
void add_order(Pass& pass, const ports::ArchivedOrder& d) {
  const std::string price = d.price.to_string();
  const std::string when = table_time(d.deleted_at);
  pass.add_row(ports::ReportRow{d.order_id, price, d.description, when});
}

// Pass 1's figures: the count, the exact total and the most expensive orders.
class Summary {
 public:
  void add(const ports::ArchivedOrder& d) {
    total_.add(d.price);
    const Top entry{d.price, d.order_id, d.description};
    const auto at = std::upper_bound(top_.begin(), top_.end(), entry, ranks_before);
    if (at == top_.end() && top_.size() >= kTopBars) return;
    top_.insert(at, entry);
    if (top_.size() > kTopBars) top_.pop_back();
  }

  ports::ReportHeader header(domain::Timestamp now, const DeletedRange& range, std::uint64_t orders,
                             int pages) const {
    ports::ReportHeader h;
    h.title = kTitle;
    h.generated_at = now;
    h.deleted_from = range.from;
    h.deleted_to = range.to;
    h.order_count = orders;
    h.total = total_.to_string();
    for (const Top& t : top_) h.bars.push_back(ports::ReportBar{t.description, t.price});
    h.page_count = pages;
    return h;
  }

 private:
  struct Top {
    domain::Money price;
    std::string id;
    std::string description;
  };
  // Highest price first; the order id settles ties so the chart does not depend on luck.
  static bool ranks_before(const Top& a, const Top& b) {
    return a.price != b.price ? a.price > b.price : a.id < b.id;
  }
  domain::MoneySum total_;
  std::vector<Top> top_;
};

struct Rendered {
  std::string pdf;
  std::uint64_t orders = 0;  // drawn, in the range
  bool consistent = true;    // both passes saw the same entries
};

// Pass 1 measures the rows (and sums them up); pass 2 draws them with the page count pass 1
// found. Both read the entries up to `newest`. The document streams into one string: the
// object store takes an object whole.
std::optional<Rendered> render(ReportContext& ctx, domain::Timestamp now, const DeletedRange& range,
                               std::int64_t newest, const ReportProgress& progress) {
  const auto tell = [&progress](std::uint64_t rows, std::uint64_t of) {
    if (progress && rows % kProgressEvery == 0) progress(rows, of);
  };
  for (int attempt = 1;; ++attempt) {
    Summary summary;
    auto paginator = ctx.renderer.paginate();
    std::uint64_t measured = 0;
    scan_index(ctx.archive, range, newest, [&](const ports::ArchivedOrder& d) {
      summary.add(d);
      add_order(*paginator, d);
      tell(++measured, 0);
    });
    if (measured == 0) return std::nullopt;
    const ports::ReportHeader header =
        summary.header(now, range, measured, paginator->page_count());
    paginator.reset();

    Rendered out;
    auto document =
        ctx.renderer.begin(header, [&out](std::string_view bytes) { out.pdf.append(bytes); });
    std::uint64_t drawn = 0;
    if (progress) progress(0, measured);
    scan_index(ctx.archive, range, newest, [&](const ports::ArchivedOrder& d) {
      add_order(*document, d);
      tell(++drawn, measured);
    });
    out.consistent = drawn == measured;
    if (!out.consistent && attempt < kMaxRenderAttempts) continue;
    document->finish();
    out.orders = measured;  // the figure the header shows
    return out;
  }
}

struct LatestReport {
  std::string fingerprint;
  std::string key;
  std::uint64_t orders = 0;
  std::uint64_t skipped = 0;
};

std::string latest_json(const LatestReport& l) {
  domain::JsonWriter w;
  w.begin_object()
      .field("fingerprint", l.fingerprint)
      .field("key", l.key)
      .field("orders", static_cast<std::int64_t>(l.orders))
      .field("skipped", static_cast<std::int64_t>(l.skipped))
      .end_object();
  return w.take();
}

std::optional<std::uint64_t> count_member(const JsonBody& body, std::string_view name) {
  const JsonMember* m = body.find(name);
  std::uint64_t n = 0;
  if (m == nullptr || m->kind != JsonMember::Kind::number) return std::nullopt;
  const auto [end, ec] = std::from_chars(m->text.data(), m->text.data() + m->text.size(), n);
  if (ec != std::errc{} || end != m->text.data() + m->text.size()) return std::nullopt;
  return n;
}

// A record that is missing or unreadable simply means "nothing to reuse".
std::optional<LatestReport> read_latest(ports::ObjectStore& objects) {
  const auto stored = objects.get(kLatestKey);
  if (!stored) return std::nullopt;
  const auto body = parse_json_object(stored->bytes);
  if (!body) return std::nullopt;
  const JsonMember* fingerprint = body->find("fingerprint");
  const JsonMember* key = body->find("key");
  const auto orders = count_member(*body, "orders");
  const auto skipped = count_member(*body, "skipped");
  if (!fingerprint || !key || fingerprint->kind != JsonMember::Kind::string ||
      key->kind != JsonMember::Kind::string || !orders || !skipped ||
      !key->text.starts_with(kReportPrefix))
    return std::nullopt;
  return LatestReport{fingerprint->text, key->text, *orders, *skipped};
}

// Listing, not get(): the report may be large and only its existence matters here.
bool object_exists(ports::ObjectStore& objects, std::string_view key) {
  const ports::ObjectPage page = objects.list(key, "", 1);
  return !page.objects.empty() && page.objects.front().key == key;
}

std::string compact_time(domain::Timestamp t) {  // "20261125T114714Z"
  const std::string s = domain::format_rfc3339(t);
  return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2) + "T" + s.substr(11, 2) +
         s.substr(14, 2) + s.substr(17, 2) + "Z";
}

// When a report was made, from the time in its key.
std::optional<domain::Timestamp> report_time(std::string_view key) {
  if (!key.starts_with(kReportPrefix) || key.size() < kReportPrefix.size() + 16)
    return std::nullopt;
  const std::string_view t = key.substr(kReportPrefix.size(), 16);
  if (t[8] != 'T' || t[15] != 'Z') return std::nullopt;
  std::string rfc;
  rfc.append(t.substr(0, 4)).append("-").append(t.substr(4, 2)).append("-").append(t.substr(6, 2));
  rfc.append("T").append(t.substr(9, 2)).append(":").append(t.substr(11, 2)).append(":");
  rfc.append(t.substr(13, 2)).append("Z");
  return domain::parse_rfc3339(rfc);
}

void remove_old_reports(ReportContext& ctx, domain::Timestamp now, std::string_view keep) {
  const domain::Timestamp cutoff = now - ctx.max_age;
  for_each_object(ctx.objects, kReportPrefix, [&](const ports::ObjectInfo& info) {
    if (info.key == keep) return;
    if (report_time(info.key).value_or(info.modified) < cutoff) ctx.objects.remove(info.key);
  });
}

Response success(ReportContext& ctx, domain::Timestamp now, const LatestReport& report) {
  domain::JsonWriter w;
  w.begin_object()
      .field("status", "success")
      .field("pdf_url", ctx.objects.presign_get(report.key, kLinkLifetime))
      .field("expiresAt", domain::format_rfc3339(now + kLinkLifetime))
      .field("orders", static_cast<std::int64_t>(report.orders))
      .field("skipped", static_cast<std::int64_t>(report.skipped))
      .end_object();
  return json_response(200, w.take());
}

Response nothing_archived() { return error_response(404, "not_found", "No deleted orders found"); }

Response nothing_in_range() {
  return error_response(404, "not_found", "No deleted orders found in the requested range");
}

// The previous report when the index has not changed since it was made, or 404 when the index
// is empty; nullopt when a new report must be rendered.
std::optional<Response> reusable(ReportContext& ctx, domain::Timestamp now,
                                 const DeletedRange& range, const ports::ArchiveIndexState& state) {
  if (state.count == 0) return nothing_archived();
  const auto latest = read_latest(ctx.objects);
  if (!latest || latest->fingerprint != fingerprint(state) + range.tag() ||
      !object_exists(ctx.objects, latest->key))
    return std::nullopt;
  return success(ctx, now, *latest);
}

}  // namespace

Response produce_report(ReportContext& ctx, const DeletedRange& range,
                        const ReportProgress& progress) {
  if (auto reused = reusable(ctx, ctx.clock.now(), range, index_state(ctx)))
    return std::move(*reused);
  // Whoever waited here while another request rendered finds that report reusable.
  const std::lock_guard one_render(*ctx.rendering);
  const domain::Timestamp now = ctx.clock.now();
  const ports::ArchiveIndexState state = ctx.archive.state();
  if (auto reused = reusable(ctx, now, range, state)) return std::move(*reused);

  auto rendered = render(ctx, now, range, state.newest, progress);
  if (!rendered) return range.tag().empty() ? nothing_archived() : nothing_in_range();
  LatestReport report;
  report.key = std::string(kReportPrefix) + compact_time(now) + "_" + ctx.ids.new_id() + ".pdf";
  // An index that kept changing under us gets no fingerprint: the next call renders anew.
  report.fingerprint = rendered->consistent ? fingerprint(state) + range.tag() : "";
  report.orders = rendered->orders;
  report.skipped = state.unreadable;
  ctx.objects.put(report.key, rendered->pdf, "application/pdf");
  std::string().swap(rendered->pdf);  // the bytes are stored; give the memory back now
  ctx.objects.put(kLatestKey, latest_json(report), "application/json");
  remove_old_reports(ctx, now, report.key);
  return success(ctx, now, report);
}

Response generate_pdf_report(ReportContext& ctx, const Request& req) {
  const auto range = requested_range(req);
  if (!range) return error_response(400, "validation", range.why());
  return produce_report(ctx, *range, {});
}

}  // namespace orderflow::functions
