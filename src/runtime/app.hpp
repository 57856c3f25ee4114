// Wiring: builds the adapters named by the configuration and hands them, by plain
// constructor injection, to the functions and the HTTP server.
#pragma once

#include <memory>

#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "functions/order_functions.hpp"
#include "ports/order_store.hpp"
#include "runtime/config.hpp"
#include "runtime/http_server.hpp"
#include "runtime/metrics.hpp"
#include "runtime/router.hpp"

namespace orderflow::runtime {

// The store named by `config.store`. Throws ConfigError for an unsupported scheme and
// ports::InfraError when the store cannot be opened.
std::unique_ptr<ports::OrderStore> make_order_store(const Config& config);

class App {
 public:
  // Creates the data dir and opens every adapter. Throws ConfigError (a setting is wrong) or
  // ports::InfraError / std::exception (something could not be opened).
  explicit App(Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Serves until SIGTERM or SIGINT, then stops gracefully. Returns the process exit code.
  int run();

 private:
  Config config_;  // the members below borrow it
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_;
  std::unique_ptr<ports::OrderStore> store_;
  functions::OrderContext orders_;
  Router router_;
  Metrics metrics_;
  Services services_;
  HttpServer server_;  // last: stopped and destroyed before what it uses
};

}  // namespace orderflow::runtime
