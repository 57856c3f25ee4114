// The route table: which request reaches which function, and on which threads it runs.
// The table itself is data, in routes.cpp; the router (router.hpp) matches requests against it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "functions/admin_functions.hpp"
#include "functions/api.hpp"
#include "functions/image_functions.hpp"
#include "functions/order_functions.hpp"
#include "functions/report_functions.hpp"
#include "functions/report_jobs.hpp"
#include "functions/subscription_functions.hpp"
#include "ports/delivery_admin.hpp"
#include "ports/order_store.hpp"
#include "runtime/access_control.hpp"
#include "runtime/http_policy.hpp"

namespace orderflow::adapters {
class FileObjectStore;
}

namespace orderflow::runtime {

class Metrics;
struct DispatcherCounters;
class EventStreamHub;
class BusPipeline;
class LastOutcome;

// Where a handler runs.
enum class Execution {
  io_thread,   // "inline": on the I/O thread that parsed the request (reads, health checks)
  worker,      // on the blocking worker pool; writes wait there for their group commit's fsync,
               // so many requests share one commit without stalling the I/O threads
  store_read,  // reads the store: inline on an embedded store (SQLite answers in microseconds),
               // on the worker pool when the store is across the network (PostgreSQL)
  waits,       // waits for something to happen (GET /events): the async handler, on the I/O
               // thread; it answers later and no thread waits meanwhile
};

// What handlers are given. Borrowed; all of it outlives the server.
struct Services {
  functions::OrderContext& orders;
  ports::OrderStore& store;
  Metrics& metrics;
  // The event pipeline and reports. Null only in tests that serve the order routes alone.
  functions::SubscriptionContext* subscriptions = nullptr;
  functions::AdminContext* admin = nullptr;
  functions::ReportContext* reports = nullptr;
  functions::ReportJobs* report_jobs = nullptr;  // report renders in the background, shared
  ports::DeliveryAdmin* deliveries = nullptr;
  const DispatcherCounters* dispatcher = nullptr;
  adapters::FileObjectStore* file_objects = nullptr;  // null when objects live in S3
  // Set once the recognizer has loaded (it loads in the background, so the server is ready at
  // once); until then the image route answers 503 with Retry-After.
  std::atomic<functions::ImageContext*> images = nullptr;
  std::atomic<const char*> recognizer_state = "none";  // for /readyz: none|loading|loaded|failed
  EventStreamHub* event_stream = nullptr;              // GET /events; null in tests without it
  BusPipeline* bus = nullptr;                          // with bus = nats://, for its metrics
  // For /readyz: the latest outcome of object writes and mails; null in tests without them.
  const LastOutcome* objects = nullptr;
  const LastOutcome* mailer = nullptr;
  // API keys and scopes, checked by the gateway; null in tests that serve routes alone (then
  // every route is open).
  AccessControl* access = nullptr;
};

using Handler = functions::Response (*)(Services&, const functions::Request&);
// A handler that answers through `respond` once the store has committed (or, for a `waits`
// route, once what it waits for has happened), so the request holds no thread while it waits.
// Used instead of the Handler, on the I/O thread, on `waits` routes and when the store commits
// on threads of its own (OrderStore::commits_in_background); it must not block.
using AsyncHandler = void (*)(Services&, const functions::Request&, functions::Respond respond);

// What a route accepts as a request body. Bytes past `max_bytes` are a 413 before they are read
// (never more than max_body_bytes; kUploadBody means max_body_bytes itself). With json_members
// set, a JSON body with more members in any one object or array, or nested deeper than
// json_depth, is a 400 before the function runs. A body whose Content-Type is not one of
// `media` is a 415 before it is read.
struct BodyLimits {
  std::int64_t max_bytes = std::int64_t{64} * 1024;
  std::size_t json_members = 0;  // 0: the body's shape is not checked
  std::size_t json_depth = 0;
  BodyMedia media = BodyMedia::any;  // a body of another Content-Type is a 415
};
inline constexpr std::int64_t kUploadBody = 0;

struct Route {
  std::string_view method;    // "GET", "POST", ...
  std::string_view pattern;   // "/orders/{orderId}": literal segments and {name} parameters
  std::string_view function;  // the name of the function it calls, for readers and logs
  Execution execution;
  Access access;  // what the caller must be allowed (access_control.hpp)
  Handler handler;
  AsyncHandler async_handler = nullptr;  // the same function completing later, where it has one
  BodyLimits body = {};                  // what the gateway lets through to the function
};

// Every route of the service, in one place.
std::span<const Route> route_table();
// What an `orderflow worker` process answers: health, readiness and metrics only.
std::span<const Route> worker_route_table();

}  // namespace orderflow::runtime
