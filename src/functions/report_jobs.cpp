#include "functions/report_jobs.hpp"

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>

#include "domain/json_writer.hpp"

namespace orderflow::functions {

struct ReportJobs::Job {
  std::string id;
  DeletedRange range;
  // Guarded by mu; `done` wakes the waiters.
  std::mutex mu;
  std::condition_variable done;
  bool finished = false;
  std::uint64_t rows = 0;   // measured in pass 1, then drawn in pass 2
  std::uint64_t total = 0;  // 0 until pass 1 has counted them
  std::optional<Response> result;
  std::atomic<bool> exited{false};  // run() has returned all but its last instruction
};

namespace {

// 0 while pass 1 counts; then half for pass 1 and half for drawing.
double fraction(std::uint64_t rows, std::uint64_t total, bool finished) {
  if (finished) return 1.0;
  if (total == 0) return 0.0;
  const double drawn = static_cast<double>(std::min(rows, total)) / static_cast<double>(total);
  return 0.5 + 0.5 * drawn;
}

}  // namespace

ReportJobs::ReportJobs(ReportContext& ctx, Observer observer)
    : ctx_(ctx), observer_(std::move(observer)) {}

ReportJobs::~ReportJobs() {
  std::deque<std::pair<std::shared_ptr<Job>, std::jthread>> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& [job, thread] : threads)
    if (thread.joinable()) thread.join();
}

std::shared_ptr<ReportJobs::Job> ReportJobs::start_job(const DeletedRange& range) {
  std::lock_guard lock(mu_);
  const std::string tag = range.tag();
  if (auto it = running_by_range_.find(tag); it != running_by_range_.end()) return it->second;
  auto job = std::make_shared<Job>();
  job->id = ctx_.ids.new_id();
  job->range = range;
  jobs_[job->id] = job;
  running_by_range_[tag] = job;
  // Threads of finished jobs are joined as new ones start, so they never pile up.
  while (!threads_.empty() && threads_.front().first->exited.load()) {
    threads_.front().second.join();
    threads_.pop_front();
  }
  threads_.emplace_back(job, std::jthread([this, job] { run(job); }));
  return job;
}

void ReportJobs::run(const std::shared_ptr<Job>& job) {
  // The status body when the progress has passed another whole percent (or always), else empty.
  int told = -1;
  const auto status_now = [&](bool always) {
    std::lock_guard lock(job->mu);
    const int percent = static_cast<int>(fraction(job->rows, job->total, job->finished) * 100);
    if (!always && percent == told) return std::string();
    told = percent;
    return job_json(*job);
  };
  const auto tell = [&](bool always) {
    if (!observer_) return;
    if (const std::string status = status_now(always); !status.empty()) observer_(job->id, status);
  };
  tell(true);
  Response result;
  try {
    result = produce_report(ctx_, job->range, [&](std::uint64_t rows, std::uint64_t total) {
      {
        std::lock_guard lock(job->mu);
        job->rows = rows;
        job->total = total;
      }
      tell(false);
    });
  } catch (const std::exception& e) {
    result = error_response(503, "unavailable",
                            std::string("The report could not be made: ") + e.what());
  }
  {
    std::lock_guard lock(job->mu);
    job->result = std::move(result);
    job->finished = true;
  }
  job->done.notify_all();
  tell(true);
  std::lock_guard lock(mu_);
  if (auto it = running_by_range_.find(job->range.tag());
      it != running_by_range_.end() && it->second == job)
    running_by_range_.erase(it);
  finished_.push_back(job->id);
  while (finished_.size() > kKeptJobs) {
    jobs_.erase(finished_.front());
    finished_.pop_front();
  }
  job->exited.store(true);
}

std::string ReportJobs::job_json(const Job& job) const {
  // Under job.mu.
  domain::JsonWriter w;
  const bool failed = job.finished && job.result && job.result->status >= 400;
  const char* state = !job.finished ? "running" : failed ? "failed" : "done";
  w.begin_object()
      .field("status", "success")
      .field("reportId", job.id)
      .field("state", state)
      .key("progress")
      .begin_object()
      .key("fraction")
      .number(fraction(job.rows, job.total, job.finished))
      .field("rows", static_cast<std::int64_t>(job.finished && !failed && job.total > 0 ? job.total
                                                                                        : job.rows))
      .key("total");
  if (job.total > 0)
    w.number(static_cast<std::int64_t>(job.total));
  else
    w.null();
  w.end_object();
  if (job.finished && job.result) {
    boost::system::error_code ec;
    const boost::json::value answer = boost::json::parse(job.result->body, ec);
    if (!ec && answer.is_object())
      for (const auto& [name, value] : answer.as_object()) {
        if (name == "status") continue;
        w.key(name).raw(boost::json::serialize(value));
      }
  }
  w.end_object();
  return w.take();
}

Response ReportJobs::start(const Request& req) {
  const auto range = requested_range(req);
  if (!range) return error_response(400, "validation", range.why());
  const auto job = start_job(*range);
  std::string body;
  {
    std::lock_guard lock(job->mu);
    body = job_json(*job);
  }
  Response r = json_response(202, std::move(body));
  r.headers.emplace_back("Location", "/reports/" + job->id);
  return r;
}

Response ReportJobs::status(const Request& req) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    if (auto it = jobs_.find(std::string(req.path_param("reportId"))); it != jobs_.end())
      job = it->second;
  }
  if (!job) return error_response(404, "not_found", "No report job has this id (here)");
  std::lock_guard lock(job->mu);
  Response r = json_response(200, job_json(*job));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response ReportJobs::wait(const Request& req) {
  const auto range = requested_range(req);
  if (!range) return error_response(400, "validation", range.why());
  const auto job = start_job(*range);
  std::unique_lock lock(job->mu);
  job->done.wait(lock, [&job] { return job->finished; });
  return *job->result;
}

}  // namespace orderflow::functions
