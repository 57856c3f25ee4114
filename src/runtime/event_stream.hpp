// GET /events: the outbox as Server-Sent Events, long-poll style. The HTTP server answers each
// request with one whole body, so a request waits (bounded) for events after its position and
// returns them; EventSource then reconnects with Last-Event-ID, which makes a live stream.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "functions/api.hpp"
#include "ports/order_store.hpp"

namespace orderflow::runtime {

struct EventStreamOptions {
  std::chrono::milliseconds max_wait{25000};  // how long a request waits for a first event
  int max_waiters = 16;                       // concurrent waiting requests (each holds a worker)
  int max_events = 100;                       // events per response
};

class EventStreamHub {
 public:
  explicit EventStreamHub(ports::OrderStore& store, EventStreamOptions options = {});

  // A commit appended events: wakes every waiting request. Quick; any thread.
  void notify();
  // Shutdown: waiting requests return at once, new ones do not wait.
  void stop();

  // GET /events. The position is Last-Event-ID (header) or ?after=<seq>. Without either the
  // answer is immediate: an `event: ready` block whose id is the current end of the outbox.
  // 200 text/event-stream: `retry: 1000`, then per event `id: <seq>`, `event: <type>`,
  // `data: <CloudEvent JSON>`. 400 for a malformed position; 503 + Retry-After when
  // max_waiters requests already wait.
  functions::Response serve(const functions::Request& req);

 private:
  ports::OrderStore& store_;
  const EventStreamOptions options_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t generation_ = 0;  // bumped by notify()
  int waiters_ = 0;
  bool stopped_ = false;
};

}  // namespace orderflow::runtime
