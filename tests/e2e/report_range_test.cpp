// GET /reports/deleted-orders?from=&to= on the real binary: orders deleted through the API,
// reports over deletedAt ranges (from inclusive, to exclusive, either optional, any offset),
// and the 400s for a malformed bound or an empty range, which render nothing.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "e2e/events_support.hpp"
#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kReport = "/reports/deleted-orders";

// Deletes a new order and returns its archived deletedAt.
std::string delete_one(HttpClient& c, const ServerProcess& server, std::string_view description) {
  const std::string id = create_order(c, description, "\"3.50\"");
  if (id.empty() || !delete_order(c, id)) return "";
  const auto archived = wait_for_archive(server, id);
  if (!archived) {
    ADD_FAILURE() << "no archive object for " << id;
    return "";
  }
  return string_field(boost::json::parse(*archived), "deletedAt");
}

std::string report_target(std::string_view from, std::string_view to) {
  std::string target(kReport);
  char sep = '?';
  if (!from.empty()) target += std::string(1, sep) + "from=" + query_escape(from), sep = '&';
  if (!to.empty()) target += std::string(1, sep) + "to=" + query_escape(to);
  return target;
}

// The "orders" count of a 200 answer, or -1 (and a failure).
std::int64_t orders_in(HttpClient& c, std::string_view from, std::string_view to) {
  const Response r = c.get(report_target(from, to));
  if (r.status != 200) {
    ADD_FAILURE() << describe(r);
    return -1;
  }
  return r.json().at("orders").as_int64();
}

// `t` written with a +01:00 offset: the same instant, another spelling.
std::string in_plus_one_hour(std::string_view rfc3339_utc) {
  const auto t = domain::parse_rfc3339(rfc3339_utc);
  std::string shifted = domain::format_rfc3339(*t + std::chrono::hours(1));
  shifted.pop_back();  // the Z
  return shifted + "+01:00";
}

bool reports_stored(const ServerProcess& server) {
  const fs::path dir = server.data_dir() / "objects" / "reports";
  std::error_code ec;
  return fs::exists(dir, ec) && !fs::is_empty(dir, ec);
}

TEST(ReportRange, FiltersByDeletedAtAndRejectsBadBoundsWithoutRendering) {
  TestServer t;
  HttpClient c(t.server.port());
  const std::string first = delete_one(c, t.server, "deleted first");
  const std::string second = delete_one(c, t.server, "deleted second");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  ASSERT_LT(*domain::parse_rfc3339(first), *domain::parse_rfc3339(second));

  const std::string bad_from =
      "from must be an RFC 3339 timestamp such as 2026-11-01T00:00:00Z (write a + in an offset "
      "as %2B)";
  EXPECT_TRUE(IsError(c.get(report_target("last tuesday", "")), 400, "validation", bad_from));
  EXPECT_TRUE(IsError(c.get(report_target("2026-11-01", "")), 400, "validation", bad_from));
  // An unencoded + arrives as a space, and the message says how to send it.
  EXPECT_TRUE(IsError(c.get(std::string(kReport) + "?from=2026-11-01T00:00:00+01:00"), 400,
                      "validation", bad_from));
  EXPECT_TRUE(IsError(c.get(report_target("", "2026-11-01T25:00:00Z")), 400, "validation",
                      "to must be an RFC 3339 timestamp such as 2026-11-01T00:00:00Z (write a + "
                      "in an offset as %2B)"));
  const std::string empty_range =
      "from must be earlier than to (the range is from inclusive, to exclusive)";
  EXPECT_TRUE(IsError(c.get(report_target(second, second)), 400, "validation", empty_range));
  EXPECT_TRUE(IsError(c.get(report_target(second, first)), 400, "validation", empty_range));
  EXPECT_FALSE(reports_stored(t.server)) << "a rejected request rendered a report";

  EXPECT_EQ(orders_in(c, "", ""), 2);
  EXPECT_EQ(orders_in(c, second, ""), 1);  // from is inclusive
  EXPECT_EQ(orders_in(c, "", second), 1);  // to is exclusive
  EXPECT_EQ(orders_in(c, first, second), 1);
  EXPECT_EQ(orders_in(c, in_plus_one_hour(first), ""), 2);  // sent as %2B01:00
  EXPECT_TRUE(IsError(c.get(report_target("", first)), 404, "not_found",
                      "No deleted orders found in the requested range"));
}

// The report as a job on the real binary: POST starts it (202 + Location), GET /reports/{id}
// follows it to its link, and the link serves the PDF.
TEST(ReportJob, StartsWith202AndIsFollowedToItsLink) {
  TempDir dir;
  ServerOptions o;
  o.env = {{"ORDERFLOW_RECOGNIZER", "none"}};
  ServerProcess server(dir.path(), o);
  HttpClient c(server.port());
  ASSERT_FALSE(delete_one(c, server, "a job's order").empty());

  const Response started = c.post(std::string(kReport), "");
  ASSERT_TRUE(HasStatus(started, 202));
  const std::string id = string_field(started.json(), "reportId");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(started.header("Location").value_or(""), "/reports/" + id);
  boost::json::value job;
  ASSERT_TRUE(eventually([&] {
    const Response r = c.get("/reports/" + id);
    if (r.status != 200) return false;
    job = r.json();
    return string_field(job, "state") != "running";
  }));
  EXPECT_EQ(string_field(job, "state"), "done") << boost::json::serialize(job);
  EXPECT_EQ(job.at("orders").as_int64(), 1);
  EXPECT_EQ(job.at("progress").at("fraction").to_number<double>(), 1.0);
  const std::string url = string_field(job, "pdf_url");
  const Response pdf = c.get(url.substr(url.find("/objects/")));
  ASSERT_TRUE(HasStatus(pdf, 200));
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  EXPECT_TRUE(
      IsErrorCode(c.get("/reports/00000000-0000-4000-8000-000000000000"), 404, "not_found"));
  EXPECT_TRUE(IsErrorCode(c.post(std::string(kReport) + "?to=soon", ""), 400, "validation"));
}


// The SSE events of an answer: (id, event, data) per block.
struct StreamEvent {
  std::string id, type, data;
};
std::vector<StreamEvent> stream_events(std::string_view body) {
  std::vector<StreamEvent> out;
  StreamEvent e;
  std::size_t at = 0;
  while (at < body.size()) {
    const auto nl = body.find('\n', at);
    const std::string_view line = body.substr(at, nl == std::string_view::npos ? nl : nl - at);
    at = nl == std::string_view::npos ? body.size() : nl + 1;
    if (line.empty()) {
      if (!e.type.empty()) out.push_back(e);
      e = {};
    } else if (line.starts_with("id: ")) {
      e.id = line.substr(4);
    } else if (line.starts_with("event: ")) {
      e.type = line.substr(7);
    } else if (line.starts_with("data: ")) {
      e.data += line.substr(6);
    }
  }
  return out;
}

// A report job's progress on GET /events: events of type orderflow.report.progress (the job's status
// body) up to its done state, each sent once however the client reconnects, after the outbox
// events of the same answer and without moving the outbox position.
TEST(ReportJob, ProgressAppearsOnTheEventStreamUpToDoneAndEachOnlyOnce) {
  TempDir dir;
  ServerOptions o;
  o.env = {{"ORDERFLOW_RECOGNIZER", "none"}};
  ServerProcess server(dir.path(), o);
  HttpClient c(server.port());
  ASSERT_FALSE(delete_one(c, server, "an order on the stream").empty());
  const Response ready = c.get("/events");
  ASSERT_TRUE(HasStatus(ready, 200));
  const auto first = stream_events(ready.body);
  ASSERT_EQ(first.size(), 1u);
  std::string position = first[0].id;
  const std::string outbox_end = position;

  const Response started = c.post(std::string(kReport), "");
  ASSERT_TRUE(HasStatus(started, 202));
  const std::string id = string_field(started.json(), "reportId");
  std::vector<boost::json::value> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen.empty() || string_field(seen.back(), "state") != "done") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no done event";
    const Response r = c.get("/events", {{"Last-Event-ID", position}});
    ASSERT_TRUE(HasStatus(r, 200));
    for (const StreamEvent& e : stream_events(r.body)) {
      ASSERT_EQ(e.type, "orderflow.report.progress") << r.body;
      // The outbox position stays; the passing version follows it.
      ASSERT_TRUE(e.id.starts_with(outbox_end + "~")) << e.id;
      position = e.id;
      const auto data = boost::json::parse(e.data);
      EXPECT_EQ(string_field(data, "reportId"), id);
      seen.push_back(data);
    }
  }
  const auto& done = seen.back();
  EXPECT_EQ(done.at("progress").at("fraction").to_number<double>(), 1.0);
  EXPECT_EQ(done.at("orders").as_int64(), 1);
  EXPECT_NE(string_field(done, "pdf_url").find("/objects/reports/"), std::string::npos);
  for (std::size_t i = 1; i < seen.size(); ++i)
    EXPECT_LE(seen[i - 1].at("progress").at("fraction").to_number<double>(),
              seen[i].at("progress").at("fraction").to_number<double>());

  // Resuming from the last id: the next answer is the next outbox event, not the job again.
  const std::string order = create_order(c, "after the report", "\"1.00\"");
  ASSERT_FALSE(order.empty());
  const Response next = c.get("/events", {{"Last-Event-ID", position}});
  ASSERT_TRUE(HasStatus(next, 200));
  const auto events = stream_events(next.body);
  ASSERT_EQ(events.size(), 1u) << next.body;
  EXPECT_EQ(events[0].type, "orderflow.order.created");
  EXPECT_FALSE(events[0].id.starts_with(outbox_end + "~")) << events[0].id;
  EXPECT_NE(events[0].id.find('~'), std::string::npos) << events[0].id;
  // A position without a passing version has seen none: the job's latest state comes again.
  const Response fresh = c.get("/events", {{"Last-Event-ID", events[0].id.substr(0, events[0].id.find('~'))}});
  const auto again = stream_events(fresh.body);
  ASSERT_EQ(again.size(), 1u) << fresh.body;
  EXPECT_EQ(again[0].type, "orderflow.report.progress");
  EXPECT_EQ(string_field(boost::json::parse(again[0].data), "state"), "done");
  EXPECT_TRUE(IsErrorCode(c.get("/events", {{"Last-Event-ID", "5~x"}}), 400, "validation"));
}

}  // namespace
}  // namespace orderflow::e2e
