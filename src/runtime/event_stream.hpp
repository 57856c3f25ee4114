// GET /events: the outbox as Server-Sent Events, long-poll style. The HTTP server answers each
// request with one whole body, so a request waits (bounded) for events after its position and
// returns them; EventSource then reconnects with Last-Event-ID, which makes a live stream.
// A waiting request holds no thread: it is a small record (its position, deadline and answer
// callback) that the hub's one thread answers when a commit brings events or its wait ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "functions/api.hpp"
#include "functions/order_functions.hpp"
#include "ports/order_store.hpp"

namespace orderflow::runtime {

struct EventStreamOptions {
  std::chrono::milliseconds max_wait{25000};  // how long a request waits for a first event
  int max_listeners = 1000;                   // requests waiting at once (sse_max_listeners)
  int max_events = 100;                       // events per response
};

class EventStreamHub {
 public:
  explicit EventStreamHub(ports::OrderStore& store, EventStreamOptions options = {});
  ~EventStreamHub();  // stop(), then waits for the hub's thread
  EventStreamHub(const EventStreamHub&) = delete;
  EventStreamHub& operator=(const EventStreamHub&) = delete;

  // A commit appended events: the waiting requests look. Quick; any thread.
  void notify();
  // A passing event that is not in the outbox (a report job's progress), kept in this process
  // for kPassingKept: sent after the outbox events of an answer, once to each client. Of the
  // events with the same `type` and `key` (the report's id), only the newest is kept. The ids
  // in an answer then read "<seq>~<passing version>", so a reconnecting client is sent only
  // what it has not seen (a plain "<seq>" has seen none). Quick; any thread.
  void publish(std::string_view type, std::string_view key, std::string data_json);
  // Shutdown: waiting requests are answered at once (no events), new ones do not wait.
  void stop();

  // GET /events; answers through `respond`, once, from this or the hub's thread. The position
  // is Last-Event-ID (header) or ?after=<seq>. Without either the answer is immediate: an
  // `event: ready` block whose id is the current end of the outbox. 200 text/event-stream:
  // `retry: 1000`, then per event `id: <seq>`, `event: <type>`, `data: <CloudEvent JSON>`. 400
  // for a malformed position; 503 + Retry-After when max_listeners requests already wait. The
  // store is only ever read on the hub's thread, never on the caller's (an I/O thread).
  void serve(const functions::Request& req, functions::Respond respond);

  // Requests waiting now (the gauge orderflow_sse_listeners).
  std::size_t listeners();

  struct Passing {
    std::string type;
    std::string key;  // replaced by a newer event with the same type and key
    std::string data;
    std::uint64_t version;  // greater for each newer passing event
    std::chrono::steady_clock::time_point at;
  };

 private:
  static constexpr auto kPassingKept = std::chrono::seconds(60);
  static constexpr std::size_t kMaxPassing = 256;

  struct Listener {
    std::int64_t after;  // kReady: answer with the end of the outbox
    std::uint64_t seen;  // the newest passing event the client has
    std::chrono::steady_clock::time_point deadline;
    functions::Respond respond;
  };
  static constexpr std::int64_t kReady = -1;

  void run(const std::stop_token& stop);

  // Answers what can be answered; returns the listeners that keep waiting.
  std::vector<Listener> look(std::vector<Listener> listeners, const std::vector<Passing>& passing);

  ports::OrderStore& store_;
  const EventStreamOptions options_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::vector<Listener> waiting_;
  std::vector<Passing> passing_;   // oldest first, none older than kPassingKept
  std::uint64_t passing_version_;  // the newest's; starts at the wall clock's microseconds
  bool dirty_ = false;             // a commit or a new listener since the last look
  bool stopped_ = false;
  std::jthread thread_;  // last: it starts once everything above exists
};

}  // namespace orderflow::runtime
