#include "runtime/app.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <filesystem>
#include <random>

#include "adapters/crypto/api_key_material.hpp"
#include "adapters/wordnet/wordnet_files.hpp"
#include "domain/encoding.hpp"
#include "functions/image_header.hpp"
#include "runtime/modules.hpp"

namespace orderflow::runtime {
namespace {

// In-flight requests get this long to finish after SIGTERM.
constexpr auto kShutdownGrace = std::chrono::seconds(10);

// The configuration, once its data dir exists (everything else hangs off it).
Config with_data_dir(Config config) {
  ensure_directory("data_dir", config.data_dir);
  return config;
}

// A secret kept in the data dir: read, or generated on the first start (and after a write that
// failed and left an empty file).
std::string data_dir_secret(const Config& config, const char* file, const char* what) {
  const auto path = std::filesystem::path(config.data_dir) / file;
  auto secret = adapters::HmacSigner::load_or_create_secret(path);
  if (secret.created) spdlog::info("generated the {} into {} (mode 0600)", what, path.string());
  return std::move(secret.value);
}

std::string signing_secret(const Config& config) {
  if (config.signing_secret) return *config.signing_secret;
  if (store_is_shared(config))
    spdlog::warn(
        "signing_secret is not set: links this process signs verify only on processes with "
        "the same data_dir; give every replica the same ORDERFLOW_SIGNING_SECRET");
  return data_dir_secret(config, "signing-secret", "signing secret");
}

RetryPolicy retry_policy(const DeliveryConfig& d);

BusOptions bus_options_with_seed(const Config& config) {
  BusOptions o = bus_options(config);
  o.jitter_seed = std::random_device{}();
  return o;
}

}  // namespace

void check_image_files(const Config& config) {
  if (config.recognizer == "none") return;
  if (!config.recognizer.starts_with("opencv:"))
    throw ConfigError(fmt::format(
        "recognizer: this build supports opencv:<dir> or none, got \"{}\"", config.recognizer));
  const std::filesystem::path dir(config.recognizer.substr(7));
  for (const auto& file : {dir / "mobilenetv2-12-int8.onnx", dir / "imagenet1k_labels.tsv",
                           std::filesystem::path(adapters::kDefaultWordNetDir) / "data.noun"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      throw ConfigError(
          fmt::format("recognizer: missing {} (install wordnet-base, or set recognizer = \"none\")",
                      file.string()));
  }
}

ImageCheck make_image_check(const Config& config) {
  if (config.recognizer == "none")
    return {std::make_unique<ports::UnavailableRecognizer>(), nullptr};
  if (!config.recognizer.starts_with("opencv:"))
    throw ConfigError(fmt::format(
        "recognizer: this build supports opencv:<dir> or none, got \"{}\"", config.recognizer));
  try {
    auto recognizer = open_vision_module({.model_dir = config.recognizer.substr(7),
                                          .max_pixels = functions::ImageLimits{}.max_pixels,
                                          .workers = config.recognizer_workers,
                                          .cache_entries = 256});
    auto matcher =
        adapters::load_description_matcher(adapters::kDefaultWordNetDir, recognizer->classes());
    return {std::move(recognizer), std::move(matcher)};
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

std::string admin_token(const Config& config) {
  if (config.admin_token) return *config.admin_token;
  return data_dir_secret(config, "admin-token", "admin token");
}

// A bucket of `count` that refills over `period`; none when either is 0.
domain::BucketPolicy per_period(int count, std::chrono::seconds period) {
  if (count <= 0 || period.count() <= 0) return {};
  return {static_cast<double>(count), count / static_cast<double>(period.count())};
}

functions::SubscriptionLimits subscription_limits(const LimitsConfig& l) {
  return {per_period(l.subscription_requests_per_hour, std::chrono::hours(1)),
          per_period(1, std::chrono::seconds(l.address_mail_interval_s)),
          per_period(l.address_mails_per_day, std::chrono::hours(24))};
}

AccessOptions access_options(const Config& c) {
  AccessOptions o;
  o.keys_required = c.auth.mode == "api_keys";
  o.admin_token = admin_token(c);
  o.api_rate = {static_cast<double>(c.limits.api_burst), c.limits.api_per_minute / 60.0};
  return o;
}

App::App(Config config, Role role)
    : config_(with_data_dir(std::move(config))),
      role_(role),
      ids_(clock_),
      stores_(open_stores(config_)),
      signer_(signing_secret(config_)),
      objects_(open_objects(config_, signer_, clock_)),
      mailer_(open_mailer(config_, clock_)),
      objects_observed_(*objects_.store),
      mailer_observed_(*mailer_),

      orders_{*stores_.orders, clock_, ids_, &objects_observed_,
              std::chrono::seconds(config_.retention.idempotency_keys_s)},
      archive_{objects_observed_, *stores_.archive},
      notify_{*stores_.subscriptions,
              mailer_observed_,
              signer_,
              {config_.public_url, config_.mail_from},
              clock_,
              std::chrono::milliseconds(config_.delivery.lease_ms)},
      subscription_limits_(subscription_limits(config_.limits)),
      subscriptions_{*stores_.subscriptions,
                     mailer_observed_,
                     signer_,
                     clock_,
                     {config_.public_url, config_.mail_from},
                     adapters::random_token,
                     &subscription_limits_},
      event_stream_(*stores_.orders, {.max_listeners = config_.sse_max_listeners}),
      reports_{objects_observed_,
               *stores_.archive,
               renderer_,
               clock_,
               ids_,
               std::chrono::hours(config_.report_max_age_h)},
      report_jobs_(reports_,
                   [this](const std::string& id, const std::string& status) {
                     event_stream_.publish(functions::ReportJobs::kProgressEvent, id, status);
                   }),
      events_{archive_, notify_},
      dispatcher_(*stores_.queue, clock_,
                  subscription_table(events_, retry_policy(config_.delivery)),
                  {unique_owner_id(), std::chrono::milliseconds(config_.delivery.lease_ms),
                   std::random_device{}()}),
      bus_(open_bus(config_, unique_owner_id())),
      pipeline_(bus_ ? std::make_unique<BusPipeline>(
                           *bus_, *stores_.bus, *stores_.queue, *stores_.deliveries, clock_,
                           subscription_table(events_, retry_policy(config_.delivery)),
                           bus_options_with_seed(config_))
                     : nullptr),
      bus_admin_(pipeline_ ? std::make_unique<BusDeliveryAdmin>(*stores_.deliveries, *pipeline_)
                           : nullptr),
      admin_{deliveries(), clock_},
      access_(*stores_.keys, clock_, access_options(config_)),
      pruner_(*stores_.deliveries, clock_,
              {std::chrono::seconds(config_.retention.idempotency_keys_s),
               std::chrono::seconds(config_.retention.records_s)}),
      router_(role == Role::worker ? worker_route_table() : route_table()),
      metrics_(metric_route_labels(router_), static_cast<std::size_t>(config_.io_threads)),
      services_{orders_,
                *stores_.orders,
                metrics_,
                &subscriptions_,
                &admin_,
                &reports_,
                &report_jobs_,
                &deliveries(),
                pipeline_ ? &pipeline_->counters() : &dispatcher_.counters(),
                objects_.files,
                nullptr,
                role == Role::worker ? "none" : "loading"},
      server_(config_, router_, services_) {
  services_.event_stream = &event_stream_;
  services_.access = &access_;
  services_.bus = pipeline_.get();
  services_.objects = &objects_observed_.outcome();
  services_.mailer = &mailer_observed_.outcome();
  // Every commit that appends events, fans them out or redrives wakes the dispatcher or the bus
  // relay (no polling delay after idle) and the live listeners of GET /events.
  stores_.orders->on_commit([this] {
    if (pipeline_)
      pipeline_->wake();
    else
      dispatcher_.wake();
    event_stream_.notify();
  });
  if (role_ == Role::worker) return;  // workers never classify images
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
  images_ = std::make_unique<functions::ImageContext>(
      functions::ImageContext{*image_check_.recognizer, image_check_.matcher.get(), *stores_.orders,
                              objects_observed_, clock_, ids_});
  const bool loaded = image_check_.matcher != nullptr;
  services_.recognizer_state.store(loaded ? "loaded"
                                          : (config_.recognizer == "none" ? "none" : "failed"));
  services_.images.store(images_.get());
  if (loaded) spdlog::info("image check loaded ({})", config_.recognizer);
  // Parsing the model and WordNet leaves tens of megabytes freed in this thread's malloc arena,
  // which glibc keeps mapped (and counted as resident) unless asked to give it back.
  malloc_trim(0);
}

ports::DeliveryAdmin& App::deliveries() {
  return bus_admin_ ? static_cast<ports::DeliveryAdmin&>(*bus_admin_) : *stores_.deliveries;
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

  // Bound first, so that every link is right before the first request or delivery runs
  // (listen may say :0; the real port goes into the public URL).
  server_.bind();
  if (config_.public_url_from_listen) {
    config_.public_url = server_.url();
    notify_.mail.public_url = config_.public_url;
    subscriptions_.mail.public_url = config_.public_url;
    if (objects_.files != nullptr) objects_.files->set_public_url(config_.public_url);
  }
  server_.start();
  if (pipeline_)
    pipeline_->start(role_ != Role::api, [this] { event_stream_.notify(); });
  else if (role_ != Role::api)
    dispatcher_.start();
  if (role_ != Role::api) pruner_.start();
  static constexpr const char* kRoleNames[] = {"api and workers", "api", "worker"};
  spdlog::info(
      "role {}; store {}, bus {}, objects {}, mailer {}, recognizer {}, {} I/O threads, {} workers",
      kRoleNames[static_cast<int>(role_)], domain::redacted_url(config_.store),
      domain::redacted_url(config_.bus),
      config_.objects.starts_with("s3://") ? "s3" : config_.objects,
      config_.mailer.starts_with("smtp") ? "smtp" : config_.mailer,
      role_ == Role::worker ? "none" : config_.recognizer, config_.io_threads,
      config_.worker_threads);
  if (config_.auth.mode == "none" && !listen_is_loopback(config_.listen))
    spdlog::warn(
        "auth.mode = \"none\" on {}, which is not a loopback address: anyone who can reach it "
        "may create, change and delete orders; use auth.mode = \"api_keys\" and orderflow keys",
        config_.listen);
  if (!public_url_is_private_or_https(config_.public_url))
    spdlog::warn(
        "public_url {} is neither https nor on a loopback address: the confirmation and "
        "unsubscribe links mailed to subscribers can be read and used on the way",
        config_.public_url);
  spdlog::info("auth: {}", config_.auth.mode == "api_keys"
                               ? "API keys required (orderflow keys create ...)"
                               : "none (every route but /admin/ is open)");
  if (role_ != Role::all && !store_is_shared(config_))
    spdlog::warn(
        "store {} is not shared between processes: other processes learn of this one's commits "
        "only at their next poll (about a second); use store = postgresql://... to scale out",
        config_.store);
  spdlog::info("listening on {}", server_.url());
  spdlog::default_logger()->flush();

  signal_context.run();
  spdlog::info("received {}, stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
  event_stream_.stop();  // waiting /events requests answer now instead of holding the drain
  server_.stop(kShutdownGrace);
  if (pipeline_) pipeline_->stop();
  dispatcher_.stop();
  pruner_.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace orderflow::runtime
