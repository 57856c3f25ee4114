// Report jobs (issue 15): POST /reports/deleted-orders starts the render of a report and
// answers at once; GET /reports/{reportId} tells its progress and, once done, its link. Requests
// for the same range while one renders share that job (one render, however many ask), and the
// seed's GET /reports/deleted-orders waits for the shared job and answers as before.
//
// Jobs live in this process: a replica knows the jobs it started (a job id asked of another
// replica is a 404 there). At most kKeptJobs finished jobs are remembered.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "functions/report_functions.hpp"

namespace orderflow::functions {

class ReportJobs {
 public:
  static constexpr std::size_t kKeptJobs = 100;
  // The SSE event type of a job's progress (GET /events); its data is GET /reports/{id}'s body.
  static constexpr std::string_view kProgressEvent = "orderflow.report.progress";
  // Told a job's id and status body (as GET /reports/{reportId} answers it) when the job
  // starts, each time its progress passes another whole percent, and when it ends; from the
  // job's thread.
  using Observer =
      std::function<void(const std::string& report_id, const std::string& status_json)>;

  explicit ReportJobs(ReportContext& ctx, Observer observer = {});
  ~ReportJobs();  // waits for the renders that run
  ReportJobs(const ReportJobs&) = delete;
  ReportJobs& operator=(const ReportJobs&) = delete;

  // POST /reports/deleted-orders[?from&to] -> 202 {status, reportId, state, progress} with
  // Location: /reports/{reportId}; 400 for a malformed range.
  Response start(const Request& req);
  // GET /reports/{reportId} -> 200 {status, reportId, state: running|done|failed, progress,
  // and when done pdf_url, expiresAt, orders, skipped; when failed code and message}; 404 for
  // an unknown id.
  Response status(const Request& req);
  // GET /reports/deleted-orders: the shared job's answer, once it is done.
  Response wait(const Request& req);

 private:
  struct Job;
  std::shared_ptr<Job> start_job(const DeletedRange& range);
  void run(const std::shared_ptr<Job>& job);
  std::string job_json(const Job& job) const;

  ReportContext& ctx_;
  Observer observer_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;                   // by id
  std::map<std::string, std::shared_ptr<Job>> running_by_range_;       // by DeletedRange::tag()
  std::deque<std::string> finished_;                                   // ids, oldest first
  std::deque<std::pair<std::shared_ptr<Job>, std::jthread>> threads_;  // oldest first
};

}  // namespace orderflow::functions
