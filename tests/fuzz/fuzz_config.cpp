// The configuration from any TOML text, with flags and ORDERFLOW_* variables after a "%%" line
// ("name=value" lines; a name starting ORDERFLOW_ is a variable). Properties: a bad setting is a
// ConfigError (any other exception escapes and is a crash) that names something; a loaded
// configuration holds what the validation promises.
#include <algorithm>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "runtime/config.hpp"

namespace {

using orderflow::fuzz::require;
using orderflow::runtime::Config;

orderflow::runtime::ConfigSources sources_of(std::string_view text) {
  orderflow::runtime::ConfigSources sources;
  auto [toml, settings] = orderflow::fuzz::split_once(text, "\n%%\n");
  sources.toml_text = std::string(toml);
  sources.toml_name = "fuzz.toml";
  while (!settings.empty()) {
    const auto [line, rest] = orderflow::fuzz::split_once(settings, "\n");
    const auto [name, value] = orderflow::fuzz::split_once(line, "=");
    auto& into = name.starts_with("ORDERFLOW_") ? sources.env : sources.flags;
    into.emplace(std::string(name), std::string(value));
    if (line.size() == settings.size()) break;
    settings = rest;
  }
  return sources;
}

void check_loaded(const Config& c) {
  require(orderflow::runtime::parse_listen(c.listen).has_value(), "listen is host:port");
  require((c.public_url.starts_with("http://") || c.public_url.starts_with("https://")) &&
              !c.public_url.ends_with("/"),
          "public_url is an http(s) URL without a trailing slash");
  require(!c.data_dir.empty() && !c.store.empty() && !c.objects.empty() && !c.mailer.empty() &&
              !c.recognizer.empty(),
          "the defaults hanging off data_dir are filled in");
  require(!c.signing_secret || c.signing_secret->size() >= 16, "a signing secret is long enough");
  require(c.delivery.backoff_max_ms >= c.delivery.backoff_initial_ms, "backoff is ordered");
  require(c.body_budget_bytes >= c.max_body_bytes, "the body budget holds one body");
  require(c.io_threads >= 1 && c.worker_threads >= 1, "threads are set");
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  require(std::find(std::begin(kLevels), std::end(kLevels), c.log_level) != std::end(kLevels),
          "log_level is a level");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto sources = sources_of(orderflow::fuzz::as_text(data, size));
  try {
    check_loaded(orderflow::runtime::load_config(sources));
  } catch (const orderflow::runtime::ConfigError& e) {
    require(*e.what() != '\0', "a ConfigError says what is wrong");
  }
  return 0;
}
