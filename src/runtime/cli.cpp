#include "runtime/cli.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "domain/encoding.hpp"
#include "ports/errors.hpp"
#include "runtime/app.hpp"
#include "runtime/config.hpp"
#include "runtime/logging.hpp"

namespace orderflow::runtime {
namespace {

constexpr int kConfigErrorExit = 2;

struct ServeFlags {
  std::string config_path;
  std::string listen;
  std::string data_dir;
  std::string public_url;
  std::string role = "all";
};

// --config, --listen, --data-dir and --public-url, the same on every command, so settings
// resolve exactly as the server's do.
void add_config_flags(CLI::App& command, ServeFlags& flags) {
  command.add_option("--config", flags.config_path, "TOML configuration file");
  command.add_option("--listen", flags.listen, "host:port to listen on (port 0: any free port)");
  command.add_option("--data-dir", flags.data_dir, "Directory for the database, objects and mail");
  command.add_option("--public-url", flags.public_url,
                     "Base URL of links in mails and presigned URLs");
}

ConfigSources sources_for(const ServeFlags& f, const CLI::App& serve) {
  ConfigSources s;
  if (serve.count("--config")) {
    std::ifstream in(f.config_path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("config: cannot read \"{}\"", f.config_path));
    std::ostringstream text;
    text << in.rdbuf();
    s.toml_text = text.str();
    s.toml_name = f.config_path;
  }
  s.env = orderflow_environment();
  if (serve.count("--listen")) s.flags["listen"] = f.listen;
  if (serve.count("--data-dir")) s.flags["data_dir"] = f.data_dir;
  if (serve.count("--public-url")) s.flags["public_url"] = f.public_url;
  s.model_dir_candidates = default_model_dir_candidates();
  return s;
}

int serve(const ServeFlags& flags, const CLI::App& command, Role role) {
  Config config;
  try {
    config = load_config(sources_for(flags, command));
  } catch (const ConfigError& e) {
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return kConfigErrorExit;
  }

  setup_logging(config);
  int code = 0;
  try {
    App app(std::move(config), role);
    code = app.run();
  } catch (const ConfigError& e) {
    spdlog::critical("configuration error: {}", e.what());
    shutdown_logging();
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return kConfigErrorExit;
  } catch (const std::exception& e) {
    spdlog::critical("start-up failed: {}", e.what());
    shutdown_logging();
    fmt::print(stderr, "orderflow: {}\n", e.what());
    return 1;
  }
  shutdown_logging();
  return code;
}

// `orderflow migrate`: brings the database's schema up to date and exits (serve and worker
// also do it at start; several processes at once migrate exactly once).
int migrate(const ServeFlags& flags, const CLI::App& command) {
  Config config;
  try {
    config = load_config(sources_for(flags, command));
    migrate_store(config);
  } catch (const ConfigError& e) {
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return kConfigErrorExit;
  } catch (const std::exception& e) {
    fmt::print(stderr, "orderflow: migrate failed: {}\n", e.what());
    return 1;
  }
  fmt::print("store {} is up to date\n", domain::redacted_url(config.store));
  return 0;
}

struct DeliveryFlags {
  std::string state = "dead";
  std::int64_t id = 0;
  bool all_dead = false;
  int limit = 1000;
};

// `orderflow deliveries list|redrive`: works on the store directly, so it also helps when the
// server is down; a running server notices a redrive within its idle tick (about a second).
int deliveries(const ServeFlags& flags, const CLI::App& command, const CLI::App& list,
               const CLI::App& redrive, const DeliveryFlags& d) {
  Config config;
  try {
    config = load_config(sources_for(flags, command));
  } catch (const ConfigError& e) {
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return kConfigErrorExit;
  }
  try {
    auto stores = open_stores(config);
    adapters::SystemClock clock;
    // With bus = nats://, a redrive publishes the event again for its subscription.
    auto bus = redrive.parsed() ? open_bus(config, "orderflow-cli") : nullptr;
    std::unique_ptr<BusPipeline> pipeline;
    std::unique_ptr<BusDeliveryAdmin> bus_admin;
    if (bus) {
      for (int i = 0; i < 50 && !bus->connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      pipeline =
          std::make_unique<BusPipeline>(*bus, *stores.bus, *stores.queue, *stores.deliveries, clock,
                                        std::vector<Subscription>{}, bus_options(config));
      bus_admin = std::make_unique<BusDeliveryAdmin>(*stores.deliveries, *pipeline);
    }
    ports::DeliveryAdmin& admin =
        bus_admin ? static_cast<ports::DeliveryAdmin&>(*bus_admin) : *stores.deliveries;
    if (list.parsed()) {
      ports::DeliveryState state = ports::DeliveryState::dead;
      if (d.state == "pending")
        state = ports::DeliveryState::pending;
      else if (d.state == "done")
        state = ports::DeliveryState::done;
      else if (d.state != "dead") {
        fmt::print(stderr, "--state must be pending, dead or done\n");
        return kConfigErrorExit;
      }
      std::int64_t after = 0;
      int shown = 0;
      while (shown < d.limit) {
        const auto page = stores.deliveries->list(state, after, std::min(200, d.limit - shown));
        for (const auto& delivery : page.deliveries)
          fmt::print("{}\n", functions::delivery_json(delivery));
        shown += static_cast<int>(page.deliveries.size());
        if (!page.has_more || page.deliveries.empty()) break;
        after = page.deliveries.back().id;
      }
      return 0;
    }
    if (redrive.parsed()) {
      if (d.all_dead == (d.id != 0)) {
        fmt::print(stderr, "give exactly one of --id N or --all-dead\n");
        return kConfigErrorExit;
      }
      if (d.all_dead) {
        const auto n = admin.redrive_all_dead(clock.now());
        log_audit(AuditAction::redrive, "orderflow deliveries redrive",
                  fmt::format("deliveries=all_dead redriven={}", n));
        fmt::print("redriven: {}\n", n);
        return 0;
      }
      if (!stores.deliveries->get(d.id)) {
        fmt::print(stderr, "no delivery {}\n", d.id);
        return 1;
      }
      if (!admin.redrive(d.id, clock.now())) {
        fmt::print(stderr, "delivery {} is not dead; only dead deliveries can be redriven\n", d.id);
        return 1;
      }
      log_audit(AuditAction::redrive, "orderflow deliveries redrive",
                fmt::format("delivery={} redriven=1", d.id));
      fmt::print("redriven: 1\n");
      return 0;
    }
  } catch (const ConfigError& e) {
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return kConfigErrorExit;
  } catch (const std::exception& e) {
    fmt::print(stderr, "orderflow: {}\n", e.what());
    return 1;
  }
  return 0;
}

struct KeyFlags {
  std::string name;
  std::string scopes;
  std::string expires;
  std::string id;
};

// `orderflow keys create|list|revoke`: on the store directly, like `deliveries`; a running
// server honours a new key at once and a revoke within its key cache's lifetime (5 s).
int keys(const ServeFlags& flags, const CLI::App& command, const CLI::App& create,
         const CLI::App& list, const KeyFlags& k) {
  Config config;
  std::optional<domain::Scopes> scopes;
  std::optional<std::chrono::seconds> lifetime;
  try {
    config = load_config(sources_for(flags, command));
    if (create.parsed()) {
      std::string bad;
      scopes = domain::parse_scopes(k.scopes, &bad);
      if (!scopes)
        throw ConfigError(fmt::format(
            "--scopes: expected a list of orders:read, orders:write, reports:read, admin, got {}",
            bad.empty() ? std::string("none") : "\"" + bad + "\""));
      if (!k.expires.empty() && !(lifetime = domain::parse_lifetime(k.expires)))
        throw ConfigError(fmt::format(
            "--expires: expected a lifetime like 90d, 12h or 30m, got \"{}\"", k.expires));
      if (k.name.empty()) throw ConfigError("--name: say what the key is for");
    }
  } catch (const ConfigError& e) {
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return kConfigErrorExit;
  }
  // The audit lines go to stderr: stdout carries only the key or the list.
  spdlog::set_default_logger(spdlog::stderr_color_mt("orderflow-keys"));
  try {
    auto stores = open_stores(config);
    adapters::SystemClock clock;
    if (create.parsed()) {
      const CreatedKey created = create_api_key(*stores.keys, clock, k.name, *scopes, lifetime);
      log_audit(AuditAction::key_created, "orderflow keys create",
                key_audit_details(created.record));
      fmt::print("{}\n", created.text);
      std::fflush(stdout);
    } else if (list.parsed()) {
      for (const auto& key : stores.keys->list()) fmt::print("{}\n", api_key_json(key));
      std::fflush(stdout);
    } else {
      if (!domain::is_key_id(k.id)) {
        fmt::print(stderr, "orderflow: {} is not a key id (16 lower-case hex digits)\n", k.id);
        return kConfigErrorExit;
      }
      if (!stores.keys->revoke(k.id, clock.now())) {
        fmt::print(stderr, "orderflow: no key has the id {}\n", k.id);
        return 1;
      }
      log_audit(AuditAction::key_revoked, "orderflow keys revoke", fmt::format("key={}", k.id));
    }
  } catch (const ConfigError& e) {
    fmt::print(stderr, "configuration error: {}\n", e.what());
    return kConfigErrorExit;
  } catch (const std::exception& e) {
    fmt::print(stderr, "orderflow: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  // A closed stdout or socket must be an error code, not a dead process.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app("orderflow: event-driven order management in one binary", "orderflow");
  app.set_version_flag("--version", std::string("orderflow ") + ORDERFLOW_VERSION);
  app.require_subcommand(1);

  ServeFlags flags;
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Run the HTTP service (and, by default, the event workers)");
  add_config_flags(*serve_cmd, flags);
  serve_cmd
      ->add_option("--role", flags.role,
                   "all (default): API and event workers; api: the HTTP API only")
      ->check(CLI::IsMember({"all", "api"}));

  ServeFlags worker_flags;
  CLI::App* worker_cmd = app.add_subcommand(
      "worker", "Run the event workers only (with /healthz, /readyz and /metrics on --listen)");
  add_config_flags(*worker_cmd, worker_flags);

  ServeFlags migrate_flags;
  CLI::App* migrate_cmd = app.add_subcommand("migrate", "Apply the database schema and exit");
  add_config_flags(*migrate_cmd, migrate_flags);

  ServeFlags delivery_config;
  DeliveryFlags delivery_flags;
  CLI::App* deliveries_cmd =
      app.add_subcommand("deliveries", "Inspect and redrive event deliveries");
  deliveries_cmd->require_subcommand(1);
  deliveries_cmd->add_option("--config", delivery_config.config_path, "TOML configuration file");
  deliveries_cmd->add_option("--data-dir", delivery_config.data_dir, "The server's data directory");
  // Accepted so that the settings resolve exactly as the server's do.
  deliveries_cmd->add_option("--listen", delivery_config.listen, "As for serve");
  deliveries_cmd->add_option("--public-url", delivery_config.public_url, "As for serve");
  CLI::App* list_cmd = deliveries_cmd->add_subcommand("list", "Print deliveries as JSON lines");
  list_cmd->add_option("--state", delivery_flags.state, "pending, dead (default) or done");
  list_cmd->add_option("--limit", delivery_flags.limit, "At most this many (default 1000)");
  CLI::App* redrive_cmd =
      deliveries_cmd->add_subcommand("redrive", "Make dead deliveries pending again");
  redrive_cmd->add_option("--id", delivery_flags.id, "One delivery by id");
  redrive_cmd->add_flag("--all-dead", delivery_flags.all_dead, "Every dead delivery");
  // `deliveries list --data-dir X` as well as `deliveries --data-dir X list`.
  list_cmd->fallthrough();
  redrive_cmd->fallthrough();

  ServeFlags key_config;
  KeyFlags key_flags;
  CLI::App* keys_cmd = app.add_subcommand("keys", "Create, list and revoke API keys");
  keys_cmd->require_subcommand(1);
  add_config_flags(*keys_cmd, key_config);
  CLI::App* key_create_cmd =
      keys_cmd->add_subcommand("create", "Make a key and print it (it is shown only now)");
  key_create_cmd->add_option("--name", key_flags.name, "What the key is for")->required();
  key_create_cmd
      ->add_option("--scopes", key_flags.scopes,
                   "Comma-separated: orders:read, orders:write, reports:read, admin")
      ->required();
  key_create_cmd->add_option("--expires", key_flags.expires,
                             "Lifetime such as 90d, 12h or 30m (default: never)");
  CLI::App* key_list_cmd =
      keys_cmd->add_subcommand("list", "Print every key as JSON lines (never the key itself)");
  CLI::App* key_revoke_cmd = keys_cmd->add_subcommand("revoke", "Revoke a key by its id");
  key_revoke_cmd->add_option("id", key_flags.id, "The key's id (16 hex digits)")->required();
  key_create_cmd->fallthrough();
  key_list_cmd->fallthrough();
  key_revoke_cmd->fallthrough();

  app.footer(
      "Settings come from defaults < the --config file < ORDERFLOW_<KEY> environment variables < "
      "flags.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kConfigErrorExit;
  }
  if (serve_cmd->parsed())
    return serve(flags, *serve_cmd, flags.role == "api" ? Role::api : Role::all);
  if (worker_cmd->parsed()) return serve(worker_flags, *worker_cmd, Role::worker);
  if (migrate_cmd->parsed()) return migrate(migrate_flags, *migrate_cmd);
  if (deliveries_cmd->parsed())
    return deliveries(delivery_config, *deliveries_cmd, *list_cmd, *redrive_cmd, delivery_flags);
  if (keys_cmd->parsed())
    return keys(key_config, *keys_cmd, *key_create_cmd, *key_list_cmd, key_flags);
  return 0;
}

}  // namespace orderflow::runtime
