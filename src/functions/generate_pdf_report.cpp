// GET /reports/deleted-orders. Map: the from/to query (a deletedAt range); the archive's
// fingerprint (from its listing alone); one streamed pass over the archive (scan_archive); the
// summary of pass 1 (count, exact total, top 15); render() = measure + draw; the reuse record
// reports/latest.json; removal of old reports; the function.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
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
constexpr int kListPageSize = 10000;  // S3 adapters return at most 1000 anyway
constexpr std::size_t kTopBars = 15;
constexpr std::chrono::hours kLinkLifetime{1};
// The archive may change between the two passes; render again rather than print a header
// that disagrees with the rows, but not forever on an archive that never stands still.
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

// Identifies the archive's state from its listing alone (no object is read): the number of
// objects, the newest modification and a hash of every key, size and modification time.
class Fingerprint {
 public:
  void add(const ports::ObjectInfo& o) {
    ++count_;
    const auto modified = o.modified.time_since_epoch().count();
    newest_ = std::max(newest_, modified);
    mix(o.key);
    mix(std::to_string(o.size));
    mix(std::to_string(modified));
  }
  std::uint64_t count() const { return count_; }
  std::string text() const {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex(16, '0');
    for (int i = 0; i < 16; ++i)
      hex[static_cast<std::size_t>(i)] = kHex[(hash_ >> (60 - 4 * i)) & 0xF];
    return "v1-" + std::to_string(count_) + "-" + std::to_string(newest_) + "-" + hex;
  }

 private:
  void mix(std::string_view bytes) {  // FNV-1a, with a separator after each field
    for (const char c : bytes) hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    hash_ = (hash_ ^ 0xFFU) * 1099511628211ULL;
  }
  std::uint64_t hash_ = 14695981039346656037ULL;
  std::uint64_t count_ = 0;
  std::int64_t newest_ = 0;
};

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

struct ScanResult {
  std::string fingerprint;    // of the whole archive, whatever the range
  std::uint64_t orders = 0;   // in the range
  std::uint64_t skipped = 0;  // objects that are not readable archive JSON (or vanished)
};

// One pass over the archive, one object in memory at a time: every readable order in the range
// goes to on_order in key order.
template <class OnOrder>
ScanResult scan_archive(ports::ObjectStore& objects, const DeletedRange& range,
                        OnOrder&& on_order) {
  Fingerprint fingerprint;
  ScanResult result;
  for_each_object(objects, kArchivePrefix, [&](const ports::ObjectInfo& info) {
    fingerprint.add(info);
    const auto stored = objects.get(info.key);
    const auto deleted = stored ? read_archive_json(stored->bytes) : std::nullopt;
    if (!deleted) {
      ++result.skipped;
      return;
    }
    if (!range.contains(deleted->deleted_at)) return;
    ++result.orders;
    on_order(*deleted);
  });
  result.fingerprint = fingerprint.text();
  return result;
}

std::string table_time(domain::Timestamp t) {  // "2026-11-25 11:47:14" (the column says UTC)
  std::string s = domain::format_rfc3339(t);
  s[10] = ' ';
  s.resize(19);
  return s;
}

// Feeds one order to a paginator or a document (same rows, same order, in both passes).
template <class Pass>
void add_order(Pass& pass, const DeletedOrder& d) {
  const std::string price = d.order.price.to_string();
  const std::string when = table_time(d.deleted_at);
  pass.add_row(ports::ReportRow{d.order.id, price, d.order.description, when});
}

// Pass 1's figures: the count, the exact total and the most expensive orders.
class Summary {
 public:
  void add(const DeletedOrder& d) {
    total_.add(d.order.price);
    const Top entry{d.order.price, d.order.id, d.order.description};
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
  ScanResult scan;
  bool consistent = true;  // both passes saw the same archive
};

// Pass 1 measures the rows (and sums them up); pass 2 draws them with the page count pass 1
// found. The document streams into one string: the object store takes an object whole.
std::optional<Rendered> render(ReportContext& ctx, domain::Timestamp now, const DeletedRange& range,
                               const ReportProgress& progress) {
  const auto tell = [&progress](std::uint64_t rows, std::uint64_t of) {
    if (progress && rows % kProgressEvery == 0) progress(rows, of);
  };
  for (int attempt = 1;; ++attempt) {
    Summary summary;
    auto paginator = ctx.renderer.paginate();
    std::uint64_t measured = 0;
    const ScanResult first = scan_archive(ctx.objects, range, [&](const DeletedOrder& d) {
      summary.add(d);
      add_order(*paginator, d);
      tell(++measured, 0);
    });
    if (first.orders == 0) return std::nullopt;
    const ports::ReportHeader header =
        summary.header(now, range, first.orders, paginator->page_count());
    paginator.reset();

    Rendered out;
    auto document =
        ctx.renderer.begin(header, [&out](std::string_view bytes) { out.pdf.append(bytes); });
    std::uint64_t drawn = 0;
    if (progress) progress(0, first.orders);
    out.scan = scan_archive(ctx.objects, range, [&](const DeletedOrder& d) {
      add_order(*document, d);
      tell(++drawn, first.orders);
    });
    out.consistent = out.scan.fingerprint == first.fingerprint;
    if (!out.consistent && attempt < kMaxRenderAttempts) continue;
    document->finish();
    out.scan.orders = first.orders;  // the figures the header shows
    out.scan.skipped = first.skipped;
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

// The previous report when the archive has not changed since it was made (or 404 when the
// archive is empty now); nullopt when a new one must be rendered. Listing the archive only to
// compare fingerprints is worth it when there is a report to reuse; otherwise pass 1 lists it.
std::optional<Response> reusable(ReportContext& ctx, domain::Timestamp now,
                                 const DeletedRange& range) {
  const auto latest = read_latest(ctx.objects);
  if (!latest || !object_exists(ctx.objects, latest->key)) return std::nullopt;
  Fingerprint listed;
  for_each_object(ctx.objects, kArchivePrefix, [&](const ports::ObjectInfo& o) { listed.add(o); });
  if (listed.count() == 0) return nothing_archived();
  if (latest->fingerprint == listed.text() + range.tag()) return success(ctx, now, *latest);
  return std::nullopt;
}

}  // namespace

Response produce_report(ReportContext& ctx, const DeletedRange& range,
                        const ReportProgress& progress) {
  if (auto reused = reusable(ctx, ctx.clock.now(), range)) return std::move(*reused);
  // Whoever waited here while another request rendered finds that report reusable.
  const std::lock_guard one_render(*ctx.rendering);
  const domain::Timestamp now = ctx.clock.now();
  if (auto reused = reusable(ctx, now, range)) return std::move(*reused);

  auto rendered = render(ctx, now, range, progress);
  if (!rendered) return range.tag().empty() ? nothing_archived() : nothing_in_range();
  LatestReport report;
  report.key = std::string(kReportPrefix) + compact_time(now) + "_" + ctx.ids.new_id() + ".pdf";
  // An archive that kept changing under us gets no fingerprint: the next call renders anew.
  report.fingerprint = rendered->consistent ? rendered->scan.fingerprint + range.tag() : "";
  report.orders = rendered->scan.orders;
  report.skipped = rendered->scan.skipped;
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
