#include "runtime/event_stream.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <string>

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

}  // namespace

EventStreamHub::EventStreamHub(ports::OrderStore& store, EventStreamOptions options)
    : store_(store), options_(options) {}

void EventStreamHub::notify() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  changed_.notify_all();
}

void EventStreamHub::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
}

functions::Response EventStreamHub::serve(const functions::Request& req) {
  std::string_view position = req.header("Last-Event-ID");
  if (position.empty())
    if (const std::string* after = req.query_param("after")) position = *after;

  if (position.empty()) {
    const std::int64_t end = store_.stats().outbox_last_seq;
    return event_stream(fmt::format("{}id: {}\nevent: ready\ndata: {{}}\n\n", kRetry, end));
  }
  const auto after = parse_seq(position);
  if (!after)
    return functions::error_response(400, "validation",
                                     "Last-Event-ID (or after) must be an event sequence number");

  std::unique_lock lock(mutex_);
  if (waiters_ >= options_.max_waiters) {
    auto r =
        functions::error_response(503, "unavailable", "Too many live listeners; try again shortly");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  ++waiters_;
  const auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
  std::vector<ports::OutboxRecord> records;
  while (true) {
    // The generation is taken before reading, so a commit between the read and the wait is
    // never missed.
    const std::uint64_t seen = generation_;
    lock.unlock();
    try {
      records = store_.read_outbox(*after, options_.max_events);
    } catch (...) {
      lock.lock();
      --waiters_;
      throw;
    }
    lock.lock();
    if (!records.empty() || stopped_) break;
    if (!changed_.wait_until(lock, deadline, [&] { return generation_ != seen || stopped_; }))
      break;
  }
  --waiters_;
  lock.unlock();

  std::string body(kRetry);
  if (records.empty()) body += ": no new events\n\n";  // a comment: the client just reconnects
  for (const auto& record : records) {
    fmt::format_to(std::back_inserter(body), "id: {}\nevent: {}\n", record.seq, record.event.type);
    append_data(body, record.event.to_json());
    body += '\n';
  }
  return event_stream(std::move(body));
}

}  // namespace orderflow::runtime
