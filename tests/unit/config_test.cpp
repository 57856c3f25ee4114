// Configuration: defaults, precedence (file < environment < flags) and every error path.
#include "runtime/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <unistd.h>

namespace orderflow::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ConfigSources from_toml(std::string text) {
  ConfigSources s;
  s.toml_text = std::move(text);
  s.toml_name = "test.toml";
  return s;
}

// The message of the ConfigError that loading `sources` throws ("" when it loads).
std::string error_of(const ConfigSources& sources) {
  try {
    load_config(sources);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsHangOffDataDirAndListen) {
  const Config c = load_config({});
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.store, "sqlite:./data/orderflow.db");
  EXPECT_EQ(c.bus, "local");
  EXPECT_EQ(c.objects, "file:./data/objects");
  EXPECT_EQ(c.mailer, "maildir:./data/mail");
  EXPECT_EQ(c.recognizer, "none");
  EXPECT_FALSE(c.admin_token);
  EXPECT_EQ(c.delivery.max_attempts, 300);
  EXPECT_EQ(c.delivery.backoff_initial_ms, 200);
  EXPECT_EQ(c.delivery.backoff_max_ms, 600000);
  EXPECT_GE(c.io_threads, 1);
  EXPECT_EQ(c.worker_threads, 64);
  EXPECT_EQ(c.recognizer_workers, 1);
  EXPECT_EQ(c.max_body_bytes, 8 * 1024 * 1024);
  EXPECT_EQ(c.max_header_bytes, 16 * 1024);
  EXPECT_EQ(c.idle_timeout_s, 60);
  EXPECT_EQ(c.request_timeout_s, 30);
  EXPECT_TRUE(c.cors_origins.empty());
  EXPECT_TRUE(c.access_log);
  EXPECT_EQ(c.log_level, "info");
}

TEST(Config, RecognizerWorkersAreBetweenOneAndSixtyFour) {
  EXPECT_EQ(load_config(from_toml("recognizer_workers = 2\n")).recognizer_workers, 2);
  EXPECT_THAT(error_of(from_toml("recognizer_workers = 0\n")), HasSubstr("recognizer_workers"));
  EXPECT_THAT(error_of(from_toml("recognizer_workers = 65\n")), HasSubstr("recognizer_workers"));
}

TEST(Config, DerivedDefaultsFollowTheFinalDataDirAndListen) {
  ConfigSources s = from_toml("data_dir = \"/from/file\"\nlisten = \"0.0.0.0:9000\"\n");
  s.flags["data_dir"] = "/from/flag";
  const Config c = load_config(s);
  EXPECT_EQ(c.store, "sqlite:/from/flag/orderflow.db");
  EXPECT_EQ(c.objects, "file:/from/flag/objects");
  EXPECT_EQ(c.mailer, "maildir:/from/flag/mail");
  EXPECT_EQ(c.public_url, "http://0.0.0.0:9000");
}

TEST(Config, ExplicitBackendsAreKept) {
  const Config c = load_config(from_toml(R"(
store = "sqlite:/db/x.db"
objects = "s3://bucket?endpoint=http://127.0.0.1:9000&region=us-east-1"
mailer = "smtp://user:pass@mail.example:587"
bus = "nats://127.0.0.1:4222"
recognizer = "none"
public_url = "https://orders.example/"
admin_token = "s3cret"
)"));
  EXPECT_EQ(c.store, "sqlite:/db/x.db");
  EXPECT_EQ(c.objects, "s3://bucket?endpoint=http://127.0.0.1:9000&region=us-east-1");
  EXPECT_EQ(c.mailer, "smtp://user:pass@mail.example:587");
  EXPECT_EQ(c.bus, "nats://127.0.0.1:4222");
  EXPECT_EQ(c.recognizer, "none");
  EXPECT_EQ(c.public_url, "https://orders.example");  // no trailing slash
  EXPECT_EQ(c.admin_token, "s3cret");
}

// The bus keeps a delivery waiting for a retry as a message in the stream: the stream must keep
// messages longer than the retries go on (the defaults retry for up to about 48 h).
TEST(Config, StreamRetentionMustOutlastTheRetryHorizonOnTheBus) {
  const std::string bus = "store = \"postgresql://u@h/db\"\nbus = \"nats://127.0.0.1:4222\"\n";
  EXPECT_EQ(error_of(from_toml(bus)), "") << "168 h by default";
  EXPECT_THAT(error_of(from_toml(bus + "[nats]\nmax_age_h = 24\n")),
              HasSubstr("nats.max_age_h: expected more than the longest retry horizon"));
  EXPECT_EQ(error_of(from_toml(bus + "[nats]\nmax_age_h = 24\n[delivery]\nmax_attempts = 8\n")), "");
  EXPECT_EQ(error_of(from_toml(bus + "[nats]\nmax_age_h = 0\n")), "") << "0: kept for ever";
  EXPECT_EQ(error_of(from_toml("[nats]\nmax_age_h = 24\n")), "") << "bus = local: no stream";
}

TEST(Config, PrecedenceIsFileThenEnvironmentThenFlags) {
  ConfigSources s = from_toml("listen = \"127.0.0.1:1001\"\ndata_dir = \"/file\"\nworker_threads = 3\n");
  s.env["ORDERFLOW_LISTEN"] = "127.0.0.1:1002";
  s.env["ORDERFLOW_WORKER_THREADS"] = "5";
  s.flags["listen"] = "127.0.0.1:1003";
  const Config c = load_config(s);
  EXPECT_EQ(c.listen, "127.0.0.1:1003");  // flag beats environment and file
  EXPECT_EQ(c.worker_threads, 5);         // environment beats file
  EXPECT_EQ(c.data_dir, "/file");         // file beats default
}

TEST(Config, NestedDeliverySettingsFromFileAndEnvironment) {
  ConfigSources s = from_toml("[delivery]\nmax_attempts = 3\nbackoff_initial_ms = 50\n");
  s.env["ORDERFLOW_DELIVERY_BACKOFF_MAX_MS"] = "1000";
  s.env["ORDERFLOW_DELIVERY_MAX_ATTEMPTS"] = "4";
  const Config c = load_config(s);
  EXPECT_EQ(c.delivery.max_attempts, 4);
  EXPECT_EQ(c.delivery.backoff_initial_ms, 50);
  EXPECT_EQ(c.delivery.backoff_max_ms, 1000);
}

TEST(Config, ListsAndBooleans) {
  ConfigSources s;
  s.env["ORDERFLOW_CORS_ORIGINS"] = " https://a.example , http://localhost:5173,,";
  s.env["ORDERFLOW_ACCESS_LOG"] = "off";
  s.env["ORDERFLOW_LOG_LEVEL"] = "DEBUG";
  const Config c = load_config(s);
  EXPECT_EQ(c.cors_origins, (std::vector<std::string>{"https://a.example", "http://localhost:5173"}));
  EXPECT_FALSE(c.access_log);
  EXPECT_EQ(c.log_level, "debug");

  const Config f = load_config(from_toml("cors_origins = [\"*\"]\naccess_log = false\n"));
  EXPECT_EQ(f.cors_origins, std::vector<std::string>{"*"});
  EXPECT_FALSE(f.access_log);
}

TEST(Config, HttpSettings) {
  const Config c = load_config(from_toml(R"(
io_threads = 3
worker_threads = 8
max_body_bytes = 1048576
max_header_bytes = 8192
idle_timeout_s = 5
request_timeout_s = 2
)"));
  EXPECT_EQ(c.io_threads, 3);
  EXPECT_EQ(c.worker_threads, 8);
  EXPECT_EQ(c.max_body_bytes, 1048576);
  EXPECT_EQ(c.max_header_bytes, 8192);
  EXPECT_EQ(c.idle_timeout_s, 5);
  EXPECT_EQ(c.request_timeout_s, 2);
}

TEST(Config, RecognizerDefaultsToTheFirstExistingModelDir) {
  const auto dir = std::filesystem::temp_directory_path() / ("orderflow-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ConfigSources s;
  s.model_dir_candidates = {(dir / "missing").string(), dir.string()};
  EXPECT_EQ(load_config(s).recognizer, "opencv:" + dir.string());
  s.model_dir_candidates = {(dir / "missing").string()};
  EXPECT_EQ(load_config(s).recognizer, "none");
  std::filesystem::remove_all(dir);
}

TEST(Config, EmptyAdminTokenMeansNone) {
  ConfigSources s;
  s.env["ORDERFLOW_ADMIN_TOKEN"] = "";
  EXPECT_FALSE(load_config(s).admin_token);
}

TEST(Config, AuthModeDefaultsToNoneOnlyOnLoopback) {
  for (const char* listen : {"127.0.0.1:8080", "localhost:8080", "127.8.9.10:1", "[::1]:8080"}) {
    ConfigSources s;
    s.flags["listen"] = listen;
    EXPECT_EQ(load_config(s).auth.mode, "none") << listen;
  }
  for (const char* listen : {"0.0.0.0:8080", "[::]:8080", "192.168.1.5:80", "10.0.0.1:8080"}) {
    ConfigSources s;
    s.flags["listen"] = listen;
    EXPECT_EQ(load_config(s).auth.mode, "api_keys") << listen;
  }
  ConfigSources open = from_toml("listen = \"0.0.0.0:8080\"\n[auth]\nmode = \"none\"\n");
  EXPECT_EQ(load_config(open).auth.mode, "none") << "given explicitly, it is kept (and warned of)";
  ConfigSources keys;
  keys.env["ORDERFLOW_AUTH_MODE"] = "api_keys";
  EXPECT_EQ(load_config(keys).auth.mode, "api_keys") << "keys on loopback too, when asked";
  EXPECT_TRUE(listen_is_loopback("127.0.0.1:1"));
  EXPECT_FALSE(listen_is_loopback("0.0.0.0:1"));
  ConfigSources bad;
  bad.env["ORDERFLOW_AUTH_MODE"] = "keys";
  EXPECT_EQ(error_of(bad), "auth.mode: expected none or api_keys, got \"keys\"");
}

TEST(Config, TheApiRateLimitIsOffOnLoopbackAndTheSubscriptionLimitsHaveDefaults) {
  ConfigSources local;
  const Config l = load_config(local);
  EXPECT_EQ(l.limits.api_per_minute, 0);
  EXPECT_EQ(l.limits.address_mail_interval_s, 600);
  EXPECT_EQ(l.limits.address_mails_per_day, 5);
  EXPECT_EQ(l.limits.subscription_requests_per_hour, 20);
  ConfigSources wide;
  wide.flags["listen"] = "0.0.0.0:8080";
  const Config w = load_config(wide);
  EXPECT_EQ(w.limits.api_per_minute, 6000);
  EXPECT_EQ(w.limits.api_burst, 200);
  ConfigSources given = from_toml(
      "listen = \"0.0.0.0:8080\"\n[limits]\napi_per_minute = 0\naddress_mails_per_day = 2\n");
  const Config g = load_config(given);
  EXPECT_EQ(g.limits.api_per_minute, 0) << "off when asked, wherever it listens";
  EXPECT_EQ(g.limits.address_mails_per_day, 2);
  ConfigSources bad = from_toml("[limits]\napi_per_minute = -1\n");
  EXPECT_NE(error_of(bad).find("limits.api_per_minute"), std::string::npos) << error_of(bad);
  ConfigSources unknown = from_toml("[limits]\nper_second = 3\n");
  EXPECT_NE(error_of(unknown).find("limits.per_second"), std::string::npos);
}

TEST(ConfigErrors, BadListenNamesTheSettingAndValue) {
  ConfigSources s;
  s.flags["listen"] = "abc";
  EXPECT_EQ(error_of(s), "listen: expected host:port, got \"abc\"");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:80", "host.example:80",
                          "[::1]", "127.0.0.1:8o"}) {
    ConfigSources t;
    t.env["ORDERFLOW_LISTEN"] = bad;
    EXPECT_THAT(error_of(t), HasSubstr("listen: expected host:port")) << bad;
  }
}

TEST(ConfigErrors, UnknownKeysAreRejected) {
  EXPECT_EQ(error_of(from_toml("lisen = \"x\"\n")), "unknown setting \"lisen\"");
  EXPECT_EQ(error_of(from_toml("[delivery]\nmax_attempt = 3\n")), "unknown setting \"delivery.max_attempt\"");
  EXPECT_EQ(error_of(from_toml("[http]\nio_threads = 3\n")), "unknown setting \"http\"");
  EXPECT_EQ(error_of(from_toml("\"delivery.max_attempts\" = 3\n")), "unknown setting \"delivery.max_attempts\"");
}

TEST(ConfigErrors, WrongTypesInTheFile) {
  EXPECT_EQ(error_of(from_toml("io_threads = \"two\"\n")), "io_threads: expected an integer, got \"two\"");
  EXPECT_EQ(error_of(from_toml("listen = 8080\n")), "listen: expected a string, got 8080");
  EXPECT_EQ(error_of(from_toml("access_log = \"yes\"\n")), "access_log: expected true or false, got \"yes\"");
  EXPECT_EQ(error_of(from_toml("cors_origins = \"*\"\n")), "cors_origins: expected a list of strings, got \"*\"");
  EXPECT_EQ(error_of(from_toml("cors_origins = [1]\n")), "cors_origins: expected a list of strings, got an array containing 1");
  EXPECT_EQ(error_of(from_toml("delivery = 3\n")), "delivery: expected a table, got 3");
  EXPECT_EQ(error_of(from_toml("max_body_bytes = 1.5\n")), "max_body_bytes: expected an integer, got 1.5");
}

TEST(ConfigErrors, OutOfRangeIntegers) {
  EXPECT_EQ(error_of(from_toml("io_threads = 0\n")), "io_threads: expected an integer from 1 to 1024, got 0");
  EXPECT_EQ(error_of(from_toml("[delivery]\nmax_attempts = -1\n")),
            "delivery.max_attempts: expected an integer from 1 to 1000, got -1");
  EXPECT_EQ(error_of(from_toml("max_header_bytes = 100\n")), "max_header_bytes: expected an integer >= 1024, got 100");
  ConfigSources s;
  s.env["ORDERFLOW_MAX_BODY_BYTES"] = "0";
  EXPECT_EQ(error_of(s), "max_body_bytes: expected an integer >= 1, got \"0\"");
}

TEST(ConfigErrors, MalformedEnvironmentValues) {
  ConfigSources s;
  s.env["ORDERFLOW_IO_THREADS"] = "2x";
  EXPECT_EQ(error_of(s), "io_threads: expected an integer, got \"2x\"");
  ConfigSources b;
  b.env["ORDERFLOW_ACCESS_LOG"] = "maybe";
  EXPECT_EQ(error_of(b), "access_log: expected true or false, got \"maybe\"");
  ConfigSources n;
  n.env["ORDERFLOW_DELIVERY_MAX_ATTEMPTS"] = "";
  EXPECT_EQ(error_of(n), "delivery.max_attempts: expected an integer, got \"\"");
}

TEST(ConfigErrors, BadValues) {
  auto env_error = [](const char* name, const char* value) {
    ConfigSources s;
    s.env[name] = value;
    return error_of(s);
  };
  EXPECT_EQ(env_error("ORDERFLOW_STORE", "mysql://x"), "store: expected sqlite:<path> or postgresql://..., got \"mysql://x\"");
  EXPECT_EQ(env_error("ORDERFLOW_STORE", "sqlite:"), "store: expected sqlite:<path> or postgresql://..., got \"sqlite:\"");
  EXPECT_THAT(env_error("ORDERFLOW_BUS", "kafka://x"), HasSubstr("bus: expected local or nats://"));
  EXPECT_THAT(env_error("ORDERFLOW_OBJECTS", "/tmp/objects"), HasSubstr("objects: expected file:<dir> or s3://"));
  EXPECT_THAT(env_error("ORDERFLOW_MAILER", "sendmail"), HasSubstr("mailer: expected maildir:<dir> or smtp://"));
  EXPECT_THAT(env_error("ORDERFLOW_RECOGNIZER", "yolo"), HasSubstr("recognizer: expected opencv:<models dir>"));
  EXPECT_THAT(env_error("ORDERFLOW_PUBLIC_URL", "ftp://x"), HasSubstr("public_url: expected an http:// or https:// URL"));
  EXPECT_THAT(env_error("ORDERFLOW_LOG_LEVEL", "loud"), HasSubstr("log_level: expected one of trace"));
  EXPECT_THAT(env_error("ORDERFLOW_CORS_ORIGINS", "https://a.example/path"),
              HasSubstr("cors_origins: expected \"*\" or origins like https://host:port, got \"https://a.example/path\""));
  EXPECT_THAT(env_error("ORDERFLOW_DATA_DIR", ""), HasSubstr("data_dir: expected a directory"));
}

TEST(ConfigErrors, BackoffMaxBelowInitial) {
  EXPECT_EQ(error_of(from_toml("[delivery]\nbackoff_initial_ms = 500\nbackoff_max_ms = 100\n")),
            "delivery.backoff_max_ms: expected at least delivery.backoff_initial_ms (500), got 100");
}

TEST(ConfigErrors, TomlSyntaxErrorNamesTheFileAndLine) {
  EXPECT_THAT(error_of(from_toml("listen = \"127.0.0.1:1\"\nthis is not toml\n")), HasSubstr("test.toml:2:"));
}

TEST(ConfigErrors, UnknownFlag) {
  ConfigSources s;
  s.flags["nope"] = "1";
  EXPECT_EQ(error_of(s), "unknown setting \"nope\"");
}

TEST(ParseListen, AcceptsIpLiteralsAndLocalhost) {
  auto v4 = parse_listen("127.0.0.1:0");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 0);
  auto v6 = parse_listen("[::1]:8080");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  auto local = parse_listen("localhost:65535");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, 65535);
  EXPECT_FALSE(parse_listen(":80"));
  EXPECT_FALSE(parse_listen("abc"));
}

// The request limits (http_server.cpp): defaults, both sources, and bad values.
ConfigSources env(std::map<std::string, std::string> vars) {
  ConfigSources s;
  s.env = std::move(vars);
  return s;
}

TEST(LimitSettings, DefaultsAndOverrides) {
  const Config d = load_config({});
  EXPECT_EQ(d.max_connections, 10000);
  EXPECT_EQ(d.max_connections_per_client, 256);
  EXPECT_EQ(d.body_budget_bytes, 256 * 1024 * 1024);

  ConfigSources toml;
  toml.toml_text =
      "max_connections = 50\nmax_connections_per_client = 0\nbody_budget_bytes = 16777216\n";
  const Config t = load_config(toml);
  EXPECT_EQ(t.max_connections, 50);
  EXPECT_EQ(t.max_connections_per_client, 0);
  EXPECT_EQ(t.body_budget_bytes, 16777216);

  const Config e = load_config(env({{"ORDERFLOW_MAX_CONNECTIONS", "8"},
                                    {"ORDERFLOW_MAX_CONNECTIONS_PER_CLIENT", "4"},
                                    {"ORDERFLOW_BODY_BUDGET_BYTES", "1048576"},
                                    {"ORDERFLOW_MAX_BODY_BYTES", "1048576"}}));
  EXPECT_EQ(e.max_connections, 8);
  EXPECT_EQ(e.max_connections_per_client, 4);
  EXPECT_EQ(e.body_budget_bytes, 1048576);
}

TEST(LimitSettings, BadValuesNameTheSetting) {
  EXPECT_EQ(error_of(env({{"ORDERFLOW_MAX_CONNECTIONS", "0"}})),
            "max_connections: expected an integer from 1 to 1000000, got \"0\"");
  EXPECT_EQ(error_of(env({{"ORDERFLOW_MAX_CONNECTIONS_PER_CLIENT", "-1"}})),
            "max_connections_per_client: expected an integer from 0 to 1000000, got \"-1\"");
  EXPECT_EQ(error_of(env({{"ORDERFLOW_BODY_BUDGET_BYTES", "lots"}})),
            "body_budget_bytes: expected an integer, got \"lots\"");
  // The budget must hold at least one upload of the largest size.
  EXPECT_EQ(error_of(env({{"ORDERFLOW_BODY_BUDGET_BYTES", "1048576"}})),
            "body_budget_bytes: expected at least max_body_bytes (8388608), got 1048576");
}

TEST(Config, AWrongUrlSettingIsShownWithoutItsPassword) {
  const std::pair<const char*, const char*> settings[] = {{"mailer", "ORDERFLOW_MAILER"},
                                                          {"store", "ORDERFLOW_STORE"},
                                                          {"objects", "ORDERFLOW_OBJECTS"},
                                                          {"bus", "ORDERFLOW_BUS"}};
  for (const auto& [setting, variable] : settings) {
    SCOPED_TRACE(setting);
    const std::string error =
        error_of(env({{variable, "smpt://operator:Hunter2-secret@mail.example.com:587"}}));
    EXPECT_THAT(error, HasSubstr(setting));
    EXPECT_THAT(error, HasSubstr("\"smpt://operator:***@mail.example.com:587\""));
    EXPECT_THAT(error, Not(HasSubstr("Hunter2")));
  }
}

}  // namespace
}  // namespace orderflow::runtime
