#include "runtime/event_stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace orderflow::runtime {
namespace {

// Asks EventSource to reconnect one second after each answer ends.
constexpr std::string_view kRetry = "retry: 1000\n";

std::optional<std::int64_t> parse_seq(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

functions::Response event_stream(std::string body) {
  functions::Response r{200, std::move(body), "text/event-stream; charset=utf-8", {}};
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// `data:` must not contain a line break; the CloudEvent JSON has none, but a JSON writer may
// still emit one inside whitespace, so every line gets its own data: field.
void append_data(std::string& out, std::string_view json) {
  while (true) {
    const auto nl = json.find('\n');
    out += "data: ";
    out += json.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) break;
    json.remove_prefix(nl + 1);
  }
}

functions::Response events_response(const std::vector<ports::OutboxRecord>& records) {
  std::string body(kRetry);
  if (records.empty()) body += ": no new events\n\n";  // a comment: the client just reconnects
  for (const auto& record : records) {
    fmt::format_to(std::back_inserter(body), "id: {}\nevent: {}\n", record.seq, record.event.type);
    append_data(body, record.event.to_json());
    body += '\n';
  }
  return event_stream(std::move(body));
}

}  // namespace

EventStreamHub::EventStreamHub(ports::OrderStore& store, EventStreamOptions options)
    : store_(store),
      options_(options),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

EventStreamHub::~EventStreamHub() {
  stop();
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

void EventStreamHub::notify() {
  {
    std::lock_guard lock(mutex_);
    dirty_ = true;
  }
  wake_.notify_all();
}

void EventStreamHub::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
}

void EventStreamHub::serve(const functions::Request& req, functions::Respond respond) {
  std::string_view position = req.header("Last-Event-ID");
  if (position.empty())
    if (const std::string* after = req.query_param("after")) position = *after;
  std::int64_t after = kReady;
  if (!position.empty()) {
    const auto seq = parse_seq(position);
    if (!seq)
      return respond(
          functions::error_response(400, "validation",
                                    "Last-Event-ID (or after) must be an event sequence number"),
          nullptr);
    after = *seq;
  }
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return respond(events_response({}), nullptr);
    if (waiting_.size() >= static_cast<std::size_t>(options_.max_listeners)) {
      auto r = functions::error_response(503, "unavailable",
                                         "Too many live listeners; try again shortly");
      r.headers.emplace_back("Retry-After", "5");
      return respond(std::move(r), nullptr);
    }
    waiting_.push_back(
        {after, std::chrono::steady_clock::now() + options_.max_wait, std::move(respond)});
    dirty_ = true;
  }
  wake_.notify_all();
}

std::size_t EventStreamHub::listeners() {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::vector<EventStreamHub::Listener> EventStreamHub::look(std::vector<Listener> listeners) {
  const auto now = std::chrono::steady_clock::now();
  // Listeners at one position share one read: a thousand browsers that are all up to date cost
  // one query per commit, not a thousand.
  std::map<std::int64_t, std::vector<ports::OutboxRecord>> reads;
  std::optional<std::int64_t> end;
  std::vector<Listener> still;
  for (auto& l : listeners) {
    try {
      if (l.after == kReady) {
        if (!end) end = store_.stats().outbox_last_seq;
        l.respond(event_stream(fmt::format("{}id: {}\nevent: ready\ndata: {{}}\n\n", kRetry, *end)),
                  nullptr);
        continue;
      }
      auto it = reads.find(l.after);
      if (it == reads.end())
        it = reads.emplace(l.after, store_.read_outbox(l.after, options_.max_events)).first;
      if (!it->second.empty() || now >= l.deadline)
        l.respond(events_response(it->second), nullptr);
      else
        still.push_back(std::move(l));
    } catch (...) {
      // The store failed (503 through the server's one mapping); the client reconnects.
      l.respond({}, std::current_exception());
    }
  }
  return still;
}

void EventStreamHub::run(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested() && !stopped_) {
    if (!dirty_) {
      if (waiting_.empty()) {
        wake_.wait(lock, stop, [&] { return dirty_ || stopped_; });
      } else {
        const auto until = std::min_element(waiting_.begin(), waiting_.end(),
                                            [](const Listener& a, const Listener& b) {
                                              return a.deadline < b.deadline;
                                            })
                               ->deadline;
        wake_.wait_until(lock, stop, until, [&] { return dirty_ || stopped_; });
        if (!dirty_ && std::chrono::steady_clock::now() < until) continue;  // spurious
      }
      if (stop.stop_requested() || stopped_) break;
    }
    // dirty_ is cleared before the reads, so a commit during them makes the next look read
    // again: an event is never missed between a read and the wait.
    dirty_ = false;
    auto listeners = std::move(waiting_);
    waiting_.clear();
    lock.unlock();
    auto still = look(std::move(listeners));
    lock.lock();
    waiting_.insert(waiting_.end(), std::make_move_iterator(still.begin()),
                    std::make_move_iterator(still.end()));
  }
  // Stopped: whoever waits is answered now (no events; the client reconnects), and serve()
  // admits nobody any more.
  auto all = std::move(waiting_);
  waiting_.clear();
  lock.unlock();
  for (auto& l : all) l.respond(events_response({}), nullptr);
}

}  // namespace orderflow::runtime
