// Every setting is one row of kSettings: its name, its type and where it goes in Config.
// Each source is converted to typed values through that table, so a TOML key, an environment
// variable and a flag for the same setting are checked the same way and name it the same way.
#include "runtime/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <limits>
#include <thread>
#include <variant>

#include "domain/encoding.hpp"

extern char** environ;

namespace orderflow::runtime {
namespace {

using Value = std::variant<std::string, std::int64_t, bool, std::vector<std::string>>;

enum class Kind { text, integer, boolean, list };

struct Setting {
  std::string_view name;  // TOML key; nested tables are "table.key"
  Kind kind;
  std::int64_t min = 0;
  std::int64_t max = 0;
  void (*assign)(Config&, Value&&);
};

constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();
constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

template <typename T>
T take(Value&& v) {
  return std::get<T>(std::move(v));
}

const Setting kSettings[] = {
    {"listen", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.listen = take<std::string>(std::move(v)); }},
    {"data_dir", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.data_dir = take<std::string>(std::move(v)); }},
    {"public_url", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.public_url = take<std::string>(std::move(v)); }},
    {"store", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.store = take<std::string>(std::move(v)); }},
    {"bus", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.bus = take<std::string>(std::move(v)); }},
    {"objects", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.objects = take<std::string>(std::move(v)); }},
    {"mailer", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.mailer = take<std::string>(std::move(v)); }},
    {"recognizer", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.recognizer = take<std::string>(std::move(v)); }},
    {"admin_token", Kind::text, 0, 0,
     [](Config& c, Value&& v) {
       auto token = take<std::string>(std::move(v));
       if (token.empty())
         c.admin_token.reset();
       else
         c.admin_token = std::move(token);
     }},
    {"mail_from", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.mail_from = take<std::string>(std::move(v)); }},
    {"signing_secret", Kind::text, 0, 0,
     [](Config& c, Value&& v) {
       auto secret = take<std::string>(std::move(v));
       if (secret.empty())
         c.signing_secret.reset();
       else
         c.signing_secret = std::move(secret);
     }},
    {"report_max_age_h", Kind::integer, 2, std::int64_t{24} * 365,
     [](Config& c, Value&& v) {
       c.report_max_age_h = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"delivery.max_attempts", Kind::integer, 1, 1000,
     [](Config& c, Value&& v) {
       c.delivery.max_attempts = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"delivery.backoff_initial_ms", Kind::integer, 1, kMaxInt64,
     [](Config& c, Value&& v) {
       c.delivery.backoff_initial_ms = take<std::int64_t>(std::move(v));
     }},
    {"delivery.backoff_max_ms", Kind::integer, 1, kMaxInt64,
     [](Config& c, Value&& v) { c.delivery.backoff_max_ms = take<std::int64_t>(std::move(v)); }},
    {"retention.idempotency_keys_s", Kind::integer, 1, kMaxInt64 / 1000000,
     [](Config& c, Value&& v) {
       c.retention.idempotency_keys_s = take<std::int64_t>(std::move(v));
     }},
    {"retention.records_s", Kind::integer, 1, kMaxInt64 / 1000000,
     [](Config& c, Value&& v) { c.retention.records_s = take<std::int64_t>(std::move(v)); }},
    {"nats.credentials", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.nats.credentials = take<std::string>(std::move(v)); }},
    {"nats.tls_ca", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.nats.tls_ca = take<std::string>(std::move(v)); }},
    {"nats.tls_cert", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.nats.tls_cert = take<std::string>(std::move(v)); }},
    {"nats.tls_key", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.nats.tls_key = take<std::string>(std::move(v)); }},
    {"nats.replicas", Kind::integer, 0, 5,
     [](Config& c, Value&& v) {
       c.nats.replicas = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"nats.duplicate_window_s", Kind::integer, 1, std::int64_t{7} * 86400,
     [](Config& c, Value&& v) {
       c.nats.duplicate_window_s = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"nats.max_age_h", Kind::integer, 0, std::int64_t{24} * 3650,
     [](Config& c, Value&& v) {
       c.nats.max_age_h = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"recognizer_workers", Kind::integer, 1, 64,
     [](Config& c, Value&& v) {
       c.recognizer_workers = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"io_threads", Kind::integer, 1, 1024,
     [](Config& c, Value&& v) {
       c.io_threads = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"delivery.lease_ms", Kind::integer, 100, kMaxInt64,
     [](Config& c, Value&& v) { c.delivery.lease_ms = take<std::int64_t>(std::move(v)); }},
    {"store_pool_size", Kind::integer, 1, 256,
     [](Config& c, Value&& v) {
       c.store_pool_size = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"worker_threads", Kind::integer, 1, 4096,
     [](Config& c, Value&& v) {
       c.worker_threads = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"max_body_bytes", Kind::integer, 1, kMaxInt64,
     [](Config& c, Value&& v) { c.max_body_bytes = take<std::int64_t>(std::move(v)); }},
    // Below 1 KiB ordinary browser requests would not fit.
    {"max_header_bytes", Kind::integer, 1024, kMaxInt,
     [](Config& c, Value&& v) { c.max_header_bytes = take<std::int64_t>(std::move(v)); }},
    {"idle_timeout_s", Kind::integer, 1, 86400,
     [](Config& c, Value&& v) {
       c.idle_timeout_s = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"request_timeout_s", Kind::integer, 1, 86400,
     [](Config& c, Value&& v) {
       c.request_timeout_s = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"max_connections", Kind::integer, 1, 1000000,
     [](Config& c, Value&& v) {
       c.max_connections = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"max_connections_per_client", Kind::integer, 0, 1000000,
     [](Config& c, Value&& v) {
       c.max_connections_per_client = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"body_budget_bytes", Kind::integer, 1, kMaxInt64,
     [](Config& c, Value&& v) { c.body_budget_bytes = take<std::int64_t>(std::move(v)); }},
    {"sse_max_listeners", Kind::integer, 1, 1000000,
     [](Config& c, Value&& v) {
       c.sse_max_listeners = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"cors_origins", Kind::list, 0, 0,
     [](Config& c, Value&& v) { c.cors_origins = take<std::vector<std::string>>(std::move(v)); }},
    {"auth.mode", Kind::text, 0, 0,
     [](Config& c, Value&& v) {
       c.auth.mode = take<std::string>(std::move(v));
       c.auth.mode_given = true;
     }},
    {"limits.api_per_minute", Kind::integer, 0, 100000000,
     [](Config& c, Value&& v) {
       c.limits.api_per_minute = static_cast<int>(take<std::int64_t>(std::move(v)));
       c.limits.api_per_minute_given = true;
     }},
    {"limits.api_burst", Kind::integer, 0, 100000000,
     [](Config& c, Value&& v) {
       c.limits.api_burst = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"limits.address_mail_interval_s", Kind::integer, 0, std::int64_t{7} * 86400,
     [](Config& c, Value&& v) {
       c.limits.address_mail_interval_s = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"limits.address_mails_per_day", Kind::integer, 0, 100000,
     [](Config& c, Value&& v) {
       c.limits.address_mails_per_day = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"limits.subscription_requests_per_hour", Kind::integer, 0, 100000000,
     [](Config& c, Value&& v) {
       c.limits.subscription_requests_per_hour = static_cast<int>(take<std::int64_t>(std::move(v)));
     }},
    {"access_log", Kind::boolean, 0, 0,
     [](Config& c, Value&& v) { c.access_log = take<bool>(std::move(v)); }},
    {"log_level", Kind::text, 0, 0,
     [](Config& c, Value&& v) { c.log_level = take<std::string>(std::move(v)); }},
};

[[noreturn]] void fail(std::string_view setting, std::string_view expected, std::string_view got) {
  throw ConfigError(fmt::format("{}: expected {}, got {}", setting, expected, got));
}

std::string quote_value(std::string_view s) { return fmt::format("\"{}\"", s); }
// A URL setting as a message shows it: without its password.
std::string quote_url(std::string_view url) { return quote_value(domain::redacted_url(url)); }

const Setting* find_setting(std::string_view name) {
  for (const auto& s : kSettings)
    if (s.name == name) return &s;
  return nullptr;
}

std::string env_name(std::string_view setting) {
  std::string out = "ORDERFLOW_";
  for (char ch : setting)
    out += ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string_view expected_for(Kind kind) {
  switch (kind) {
    case Kind::text:
      return "a string";
    case Kind::integer:
      return "an integer";
    case Kind::boolean:
      return "true or false";
    case Kind::list:
      return "a list of strings";
  }
  return "";
}

std::int64_t checked_range(const Setting& s, std::int64_t n, std::string_view shown) {
  if (n < s.min || n > s.max) {
    std::string range = s.max == kMaxInt64 || s.max == kMaxInt
                            ? fmt::format("an integer >= {}", s.min)
                            : fmt::format("an integer from {} to {}", s.min, s.max);
    fail(s.name, range, shown);
  }
  return n;
}

// A value given as text: an environment variable or a flag.
Value from_text(const Setting& s, std::string_view text) {
  switch (s.kind) {
    case Kind::text:
      return std::string(text);
    case Kind::integer: {
      auto t = trim(text);
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (t.empty() || ec != std::errc{} || end != t.data() + t.size())
        fail(s.name, "an integer", quote_value(text));
      return checked_range(s, n, quote_value(text));
    }
    case Kind::boolean: {
      auto t = lower(trim(text));
      if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
      if (t == "false" || t == "0" || t == "no" || t == "off") return false;
      fail(s.name, "true or false", quote_value(text));
    }
    case Kind::list: {
      std::vector<std::string> items;
      std::string_view rest = text;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = trim(rest.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      return items;
    }
  }
  fail(s.name, "a value", quote_value(text));
}

std::string describe(const toml::node& node) {
  if (auto str = node.as_string()) return quote_value(str->get());
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return fmt::format("{}", node.as_integer()->get());
    case toml::node_type::floating_point:
      return fmt::format("{}", node.as_floating_point()->get());
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "a value";
  }
}

Value from_toml(const Setting& s, const toml::node& node) {
  switch (s.kind) {
    case Kind::text:
      if (auto v = node.as_string()) return v->get();
      break;
    case Kind::integer:
      if (auto v = node.as_integer()) return checked_range(s, v->get(), describe(node));
      break;
    case Kind::boolean:
      if (auto v = node.as_boolean()) return v->get();
      break;
    case Kind::list:
      if (auto arr = node.as_array()) {
        std::vector<std::string> items;
        for (const auto& item : *arr) {
          auto str = item.as_string();
          if (!str)
            fail(s.name, expected_for(s.kind),
                 fmt::format("an array containing {}", describe(item)));
          items.push_back(str->get());
        }
        return items;
      }
      break;
  }
  fail(s.name, expected_for(s.kind), describe(node));
}

void apply_toml(Config& c, const ConfigSources& sources) {
  toml::table root;
  try {
    root = toml::parse(*sources.toml_text, sources.toml_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: {}",
                                  sources.toml_name.empty() ? "config" : sources.toml_name,
                                  where.line, where.column, e.description()));
  }
  for (const auto& [key, node] : root) {
    std::string name(key.str());
    if (name == "auth" || name == "delivery" || name == "limits" || name == "nats" ||
        name == "retention") {  // the tables of settings
      const auto* table = node.as_table();
      if (!table) fail(name, "a table", describe(node));
      for (const auto& [sub_key, sub_node] : *table) {
        std::string sub_name = name + "." + std::string(sub_key.str());
        const Setting* s = find_setting(sub_name);
        if (!s) throw ConfigError(fmt::format("unknown setting \"{}\"", sub_name));
        s->assign(c, from_toml(*s, sub_node));
      }
      continue;
    }
    const Setting* s = find_setting(name);
    if (!s || name.find('.') != std::string::npos)
      throw ConfigError(fmt::format("unknown setting \"{}\"", name));
    s->assign(c, from_toml(*s, node));
  }
}

bool has_prefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// `scheme:rest` with a non-empty rest for each accepted prefix.
bool matches_any(std::string_view value, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) {
    return has_prefix(value, p) && value.size() > p.size();
  });
}

bool is_origin(std::string_view origin) {
  // scheme://host[:port], nothing after: the form browsers send in the Origin header.
  auto sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  auto scheme = origin.substr(0, sep);
  if (!std::all_of(scheme.begin(), scheme.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '-' || ch == '.';
      }))
    return false;
  auto authority = origin.substr(sep + 3);
  return !authority.empty() && authority.find_first_of("/?# ") == std::string_view::npos;
}

void resolve_and_validate(Config& c, const ConfigSources& sources) {
  if (c.data_dir.empty()) fail("data_dir", "a directory", quote_value(c.data_dir));
  if (!parse_listen(c.listen)) fail("listen", "host:port", quote_value(c.listen));

  if (c.public_url.empty()) {
    c.public_url = "http://" + c.listen;
    c.public_url_from_listen = true;
  }
  while (c.public_url.size() > 1 && c.public_url.back() == '/') c.public_url.pop_back();
  if (!matches_any(c.public_url, {"http://", "https://"}))
    fail("public_url", "an http:// or https:// URL", quote_value(c.public_url));

  if (c.store.empty()) c.store = "sqlite:" + c.data_dir + "/orderflow.db";
  if (!matches_any(c.store, {"sqlite:", "postgresql://", "postgres://"}))
    fail("store", "sqlite:<path> or postgresql://...", quote_url(c.store));

  if (c.bus != "local" && !matches_any(c.bus, {"nats://", "tls://"}))
    fail("bus", "local or nats://host:port[,nats://host:port...]", quote_url(c.bus));

  if (c.objects.empty()) c.objects = "file:" + c.data_dir + "/objects";
  if (!matches_any(c.objects, {"file:", "s3://"}))
    fail("objects", "file:<dir> or s3://bucket...", quote_url(c.objects));

  if (c.mailer.empty()) c.mailer = "maildir:" + c.data_dir + "/mail";
  if (!matches_any(c.mailer, {"maildir:", "smtp://", "smtps://"}))
    fail("mailer", "maildir:<dir> or smtp://host:port", quote_url(c.mailer));

  if (c.recognizer.empty()) {
    c.recognizer = "none";
    for (const auto& dir : sources.model_dir_candidates) {
      std::error_code ec;
      if (std::filesystem::is_directory(dir, ec)) {
        c.recognizer = "opencv:" + dir;
        break;
      }
    }
  }
  if (c.recognizer != "none" && !matches_any(c.recognizer, {"opencv:", "rekognition:"}))
    fail("recognizer", "opencv:<models dir>, rekognition:<region> or none",
         quote_value(c.recognizer));

  if (c.signing_secret && c.signing_secret->size() < 16)
    fail("signing_secret", "at least 16 characters",
         fmt::format("{} characters", c.signing_secret->size()));
  if (c.mail_from.find('@') == std::string::npos ||
      c.mail_from.find_first_of(" <>\r\n") != std::string::npos)
    fail("mail_from", "an address like orderflow@example.com", quote_value(c.mail_from));

  if (c.delivery.backoff_max_ms < c.delivery.backoff_initial_ms)
    fail("delivery.backoff_max_ms",
         fmt::format("at least delivery.backoff_initial_ms ({})", c.delivery.backoff_initial_ms),
         fmt::format("{}", c.delivery.backoff_max_ms));

  // On the bus a delivery waiting for its next attempt is a message in the stream, and the
  // stream drops what is older than nats.max_age_h: the retries must end well before that, or a
  // failing delivery would vanish instead of becoming a dead letter.
  if (c.bus != "local" && c.nats.max_age_h > 0) {
    double horizon_ms = 0;
    double wait = static_cast<double>(c.delivery.backoff_initial_ms);
    for (int attempt = 1; attempt < c.delivery.max_attempts; ++attempt) {
      horizon_ms += std::min(wait, static_cast<double>(c.delivery.backoff_max_ms));
      wait *= 2;
    }
    const double hours = horizon_ms / 3.6e6;
    if (hours >= c.nats.max_age_h)
      fail("nats.max_age_h",
           fmt::format("more than the longest retry horizon of [delivery] ({:.1f} h)", hours),
           fmt::format("{}", c.nats.max_age_h));
  }

  // An upload as large as max_body_bytes must fit in the budget, or it could never be read.
  if (c.body_budget_bytes < c.max_body_bytes)
    fail("body_budget_bytes", fmt::format("at least max_body_bytes ({})", c.max_body_bytes),
         fmt::format("{}", c.body_budget_bytes));

  if (c.io_threads == 0)
    c.io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  for (const auto& origin : c.cors_origins)
    if (origin != "*" && !is_origin(origin))
      fail("cors_origins", "\"*\" or origins like https://host:port", quote_value(origin));

  if (!c.auth.mode_given) c.auth.mode = listen_is_loopback(c.listen) ? "none" : "api_keys";
  if (c.auth.mode != "none" && c.auth.mode != "api_keys")
    fail("auth.mode", "none or api_keys", quote_value(c.auth.mode));

  if (!c.limits.api_per_minute_given)
    c.limits.api_per_minute = listen_is_loopback(c.listen) ? 0 : 6000;
  if (c.limits.api_burst == 0) c.limits.api_burst = std::max(10, c.limits.api_per_minute / 30);

  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  c.log_level = lower(c.log_level);
  if (std::find(std::begin(kLevels), std::end(kLevels), c.log_level) == std::end(kLevels))
    fail("log_level", "one of trace, debug, info, warn, error, critical, off",
         quote_value(c.log_level));
}

}  // namespace

Config load_config(const ConfigSources& sources) {
  Config c;
  if (sources.toml_text) apply_toml(c, sources);
  for (const auto& s : kSettings) {
    if (auto it = sources.env.find(env_name(s.name)); it != sources.env.end())
      s.assign(c, from_text(s, it->second));
  }
  for (const auto& [name, text] : sources.flags) {
    const Setting* s = find_setting(name);
    if (!s) throw ConfigError(fmt::format("unknown setting \"{}\"", name));
    s->assign(c, from_text(*s, text));
  }
  resolve_and_validate(c, sources);
  return c;
}

std::map<std::string, std::string> orderflow_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || !has_prefix(entry, "ORDERFLOW_")) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::vector<std::string> default_model_dir_candidates() {
  std::vector<std::string> dirs;
#ifdef ORDERFLOW_SOURCE_TREE
  dirs.push_back((std::filesystem::path(ORDERFLOW_SOURCE_TREE) / ".." / "shared" / "models")
                     .lexically_normal()
                     .string());
#endif
  dirs.push_back("../shared/models");
  return dirs;
}

bool listen_is_loopback(std::string_view listen) {
  const auto address = parse_listen(listen);
  if (!address) return false;
  boost::system::error_code bad;
  const auto ip = boost::asio::ip::make_address(address->host, bad);
  return !bad && ip.is_loopback();
}

bool public_url_is_private_or_https(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return false;
  if (parsed->scheme_id() == boost::urls::scheme::https) return true;
  std::string host(parsed->encoded_host_address());
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code bad;
  const auto ip = boost::asio::ip::make_address(host, bad);
  return !bad && ip.is_loopback();
}

std::optional<ListenAddress> parse_listen(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (has_prefix(text, "[")) {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // bare IPv6 needs brackets
  }
  unsigned n = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || n > 65535)
    return std::nullopt;

  ListenAddress out;
  out.port = static_cast<std::uint16_t>(n);
  if (host == "localhost") {
    out.host = "127.0.0.1";
    return out;
  }
  boost::system::error_code bad;
  auto address = boost::asio::ip::make_address(std::string(host), bad);
  if (bad || (address.is_v6() && !has_prefix(text, "["))) return std::nullopt;
  out.host = address.to_string();
  return out;
}

}  // namespace orderflow::runtime
