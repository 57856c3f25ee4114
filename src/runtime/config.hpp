// Configuration: defaults < TOML file < ORDERFLOW_* environment < command-line flags.
// Loading is a pure function of its sources, so every precedence and error path is unit-tested.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::runtime {

struct DeliveryConfig {
  // A failed delivery is retried for at least 24 hours before it is dead: 200 ms doubling to
  // 10 minutes (from the 13th wait on), then every 5 to 10 minutes (equal jitter), so the 299
  // waits add up to 24 h at the least and about 48 h at the most. An outage of the object store
  // or mail server shorter than that loses nothing and needs no redrive.
  int max_attempts = 300;
  std::int64_t backoff_initial_ms = 200;
  std::int64_t backoff_max_ms = 600000;
  // How long a worker holds a claimed delivery; when it dies, another worker takes the
  // delivery after this. Longer than any one attempt should take.
  std::int64_t lease_ms = 30000;
};

// How long finished records stay in the store before the workers prune them.
struct RetentionConfig {
  std::int64_t idempotency_keys_s =
      std::int64_t{24} * 3600;  // an Idempotency-Key is honoured this long
  // Done deliveries, sent deletion notices and the outbox events every lane is past.
  std::int64_t records_s = std::int64_t{7} * 24 * 3600;
};

// The NATS JetStream bus (bus = nats://...): credentials and the stream's settings.
struct NatsConfig {
  std::string credentials;                // a NATS .creds file (user JWT and NKey seed)
  std::string tls_ca, tls_cert, tls_key;  // files; any of them turns TLS on
  int replicas = 0;                       // of the stream; 0: min(3, servers in the cluster)
  int duplicate_window_s = 120;           // the stream drops a repeated event id within this window
  int max_age_h = 168;                    // events older than this leave the stream (0: never)
};

// Who may call the API (issue 13).
struct AuthConfig {
  // "none": every route is open but /admin/ (the admin token or an admin key), as on a laptop;
  // "api_keys": every route but the public ones needs a key with the route's scope. Default:
  // none when `listen` is a loopback address, api_keys otherwise.
  std::string mode;
  bool mode_given = false;  // set in a source, not defaulted
};

// Rate limits (issue 13). Each is a token bucket; 0 turns one off.
struct LimitsConfig {
  // API requests (every route that asks for a scope) per key, or per client address with
  // auth.mode = none. Default: off on a loopback listen address, 6000 a minute otherwise.
  int api_per_minute = 0;
  bool api_per_minute_given = false;
  int api_burst = 0;  // requests at once above the rate; default: a 30th of api_per_minute, >= 10
  // Mails to one address asked for by subscribe or unsubscribe requests (confirmation and
  // unsubscribe links): at most one per interval and so many a day.
  int address_mail_interval_s = 600;
  int address_mails_per_day = 5;
  // Subscribe and unsubscribe requests per client address.
  int subscription_requests_per_hour = 20;
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  std::string public_url;               // default: "http://" + listen
  bool public_url_from_listen = false;  // true when defaulted: the server fills in the bound port
  std::string store;                    // default: "sqlite:<data_dir>/orderflow.db"
  int store_pool_size = 8;              // PostgreSQL: connections per process
  std::string bus = "local";  // or nats://host:4222[,nats://host2:4222...] (tls:// for TLS)
  NatsConfig nats;
  std::string objects;     // default: "file:<data_dir>/objects"
  std::string mailer;      // default: "maildir:<data_dir>/mail"
  std::string recognizer;  // default: "opencv:<models dir>" when one exists, else "none"
  // Networks (and threads) of the image check: each holds its own copy of the model's layers,
  // about 22 MB; one already uses every core for a photo through OpenCV's parallel loops.
  int recognizer_workers = 1;
  std::optional<std::string> admin_token;  // default: generated into <data_dir>/admin-token
  std::string mail_from = "orderflow@localhost";
  std::optional<std::string> signing_secret;  // default: kept in <data_dir>/signing-secret
  int report_max_age_h = 24;
  DeliveryConfig delivery;
  RetentionConfig retention;
  AuthConfig auth;
  LimitsConfig limits;

  // HTTP gateway
  int io_threads = 0;  // default: hardware concurrency
  int worker_threads = 64;
  std::int64_t max_body_bytes = std::int64_t{8} * 1024 * 1024;
  std::int64_t max_header_bytes = std::int64_t{16} * 1024;
  int idle_timeout_s = 60;
  int request_timeout_s = 30;  // from a request's first byte to its last: header and body
  // Connections open at once; past it a new one is answered 503 + Retry-After and closed.
  int max_connections = 10000;
  int max_connections_per_client = 256;  // per client IP address (429 past it); 0: no limit
  // Request bodies every connection together may hold; past it 503 + Retry-After.
  std::int64_t body_budget_bytes = std::int64_t{256} * 1024 * 1024;
  int sse_max_listeners = 1000;           // GET /events requests waiting at once; past it 503
  std::vector<std::string> cors_origins;  // empty: no CORS headers; "*" allows any origin
  bool access_log = true;
  std::string log_level = "info";
};

// A wrong setting. what() names it: `listen: expected host:port, got "abc"`.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConfigSources {
  std::optional<std::string> toml_text;      // the --config file's content, when given
  std::string toml_name;                     // the file's name, for parse error messages
  std::map<std::string, std::string> env;    // environment, e.g. {"ORDERFLOW_LISTEN", "..."}
  std::map<std::string, std::string> flags;  // setting name -> value, e.g. {"data_dir", "/x"}
  // Where to look for the recognizer's models when `recognizer` is not set; the first
  // existing directory wins, none existing means "none".
  std::vector<std::string> model_dir_candidates;
};

// Merges the sources over the defaults, resolves the defaults that hang off data_dir and
// listen, and validates every value. Throws ConfigError naming the first bad setting.
Config load_config(const ConfigSources& sources);

// The ORDERFLOW_* variables of this process.
std::map<std::string, std::string> orderflow_environment();

// The default model directories: ../shared/models beside the source tree, then under the cwd.
std::vector<std::string> default_model_dir_candidates();

struct ListenAddress {
  std::string host;  // an IP address literal (IPv6 without brackets)
  std::uint16_t port = 0;
};
// True when `listen` is a loopback address (127.0.0.0/8 or ::1): only this machine can connect.
bool listen_is_loopback(std::string_view listen);
// True for an https:// URL or one on a loopback host: mailed links to anything else travel in
// clear text across the network (start-up warns).
bool public_url_is_private_or_https(std::string_view url);

// Parses "host:port" or "[v6]:port"; "localhost" means 127.0.0.1. nullopt when malformed.
std::optional<ListenAddress> parse_listen(std::string_view text);

}  // namespace orderflow::runtime
