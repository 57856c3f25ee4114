// Wiring: builds the adapters named by the configuration and hands them, by plain
// constructor injection, to the functions, the dispatcher and the HTTP server.
#pragma once

#include <memory>
#include <thread>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "adapters/pdf/cairo_report_renderer.hpp"
#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "domain/wordnet_matcher.hpp"
#include "functions/admin_functions.hpp"
#include "functions/event_functions.hpp"
#include "functions/image_functions.hpp"
#include "functions/order_functions.hpp"
#include "functions/report_functions.hpp"
#include "functions/subscription_functions.hpp"
#include "ports/image_recognizer.hpp"
#include "runtime/access_control.hpp"
#include "runtime/backends.hpp"
#include "runtime/bus_pipeline.hpp"
#include "runtime/config.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/event_stream.hpp"
#include "runtime/http_server.hpp"
#include "runtime/metrics.hpp"
#include "runtime/pruner.hpp"
#include "runtime/readiness.hpp"
#include "runtime/router.hpp"
#include "runtime/subscription_table.hpp"

namespace orderflow::runtime {

// The admin token: config's admin_token, else the one kept in <data_dir>/admin-token (created
// with mode 0600 on first start).
std::string admin_token(const Config& config);

// The product-image check: the recognizer and the WordNet matcher over its classes.
struct ImageCheck {
  std::unique_ptr<ports::ImageRecognizer> recognizer;
  std::unique_ptr<domain::DescriptionMatcher> matcher;  // null when recognizer = none
};

// Loads what `config.recognizer` names. Throws ConfigError naming the setting when the model or
// WordNet cannot be loaded.
ImageCheck make_image_check(const Config& config);
// The cheap part of that check, done before serving: the files it will need exist.
void check_image_files(const Config& config);

// What one process runs. Any number of each can share one PostgreSQL database.
enum class Role {
  all,     // orderflow serve: the HTTP API and the event workers
  api,     // orderflow serve --role api: the HTTP API only (commits still wake other workers)
  worker,  // orderflow worker: the event workers, with /healthz, /readyz and /metrics
};

class App {
 public:
  // Creates the data dir and opens every adapter. Throws ConfigError (a setting is wrong) or
  // ports::InfraError / std::exception (something could not be opened).
  App(Config config, Role role);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Serves until SIGTERM or SIGINT, then stops gracefully. Returns the process exit code.
  int run();

 private:
  void load_image_check();
  ports::DeliveryAdmin& deliveries();  // the store's, or the bus's wrapper of it

  Config config_;  // the members below borrow it
  Role role_;
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_;
  Stores stores_;
  adapters::HmacSigner signer_;
  Objects objects_;
  std::unique_ptr<ports::Mailer> mailer_;
  // What the functions use: the two above, with their latest outcome kept for /readyz.
  ObservedObjectStore objects_observed_;
  ObservedMailer mailer_observed_;
  adapters::CairoReportRenderer renderer_;
  ImageCheck image_check_;  // filled by image_loader_

  functions::OrderContext orders_;
  functions::ArchiveContext archive_;
  functions::NotifyContext notify_;
  functions::SubscriptionLimits subscription_limits_;
  functions::SubscriptionContext subscriptions_;
  // Before report_jobs_, whose renders tell it their progress until they are joined.
  EventStreamHub event_stream_;
  functions::ReportContext reports_;
  functions::ReportJobs report_jobs_;  // renders on threads of its own, stopped before reports_
  std::unique_ptr<functions::ImageContext> images_;  // set by image_loader_ when loaded
  EventFunctionContexts events_;
  Dispatcher dispatcher_;  // runs with bus = local
  // With bus = nats://: the connection, the relay and consumers, and redrive through the bus.
  std::unique_ptr<adapters::nats::JetStream> bus_;
  std::unique_ptr<BusPipeline> pipeline_;
  std::unique_ptr<BusDeliveryAdmin> bus_admin_;
  functions::AdminContext admin_;
  AccessControl access_;
  Pruner pruner_;  // runs where the workers run

  Router router_;
  Metrics metrics_;
  Services services_;
  HttpServer server_;  // stopped and destroyed before what it uses
  // Loads the model and WordNet (about a second) while the server already serves; joined
  // first on destruction.
  std::jthread image_loader_;
};

}  // namespace orderflow::runtime
