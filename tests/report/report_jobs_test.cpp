// Report jobs (issue 15): a render in the background with progress, shared by every request
// for the same range, on the real file store and Cairo renderer. A gate in front of the
// renderer holds a render so that what runs at once is decided by the test, not by timing.
#include "functions/report_jobs.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "report_fixture.hpp"

namespace orderflow::report_test {
namespace {

using namespace std::chrono_literals;

// The real renderer, whose paginate() waits until the test opens the gate.
class GatedRenderer final : public ports::ReportRenderer {
 public:
  explicit GatedRenderer(ports::ReportRenderer& real) : real_(real) {}
  ports::ReportPaginatorPtr paginate() override {
    std::unique_lock lock(mu_);
    ++paginations_;
    entered_.notify_all();
    open_.wait(lock, [this] { return is_open_; });
    return real_.paginate();
  }
  ports::ReportDocumentPtr begin(const ports::ReportHeader& header, ports::ByteSink sink) override {
    return real_.begin(header, std::move(sink));
  }
  void open() {
    std::lock_guard lock(mu_);
    is_open_ = true;
    open_.notify_all();
  }
  // Waits until `n` renders have reached the gate (bounded: a failure, not a hang).
  bool reached(int n) {
    std::unique_lock lock(mu_);
    return entered_.wait_for(lock, 30s, [&] { return paginations_ >= n; });
  }
  int paginations() {
    std::lock_guard lock(mu_);
    return paginations_;
  }

 private:
  ports::ReportRenderer& real_;
  std::mutex mu_;
  std::condition_variable open_, entered_;
  bool is_open_ = false;
  int paginations_ = 0;
};

class ReportJobsTest : public ReportTest {
 protected:
  functions::Request request(std::vector<std::pair<std::string, std::string>> query = {}) {
    functions::Request r;
    r.method = "POST";
    r.query = std::move(query);
    return r;
  }
  functions::Request status_of(const std::string& id) {
    functions::Request r;
    r.method = "GET";
    r.path_params = {{"reportId", id}};
    return r;
  }
  // Polls the job until it is no longer running (bounded).
  boost::json::object finished(functions::ReportJobs& jobs, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      const auto r = jobs.status(status_of(id));
      EXPECT_EQ(r.status, 200) << r.body;
      auto body = body_of(r);
      if (body.at("state").as_string() != "running" || std::chrono::steady_clock::now() > deadline)
        return body;
      std::this_thread::sleep_for(5ms);
    }
  }

  GatedRenderer gate_{renderer_};
  functions::ReportContext gated_{objects_, index_, gate_, clock_, ids_};
};

TEST_F(ReportJobsTest, AJobRendersInTheBackgroundAndEndsWithTheLinkAndFullProgress) {
  for (int i = 1; i <= 250; ++i) archive(i, "order " + std::to_string(i), "1.00");
  functions::ReportJobs jobs(gated_);
  const auto started = jobs.start(request());
  ASSERT_EQ(started.status, 202) << started.body;
  const auto body = body_of(started);
  const std::string id(body.at("reportId").as_string());
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(body.at("state").as_string(), "running");
  EXPECT_EQ(body.at("progress").at("fraction").to_number<double>(), 0.0);
  bool located = false;
  for (const auto& [name, value] : started.headers)
    located |= name == "Location" && value == "/reports/" + id;
  EXPECT_TRUE(located);

  ASSERT_TRUE(gate_.reached(1));
  EXPECT_EQ(body_of(jobs.status(status_of(id))).at("state").as_string(), "running");
  gate_.open();
  const auto done = finished(jobs, id);
  EXPECT_EQ(done.at("state").as_string(), "done") << boost::json::serialize(done);
  EXPECT_EQ(done.at("progress").at("fraction").to_number<double>(), 1.0);
  EXPECT_EQ(done.at("progress").at("rows").to_number<std::int64_t>(), 250);
  EXPECT_EQ(done.at("progress").at("total").to_number<std::int64_t>(), 250);
  EXPECT_EQ(done.at("orders").to_number<std::int64_t>(), 250);
  EXPECT_NE(std::string(done.at("pdf_url").as_string()).find("/objects/reports/"),
            std::string::npos);
  EXPECT_TRUE(done.contains("expiresAt"));
}

TEST_F(ReportJobsTest, RequestsForTheSameRangeShareOneRenderAndTheSeedsGetWaitsForIt) {
  for (int i = 1; i <= 5; ++i) archive(i, "order " + std::to_string(i), "2.50");
  functions::ReportJobs jobs(gated_);
  const std::string first(body_of(jobs.start(request())).at("reportId").as_string());
  ASSERT_TRUE(gate_.reached(1));
  const std::string second(body_of(jobs.start(request())).at("reportId").as_string());
  EXPECT_EQ(second, first) << "one job for one range while it runs";
  const std::string other(
      body_of(jobs.start(request({{"from", "2026-11-24T00:00:00Z"}}))).at("reportId").as_string());
  EXPECT_NE(other, first) << "another range is another job";

  auto waiting = std::async(std::launch::async, [&] {
    functions::Request get;
    get.method = "GET";
    return jobs.wait(get);
  });
  EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout) << "it waits for the render";
  gate_.open();
  const auto answer = waiting.get();
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(body_of(answer).at("orders").to_number<std::int64_t>(), 5);
  EXPECT_EQ(finished(jobs, first).at("state").as_string(), "done");
  EXPECT_EQ(finished(jobs, other).at("state").as_string(), "done");
  EXPECT_EQ(gate_.paginations(), 2) << "one render per range, however many asked";
}

TEST_F(ReportJobsTest, AJobWithNothingToReportFailsWithTheReasonAndUnknownIdsAre404) {
  functions::ReportJobs jobs(ctx_);
  const std::string id(body_of(jobs.start(request())).at("reportId").as_string());
  const auto failed = finished(jobs, id);
  EXPECT_EQ(failed.at("state").as_string(), "failed");
  EXPECT_EQ(failed.at("code").as_string(), "not_found");
  EXPECT_EQ(failed.at("message").as_string(), "No deleted orders found");
  EXPECT_EQ(jobs.status(status_of("00000000-0000-4000-8000-000000000000")).status, 404);
  const auto bad = jobs.start(request({{"from", "yesterday"}}));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"code\":\"validation\""), std::string::npos);
}

}  // namespace
}  // namespace orderflow::report_test
