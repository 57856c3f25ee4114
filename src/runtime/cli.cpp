#include "runtime/cli.hpp"

#include <csignal>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

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
};

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

int serve(const ServeFlags& flags, const CLI::App& command) {
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
    App app(std::move(config));
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

}  // namespace

int run_cli(int argc, char** argv) {
  // A closed stdout or socket must be an error code, not a dead process.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app("orderflow: event-driven order management in one binary", "orderflow");
  app.set_version_flag("--version", std::string("orderflow ") + ORDERFLOW_VERSION);
  app.require_subcommand(1);

  ServeFlags flags;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the HTTP service");
  serve_cmd->add_option("--config", flags.config_path, "TOML configuration file");
  serve_cmd->add_option("--listen", flags.listen, "host:port to listen on (port 0: any free port)");
  serve_cmd->add_option("--data-dir", flags.data_dir, "Directory for the database, objects and mail");
  serve_cmd->add_option("--public-url", flags.public_url, "Base URL of links in mails and presigned URLs");
  app.footer(
      "Settings come from defaults < the --config file < ORDERFLOW_<KEY> environment variables < flags.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kConfigErrorExit;
  }
  if (serve_cmd->parsed()) return serve(flags, *serve_cmd);
  return 0;
}

}  // namespace orderflow::runtime
