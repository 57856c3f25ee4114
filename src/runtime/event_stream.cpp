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

// The position "<seq>" or "<seq>~<passing version>".
struct Position {
  std::int64_t after = 0;
  std::uint64_t seen = 0;
};

std::optional<Position> parse_position(std::string_view text) {
  const auto tilde = text.find('~');
  const auto seq = parse_seq(text.substr(0, tilde));
  if (!seq) return std::nullopt;
  Position p{*seq, 0};
  if (tilde == std::string_view::npos) return p;
  const std::string_view version = text.substr(tilde + 1);
  const auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), p.seen);
  if (ec != std::errc{} || end != version.data() + version.size()) return std::nullopt;
  return p;
}

// Outbox records, then the passing events (newest version last); every id carries the
// client's passing version once it has one.
using Passing = EventStreamHub::Passing;

functions::Response events_response(const std::vector<ports::OutboxRecord>& records,
                                    const std::vector<const Passing*>& passing, std::int64_t after,
                                    std::uint64_t seen) {
  std::string body(kRetry);
  if (records.empty() && passing.empty())
    body += ": no new events\n\n";  // a comment: the client just reconnects
  if (!passing.empty()) seen = passing.back()->version;
  const auto id = [&](std::int64_t seq) {
    return seen == 0 ? std::to_string(seq) : fmt::format("{}~{}", seq, seen);
  };
  for (const auto& record : records) {
    fmt::format_to(std::back_inserter(body), "id: {}\nevent: {}\n", id(record.seq),
                   record.event.type);
    append_data(body, record.event.to_json());
    body += '\n';
    after = record.seq;
  }
  for (const Passing* p : passing) {
    fmt::format_to(std::back_inserter(body), "id: {}\nevent: {}\n", id(after), p->type);
    append_data(body, p->data);
    body += '\n';
  }
  return event_stream(std::move(body));
}

functions::Response no_events() { return events_response({}, {}, 0, 0); }

}  // namespace

EventStreamHub::EventStreamHub(ports::OrderStore& store, EventStreamOptions options)
    : store_(store),
      options_(options),
      passing_version_(
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count())),
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

void EventStreamHub::publish(std::string_view type, std::string_view key, std::string data_json) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    const auto now = std::chrono::steady_clock::now();
    Passing event{std::string(type), std::string(key), std::move(data_json), ++passing_version_,
                  now};
    std::erase_if(passing_, [&](const Passing& p) {
      return (p.type == event.type && p.key == event.key) || now - p.at > kPassingKept;
    });
    if (passing_.size() >= kMaxPassing) passing_.erase(passing_.begin());
    passing_.push_back(std::move(event));
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
  Position at{kReady, 0};
  if (!position.empty()) {
    const auto parsed = parse_position(position);
    if (!parsed)
      return respond(functions::error_response(
                         400, "validation",
                         "Last-Event-ID (or after) must be an event id from this stream: a "
                         "sequence number, optionally followed by ~ and a number"),
                     nullptr);
    at = *parsed;
  }
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return respond(no_events(), nullptr);
    if (waiting_.size() >= static_cast<std::size_t>(options_.max_listeners)) {
      auto r = functions::error_response(503, "unavailable",
                                         "Too many live listeners; try again shortly");
      r.headers.emplace_back("Retry-After", "5");
      return respond(std::move(r), nullptr);
    }
    waiting_.push_back({at.after, at.seen, std::chrono::steady_clock::now() + options_.max_wait,
                        std::move(respond)});
    dirty_ = true;
  }
  wake_.notify_all();
}

std::size_t EventStreamHub::listeners() {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::vector<EventStreamHub::Listener> EventStreamHub::look(std::vector<Listener> listeners,
                                                           const std::vector<Passing>& passing) {
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
      std::vector<const Passing*> unseen;
      for (const Passing& p : passing)
        if (p.version > l.seen) unseen.push_back(&p);
      if (!it->second.empty() || !unseen.empty() || now >= l.deadline)
        l.respond(events_response(it->second, unseen, l.after, l.seen), nullptr);
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
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(passing_, [&](const Passing& p) { return now - p.at > kPassingKept; });
    const std::vector<Passing> passing = passing_;  // versions ascend: oldest first
    lock.unlock();
    auto still = look(std::move(listeners), passing);
    lock.lock();
    waiting_.insert(waiting_.end(), std::make_move_iterator(still.begin()),
                    std::make_move_iterator(still.end()));
  }
  // Stopped: whoever waits is answered now (no events; the client reconnects), and serve()
  // admits nobody any more.
  auto all = std::move(waiting_);
  waiting_.clear();
  lock.unlock();
  for (auto& l : all) l.respond(no_events(), nullptr);
}

}  // namespace orderflow::runtime
