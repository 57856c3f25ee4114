#include "runtime/app.hpp"

#include <csignal>
#include <filesystem>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/sqlite/sqlite_order_store.hpp"

namespace orderflow::runtime {
namespace {

// In-flight requests get this long to finish after SIGTERM.
constexpr auto kShutdownGrace = std::chrono::seconds(10);

void ensure_directory(std::string_view setting, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw ConfigError(fmt::format("{}: cannot create directory \"{}\": {}", setting, dir.string(), ec.message()));
}

// The configuration, once its data dir exists (everything else hangs off it).
Config with_data_dir(Config config) {
  ensure_directory("data_dir", config.data_dir);
  return config;
}

}  // namespace

std::unique_ptr<ports::OrderStore> make_order_store(const Config& config) {
  const std::string_view url = config.store;
  if (url.starts_with("sqlite:")) {
    const std::filesystem::path path(std::string(url.substr(7)));
    if (path.has_parent_path()) ensure_directory("store", path.parent_path());
    return std::make_unique<adapters::SqliteOrderStore>(adapters::SqliteStoreOptions{path.string()});
  }
  throw ConfigError(fmt::format("store: this build supports sqlite:<path> only, got \"{}\"", config.store));
}

App::App(Config config)
    : config_(with_data_dir(std::move(config))),
      ids_(clock_),
      store_(make_order_store(config_)),
      orders_{*store_, clock_, ids_},
      router_(route_table()),
      metrics_(metric_route_labels(router_), static_cast<std::size_t>(config_.io_threads)),
      services_{orders_, *store_, metrics_},
      server_(config_, router_, services_) {}

App::~App() = default;

int App::run() {
  // Installed before the server starts, so an early SIGTERM is never the default action.
  boost::asio::io_context signal_context(1);
  boost::asio::signal_set signals(signal_context, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (!ec) received = signal;
  });

  server_.start();
  spdlog::info("store {}, recognizer {}, {} I/O threads, {} workers", config_.store, config_.recognizer,
               config_.io_threads, config_.worker_threads);
  spdlog::info("listening on {}", server_.url());
  spdlog::default_logger()->flush();

  signal_context.run();
  spdlog::info("received {}, stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
  server_.stop(kShutdownGrace);
  spdlog::info("stopped");
  return 0;
}

}  // namespace orderflow::runtime
