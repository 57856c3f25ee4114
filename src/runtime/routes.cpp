// The whole HTTP surface of orderflow at a glance (ARCHITECTURE §4).
#include "runtime/routes.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "domain/json_writer.hpp"
#include "runtime/bus_pipeline.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/event_stream.hpp"
#include "runtime/metrics.hpp"
#include "runtime/object_route.hpp"
#include "runtime/openapi.hpp"
#include "runtime/readiness.hpp"
#include "runtime/static_assets.hpp"

namespace orderflow::runtime {
namespace {

using functions::Request;
using functions::Response;

Response healthz(Services&, const Request&) {
  return functions::json_response(200, R"({"status":"ok"})");
}

// Ready when the store answers and its writes succeed; the rest is reported, never fatal: the
// recognizer is optional (orders work without it), and deliveries to a failing object store or
// mail server are retried, so their state (the latest write's outcome) is for operators.
Response readyz(Services& s, const Request&) {
  bool store_ok = false;
  try {
    store_ok = s.store.ping() && s.store.writable();
  } catch (const std::exception&) {
    store_ok = false;  // any failure of the check means "not ready", never a 500
  }
  domain::JsonWriter w;
  w.begin_object()
      .field("status", store_ok ? "ready" : "unavailable")
      .key("checks")
      .begin_object()
      .field("store", store_ok ? "ok" : "failing");
  if (s.objects != nullptr) w.field("objects", s.objects->state());
  if (s.mailer != nullptr) w.field("mailer", s.mailer->state());
  w.field("recognizer", s.recognizer_state.load()).end_object().end_object();
  return functions::json_response(store_ok ? 200 : 503, w.take());
}

Response metrics(Services& s, const Request&) {
  std::string text = s.metrics.render(s.store);
  if (s.dispatcher != nullptr && s.deliveries != nullptr)
    text += render_delivery_metrics(*s.dispatcher, *s.deliveries, s.orders.clock.now());
  if (s.bus != nullptr) text += s.bus->render_metrics();
  if (s.access != nullptr) text += s.access->render_metrics();
  if (s.event_stream != nullptr)
    text += fmt::format(
        "# HELP orderflow_sse_listeners GET /events requests waiting for an event.\n"
        "# TYPE orderflow_sse_listeners gauge\norderflow_sse_listeners {}\n",
        s.event_stream->listeners());
  return Response{200, std::move(text), "text/plain; version=0.0.4; charset=utf-8", {}};
}

Response unavailable(std::string_view what) {
  return functions::error_response(503, "unavailable",
                                   std::string(what) + " is not configured in this process");
}

template <Response (*Function)(functions::SubscriptionContext&, const Request&)>
Response subscription_function(Services& s, const Request& req) {
  return s.subscriptions ? Function(*s.subscriptions, req) : unavailable("e-mail subscription");
}

template <Response (*Function)(functions::AdminContext&, const Request&)>
Response admin_function(Services& s, const Request& req) {
  return s.admin ? Function(*s.admin, req) : unavailable("the admin API");
}

// "redriven=N" from a bulk redrive's answer.
std::string redriven_count(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  const auto* n = !ec && v.is_object() ? v.as_object().if_contains("redriven") : nullptr;
  return "redriven=" + (n != nullptr ? boost::json::serialize(*n) : std::string("?"));
}

// A redrive that went through is audited: who asked, and what it sent again.
template <Response (*Function)(functions::AdminContext&, const Request&)>
Response audited_redrive(Services& s, const Request& req) {
  Response r = admin_function<Function>(s, req);
  if (r.status == 200 && s.access != nullptr) {
    const std::string_view id = req.path_param("deliveryId");
    s.access->audit(AuditAction::redrive, req,
                    id.empty() ? "deliveries=all_dead " + redriven_count(r.body)
                               : "delivery=" + std::string(id) + " redriven=1");
  }
  return r;
}

template <Response (*Function)(AccessControl&, const Request&)>
Response key_function(Services& s, const Request& req) {
  return s.access ? Function(*s.access, req) : unavailable("API key management");
}

// Runs on a worker: a key not in the cache is looked up in the store.
Response auth_session(Services& s, const Request& req) {
  return s.access ? s.access->session(req.header("Authorization"))
                  : unavailable("API key management");
}

// The seed's GET: waits for the report (rendered by the job every request for its range
// shares), on a worker thread like the render it used to run itself.
Response report(Services& s, const Request& req) {
  if (s.report_jobs != nullptr) return s.report_jobs->wait(req);
  return s.reports ? functions::generate_pdf_report(*s.reports, req) : unavailable("reporting");
}

Response start_report(Services& s, const Request& req) {
  return s.report_jobs ? s.report_jobs->start(req) : unavailable("report jobs");
}

Response report_status(Services& s, const Request& req) {
  return s.report_jobs ? s.report_jobs->status(req) : unavailable("report jobs");
}

Response object(Services& s, const Request& req) { return serve_object(s.file_objects, req); }

Response recognize_image(Services& s, const Request& req) {
  // Right after start-up the model may still be loading (about a second): this runs on the
  // worker pool, so wait for it a little rather than fail the first upload.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (s.images.load() == nullptr && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (functions::ImageContext* images = s.images.load())
    return functions::recognize_uploaded_image(*images, req);
  Response r = functions::error_response(
      503, "unavailable", "The image check is still loading its model; try again in a moment");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// Embedded with the web app's files (CMakeLists.txt): gzip, a strong ETag and revalidation.
Response openapi(Services&, const Request& req) {
  if (const EmbeddedFile* file = find_embedded_file("/openapi.json"))
    return serve_embedded_file(*file, req);
  return Response{200, std::string(openapi_document()), "application/json", {}};
}

// The web app: the page at / and its hashed files at /assets/.
Response web_app(Services&, const Request& req) {
  const EmbeddedFile* file = find_embedded_file(req.path);
  if (file == nullptr) return functions::error_response(404, "not_found", "Not found");
  return serve_embedded_file(*file, req);
}

// Waits (bounded) for new outbox events without holding a thread: the hub answers later.
void events_async(Services& s, const Request& req, functions::Respond respond) {
  if (s.event_stream == nullptr) return respond(unavailable("the event stream"), nullptr);
  s.event_stream->serve(req, std::move(respond));
}

// The same, for a caller that cannot wait asynchronously: blocks until the hub answers.
Response events(Services& s, const Request& req) {
  std::promise<Response> answer;
  events_async(s, req, [&answer](Response&& r, const std::exception_ptr& error) {
    if (error)
      answer.set_exception(error);
    else
      answer.set_value(std::move(r));
  });
  return answer.get_future().get();
}

template <Response (*Function)(functions::OrderContext&, const Request&)>
Response order_function(Services& s, const Request& req) {
  return Function(s.orders, req);
}

template <void (*Function)(functions::OrderContext&, const Request&, functions::Respond)>
void order_function_async(Services& s, const Request& req, functions::Respond respond) {
  Function(s.orders, req, std::move(respond));
}

constexpr auto io = Execution::io_thread;
constexpr auto worker = Execution::worker;
constexpr auto read = Execution::store_read;

// Request bodies (BodyLimits): every route takes at most 64 KiB unless it says otherwise. The
// JSON bodies are a few flat fields (an order has two), so more than 16 members in an object or
// nesting past 4 levels is refused before any function parses it; the upload takes
// max_body_bytes (a photo of up to 5 MB, base64 in JSON or multipart).
constexpr BodyLimits kJsonBody{std::int64_t{64} * 1024, 16, 4, BodyMedia::json};
constexpr BodyLimits kUploadJsonOrMultipart{kUploadBody, 16, 4, BodyMedia::json_or_multipart};
// The unsubscribe POST also takes the RFC 8058 one-click form body a mail client sends.
constexpr BodyLimits kJsonOrFormBody{std::int64_t{64} * 1024, 16, 4, BodyMedia::json_or_form};

constexpr Route kRoutes[] = {
    // method   pattern              function           runs on  who may call  handler
    {"POST", "/orders", "create_order", worker, Access::orders_write,
     order_function<functions::create_order>, order_function_async<functions::create_order_async>,
     kJsonBody},
    {"GET", "/orders", "get_orders", read, Access::orders_read,
     order_function<functions::get_orders>},
    {"GET", "/orders/{orderId}", "get_order_by_id", read, Access::orders_read,
     order_function<functions::get_order_by_id>},
    {"PUT", "/orders/{orderId}", "update_order", worker, Access::orders_write,
     order_function<functions::update_order>, nullptr, kJsonBody},
    {"PATCH", "/orders/{orderId}", "update_order", worker, Access::orders_write,
     order_function<functions::update_order>, nullptr, kJsonBody},
    {"DELETE", "/orders/{orderId}", "delete_order", worker, Access::orders_write,
     order_function<functions::delete_order>},
    {"POST", "/subscriptions", "subscribe_email", worker, Access::open,
     subscription_function<functions::subscribe_email>, nullptr, kJsonBody},
    // A GET shows the page whose button POSTs: mail scanners follow links, and confirm nothing.
    {"GET", "/subscriptions/confirm", "confirmation_page", worker, Access::open,
     subscription_function<functions::confirmation_page>},
    {"POST", "/subscriptions/confirm", "confirm_subscription", worker, Access::open,
     subscription_function<functions::confirm_subscription>, nullptr, kJsonOrFormBody},
    {"POST", "/subscriptions/unsubscribe", "unsubscribe_email", worker, Access::open,
     subscription_function<functions::unsubscribe_email>, nullptr, kJsonOrFormBody},
    {"GET", "/subscriptions/unsubscribe", "unsubscribe_page", worker, Access::open,
     subscription_function<functions::unsubscribe_page>},
    // Blocks until its image is classified on the recognizer's own worker threads.
    {"POST", "/images/recognize", "recognize_uploaded_image", worker, Access::orders_write,
     recognize_image, nullptr, kUploadJsonOrMultipart},
    {"GET", "/reports/deleted-orders", "generate_pdf_report", worker, Access::reports_read, report},
    {"POST", "/reports/deleted-orders", "start_report", worker, Access::reports_read, start_report},
    // After the literal path above, which the router tries first.
    {"GET", "/reports/{reportId}", "get_report", io, Access::reports_read, report_status},
    {"GET", "/objects/{key+}", "serve_object", worker, Access::open, object},
    {"GET", "/admin/deliveries", "list_deliveries", worker, Access::admin,
     admin_function<functions::list_deliveries>},
    {"POST", "/admin/deliveries/redrive", "redrive_deliveries", worker, Access::admin,
     audited_redrive<functions::redrive_deliveries>},
    {"POST", "/admin/deliveries/{deliveryId}/redrive", "redrive_delivery", worker, Access::admin,
     audited_redrive<functions::redrive_delivery>},
    {"POST", "/admin/keys", "create_api_key", worker, Access::admin, key_function<create_key_route>,
     nullptr, kJsonBody},
    {"GET", "/admin/keys", "list_api_keys", worker, Access::admin, key_function<list_keys_route>},
    {"DELETE", "/admin/keys/{keyId}", "revoke_api_key", worker, Access::admin,
     key_function<revoke_key_route>},
    {"GET", "/auth/session", "auth_session", worker, Access::open, auth_session},
    {"GET", "/healthz", "healthz", io, Access::open, healthz},
    // After a failed write, readiness tries one (an fsync), so it stays off the I/O threads.
    {"GET", "/readyz", "readyz", worker, Access::open, readyz},
    // store.stats() may count rows, so it stays off the I/O threads.
    {"GET", "/metrics", "metrics", worker, Access::metrics, metrics},
    {"GET", "/openapi.json", "openapi", io, Access::open, openapi},
    {"GET", "/events", "event_stream", Execution::waits, Access::orders_read, events, events_async},
    {"GET", "/", "web_app", io, Access::open, web_app},
    {"GET", "/assets/{file}", "web_app", io, Access::open, web_app},
};

constexpr Route kWorkerRoutes[] = {
    {"GET", "/healthz", "healthz", io, Access::open, healthz},
    {"GET", "/readyz", "readyz", worker, Access::open, readyz},
    {"GET", "/metrics", "metrics", worker, Access::metrics, metrics},
};

}  // namespace

std::span<const Route> route_table() { return kRoutes; }
std::span<const Route> worker_route_table() { return kWorkerRoutes; }

}  // namespace orderflow::runtime
