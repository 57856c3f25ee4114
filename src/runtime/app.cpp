#include "runtime/app.hpp"

#include <csignal>
#include <filesystem>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/mail/maildir_mailer.hpp"
#include "adapters/opencv/caching_recognizer.hpp"
#include "adapters/opencv/opencv_recognizer.hpp"
#include "adapters/wordnet/wordnet_files.hpp"
#include "adapters/mail/smtp_mailer.hpp"
#include "adapters/s3/s3_object_store.hpp"

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
  if (config.bus != "local")
    throw ConfigError(fmt::format("bus: this build delivers events with its local dispatcher only, got \"{}\"",
                                  config.bus));
  ensure_directory("data_dir", config.data_dir);
  return config;
}

std::string signing_secret(const Config& config) {
  if (config.signing_secret) return *config.signing_secret;
  return adapters::HmacSigner::load_or_create_secret(std::filesystem::path(config.data_dir) / "signing-secret");
}

std::unique_ptr<ports::ObjectStore> make_object_store(const Config& config, const ports::Signer& signer,
                                                      const ports::Clock& clock) {
  const std::string_view url = config.objects;
  if (url.starts_with("file:")) {
    const std::filesystem::path dir(std::string(url.substr(5)));
    ensure_directory("objects", dir);
    return std::make_unique<adapters::FileObjectStore>(dir, config.public_url, signer, clock);
  }
  try {
    return adapters::make_s3_object_store(url, clock);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

std::unique_ptr<ports::Mailer> make_mailer(const Config& config, const ports::Clock& clock) {
  const std::string_view url = config.mailer;
  if (url.starts_with("maildir:")) {
    const std::filesystem::path dir(std::string(url.substr(8)));
    ensure_directory("mailer", dir);
    return std::make_unique<adapters::MaildirMailer>(dir, clock);
  }
  try {
    return std::make_unique<adapters::SmtpMailer>(config.mailer, clock);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

RetryPolicy retry_policy(const DeliveryConfig& d);

}  // namespace

void check_image_files(const Config& config) {
  if (config.recognizer == "none") return;
  if (!config.recognizer.starts_with("opencv:"))
    throw ConfigError(fmt::format("recognizer: this build supports opencv:<dir> or none, got \"{}\"", config.recognizer));
  const std::filesystem::path dir(config.recognizer.substr(7));
  for (const auto& file : {dir / "mobilenetv2-12-int8.onnx", dir / "imagenet1k_labels.tsv",
                           std::filesystem::path(adapters::kDefaultWordNetDir) / "data.noun"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      throw ConfigError(fmt::format("recognizer: missing {} (install wordnet-base, or set recognizer = \"none\")",
                                    file.string()));
  }
}

ImageCheck make_image_check(const Config& config) {
  if (config.recognizer == "none") return {std::make_unique<ports::UnavailableRecognizer>(), nullptr};
  if (!config.recognizer.starts_with("opencv:"))
    throw ConfigError(fmt::format("recognizer: this build supports opencv:<dir> or none, got \"{}\"", config.recognizer));
  try {
    auto opencv = std::make_unique<adapters::OpenCvRecognizer>(
        adapters::OpenCvRecognizerOptions{config.recognizer.substr(7)});
    auto matcher = adapters::load_description_matcher(adapters::kDefaultWordNetDir, opencv->classes());
    return {std::make_unique<adapters::CachingRecognizer>(std::move(opencv), 256), std::move(matcher)};
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("recognizer: {}", e.what()));
  }
}

namespace {

RetryPolicy retry_policy(const DeliveryConfig& d) {
  return RetryPolicy{d.max_attempts, std::chrono::milliseconds(d.backoff_initial_ms),
                     std::chrono::milliseconds(d.backoff_max_ms)};
}

}  // namespace

adapters::SqliteStores open_stores(const Config& config) {
  const std::string_view url = config.store;
  if (url.starts_with("sqlite:")) {
    const std::filesystem::path path(std::string(url.substr(7)));
    if (path.has_parent_path()) ensure_directory("store", path.parent_path());
    return adapters::open_sqlite_stores(adapters::SqliteStoreOptions{path.string()});
  }
  throw ConfigError(fmt::format("store: this build supports sqlite:<path> only, got \"{}\"", config.store));
}

std::string admin_token(const Config& config) {
  if (config.admin_token) return *config.admin_token;
  const auto path = std::filesystem::path(config.data_dir) / "admin-token";
  const bool existed = std::filesystem::exists(path);
  std::string token = adapters::HmacSigner::load_or_create_secret(path);
  if (!existed) spdlog::info("generated the admin token into {} (mode 0600)", path.string());
  return token;
}

App::App(Config config)
    : config_(with_data_dir(std::move(config))),
      ids_(clock_),
      stores_(open_stores(config_)),
      signer_(signing_secret(config_)),
      objects_(make_object_store(config_, signer_, clock_)),
      file_objects_(dynamic_cast<adapters::FileObjectStore*>(objects_.get())),
      mailer_(make_mailer(config_, clock_)),

      orders_{*stores_.orders, clock_, ids_, objects_.get()},
      archive_{*objects_},
      notify_{*stores_.subscriptions, *mailer_, signer_, {config_.public_url, config_.mail_from}},
      subscriptions_{*stores_.subscriptions, *mailer_, signer_, clock_, {config_.public_url, config_.mail_from}},
      reports_{*objects_, renderer_, clock_, ids_, std::chrono::hours(config_.report_max_age_h)},
      events_{archive_, notify_},
      dispatcher_(*stores_.deliveries, clock_, subscription_table(events_, retry_policy(config_.delivery)),
                  std::random_device{}()),
      admin_{*stores_.deliveries, clock_, admin_token(config_), [this] { dispatcher_.wake(); }},
      event_stream_(*stores_.orders),
      router_(route_table()),
      metrics_(metric_route_labels(router_), static_cast<std::size_t>(config_.io_threads)),
      services_{orders_, *stores_.orders, metrics_, &subscriptions_, &admin_, &reports_,
                stores_.deliveries.get(), &dispatcher_.counters(), file_objects_, nullptr, "loading"},
      server_(config_, router_, services_) {
  services_.event_stream = &event_stream_;
  // Every commit that appends events wakes the dispatcher (no polling delay after idle) and the
  // live listeners of GET /events.
  stores_.orders->on_commit([this] {
    dispatcher_.wake();
    event_stream_.notify();
  });
  check_image_files(config_);
  image_loader_ = std::jthread([this] { load_image_check(); });
}

void App::load_image_check() {
  try {
    image_check_ = make_image_check(config_);
  } catch (const std::exception& e) {
    // Orders still work; the image route answers "unavailable" like recognizer = none.
    spdlog::error("image check disabled: {}", e.what());
    image_check_ = ImageCheck{std::make_unique<ports::UnavailableRecognizer>(), nullptr};
  }
  images_ = std::make_unique<functions::ImageContext>(functions::ImageContext{
      *image_check_.recognizer, image_check_.matcher.get(), *stores_.orders, *objects_, clock_, ids_});
  const bool loaded = image_check_.matcher != nullptr;
  services_.recognizer_state.store(loaded ? "loaded" : (config_.recognizer == "none" ? "none" : "failed"));
  services_.images.store(images_.get());
  if (loaded) spdlog::info("image check loaded ({})", config_.recognizer);
}

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
  if (config_.public_url_from_listen) {
    // Links in mails and presigned URLs need the port actually bound (listen may say :0).
    config_.public_url = server_.url();
    notify_.mail.public_url = config_.public_url;
    subscriptions_.mail.public_url = config_.public_url;
    if (file_objects_ != nullptr) file_objects_->set_public_url(config_.public_url);
  }
  dispatcher_.start();
  spdlog::info("store {}, objects {}, mailer {}, recognizer {}, {} I/O threads, {} workers", config_.store,
               config_.objects.starts_with("s3://") ? "s3" : config_.objects,
               config_.mailer.starts_with("smtp") ? "smtp" : config_.mailer, config_.recognizer,
               config_.io_threads, config_.worker_threads);
  spdlog::info("listening on {}", server_.url());
  spdlog::default_logger()->flush();

  signal_context.run();
  spdlog::info("received {}, stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
  event_stream_.stop();  // waiting /events requests answer now instead of holding the drain
  server_.stop(kShutdownGrace);
  dispatcher_.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace orderflow::runtime
