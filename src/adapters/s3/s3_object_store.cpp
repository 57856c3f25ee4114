#include "adapters/s3/s3_object_store.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/s3/s3_xml.hpp"
#include "domain/object_key.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters {
namespace urls = boost::urls;
using ports::InfraError;

namespace {

constexpr std::chrono::seconds kMaxPresignTtl{604800};  // S3's limit: 7 days
constexpr int kMaxKeysPerPage = 1000;                   // S3's limit
constexpr std::size_t kMaxIdleHandles = 8;

[[noreturn]] void bad_setting(const std::string& why) {
  // The URL itself is not repeated: it may carry a secret key.
  throw std::invalid_argument(
      "objects: " + why +
      " (expected s3://bucket?endpoint=http(s)://host:port&region=...&style=path|virtual"
      "&access_key=...&secret_key=...)");
}

bool is_valid_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) return false;
  return std::all_of(b.begin(), b.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool is_valid_region(std::string_view r) {
  return !r.empty() && std::all_of(r.begin(), r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// A query string in SigV4's canonical form (sorted by name, every name and value encoded),
// because curl 7.88 signs the query exactly as it appears in the URL.
std::string canonical_query(std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += sigv4::uri_encode(name, false);
    out += '=';
    out += sigv4::uri_encode(value, false);
  }
  return out;
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Failures worth another attempt: the network, not the request.
bool is_transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool is_retryable(long status) { return status == 429 || status >= 500; }

}  // namespace

S3Config parse_s3_url(std::string_view url) {
  const auto parsed = urls::parse_uri(url);
  if (!parsed) bad_setting("not a URL");
  if (parsed->scheme() != "s3") bad_setting("the scheme must be s3://");
  if (parsed->has_userinfo() || parsed->has_port() || parsed->has_fragment() ||
      (!parsed->encoded_path().empty() && parsed->encoded_path() != "/"))
    bad_setting("only a bucket name and query parameters are allowed");
  S3Config config;
  config.bucket = parsed->host();
  if (!is_valid_bucket(config.bucket))
    bad_setting("\"" + config.bucket + "\" is not a valid bucket name");

  std::string endpoint;
  std::string style;
  bool has_access_key = false;
  bool has_secret_key = false;
  // '+' stays a plus: secret keys contain it.
  for (const auto& param : parsed->params(urls::encoding_opts{false, false, false})) {
    if (param.key == "endpoint") {
      endpoint = param.value;
    } else if (param.key == "region") {
      config.region = param.value;
    } else if (param.key == "style") {
      style = param.value;
    } else if (param.key == "access_key") {
      config.credentials.access_key = param.value;
      has_access_key = true;
    } else if (param.key == "secret_key") {
      config.credentials.secret_key = param.value;
      has_secret_key = true;
    } else {
      bad_setting("unknown parameter \"" + std::string(param.key) + "\"");
    }
  }
  if (!is_valid_region(config.region)) bad_setting("bad region \"" + config.region + "\"");

  bool endpoint_is_ip = false;
  if (endpoint.empty()) {
    config.endpoint = "https://s3." + config.region + ".amazonaws.com";
  } else {
    const auto ep = urls::parse_uri(endpoint);
    if (!ep || (ep->scheme() != "http" && ep->scheme() != "https") || ep->host().empty() ||
        ep->has_userinfo() || ep->has_query() || ep->has_fragment() ||
        (!ep->encoded_path().empty() && ep->encoded_path() != "/"))
      bad_setting("endpoint must be http(s)://host[:port], got \"" + endpoint + "\"");
    config.endpoint = std::string(ep->scheme()) + "://" + std::string(ep->encoded_host()) +
                      (ep->has_port() ? ":" + std::string(ep->port()) : "");
    endpoint_is_ip =
        ep->host_type() == urls::host_type::ipv4 || ep->host_type() == urls::host_type::ipv6;
  }
  if (style.empty()) {
    config.virtual_host = endpoint.empty();
  } else if (style == "path" || style == "virtual") {
    config.virtual_host = style == "virtual";
  } else {
    bad_setting("style must be path or virtual, got \"" + style + "\"");
  }
  if (config.virtual_host && endpoint_is_ip)
    bad_setting("style=virtual needs an endpoint with a host name, not an IP address");

  if (has_access_key != has_secret_key) bad_setting("give both access_key and secret_key");
  if (!has_access_key) {
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    const char* token = std::getenv("AWS_SESSION_TOKEN");
    if (id == nullptr || secret == nullptr || *id == '\0' || *secret == '\0')
      bad_setting(
          "no S3 credentials: give access_key and secret_key, or set "
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    config.credentials.access_key = id;
    config.credentials.secret_key = secret;
    if (token != nullptr) config.credentials.session_token = token;
  }
  if (config.credentials.access_key.empty() || config.credentials.secret_key.empty())
    bad_setting("access_key and secret_key must not be empty");
  return config;
}

// Idle curl handles, kept so their connections are reused.
class S3ObjectStore::HandlePool {
 public:
  struct Release {
    HandlePool* pool;
    void operator()(CURL* handle) const { pool->release(handle); }
  };
  using Lease = std::unique_ptr<CURL, Release>;

  HandlePool() = default;
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;
  ~HandlePool() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  Lease acquire() {
    CURL* handle = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        handle = idle_.back();
        idle_.pop_back();
      }
    }
    if (handle != nullptr) {
      curl_easy_reset(handle);  // keeps the connection cache
    } else {
      handle = curl_easy_init();
      if (handle == nullptr) throw InfraError(InfraError::Kind::transient, "s3: no curl handle");
    }
    return Lease(handle, Release{this});
  }

 private:
  void release(CURL* handle) {
    {
      std::lock_guard lock(mutex_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

  std::mutex mutex_;
  std::vector<CURL*> idle_;  // guarded by mutex_
};

struct S3ObjectStore::Request {
  const char* method;  // GET, HEAD, PUT or DELETE
  std::string url;
  std::string_view body;
  std::string_view content_type;  // PUT only
};

struct S3ObjectStore::Response {
  long status = 0;
  std::string body;
  std::string content_type;
};

S3ObjectStore::S3ObjectStore(S3Config config, const ports::Clock& clock)
    : config_(std::move(config)), clock_(clock), pool_(std::make_unique<HandlePool>()) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) throw std::runtime_error("objects: libcurl failed to initialise");
  const auto ep = urls::parse_uri(config_.endpoint);
  if (!ep) throw std::invalid_argument("objects: bad endpoint \"" + config_.endpoint + "\"");
  // The Host header omits the scheme's default port, so the signed host must too.
  const bool default_port = !ep->has_port() || (ep->scheme() == "http" && ep->port() == "80") ||
                            (ep->scheme() == "https" && ep->port() == "443");
  host_ = std::string(ep->encoded_host()) + (default_port ? "" : ":" + std::string(ep->port()));
  if (config_.virtual_host) {
    host_ = config_.bucket + "." + host_;
  } else {
    bucket_path_ = "/" + config_.bucket;
  }
  base_url_ = std::string(ep->scheme()) + "://" + host_;
  curl_sigv4_ = "aws:amz:" + config_.region + ":s3";
}

S3ObjectStore::~S3ObjectStore() = default;

std::string S3ObjectStore::object_path(std::string_view key) const {
  if (!domain::is_valid_object_key(key)) throw std::invalid_argument("invalid object key");
  return bucket_path_ + "/" + sigv4::uri_encode(key, true);
}

std::string S3ObjectStore::object_url(std::string_view key) const {
  return base_url_ + object_path(key);
}

S3ObjectStore::Response S3ObjectStore::send_once(const Request& request) {
  const auto handle = pool_->acquire();
  CURL* h = handle.get();

  curl_slist* headers = nullptr;
  const auto add_header = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers, line.c_str());
    if (grown == nullptr) {
      curl_slist_free_all(headers);
      throw InfraError(InfraError::Kind::transient, "s3: out of memory");
    }
    headers = grown;
  };
  // curl 7.88 neither adds this header nor reads it; it hashes CURLOPT_POSTFIELDS for the
  // signature, which is why bodies go through POSTFIELDS and not a read callback.
  add_header("x-amz-content-sha256: " + sigv4::sha256_hex(request.body));
  if (!request.content_type.empty())
    add_header("Content-Type: " + std::string(request.content_type));
  if (!config_.credentials.session_token.empty())
    add_header("x-amz-security-token: " + config_.credentials.session_token);
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(
      headers, &curl_slist_free_all);

  Response response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, curl_sigv4_.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, config_.credentials.access_key.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, config_.credentials.secret_key.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  const std::string_view method = request.method;
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  // A stalled transfer fails; a slow but moving one of a large object does not.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);

  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    throw InfraError(is_transient(rc) ? InfraError::Kind::transient : InfraError::Kind::permanent,
                     std::string("s3: ") + request.method + " " + request.url + ": " +
                         (error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  const char* type = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr)
    response.content_type = type;
  return response;
}

S3ObjectStore::Response S3ObjectStore::send(const Request& request) {
  auto pause = config_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt >= config_.max_attempts;
    try {
      Response response = send_once(request);
      if (!is_retryable(response.status) || last) return response;
    } catch (const InfraError& e) {
      if (e.kind() == InfraError::Kind::permanent) throw;
      if (last)
        throw InfraError(InfraError::Kind::transient, std::string(e.what()) + " (after " +
                                                          std::to_string(attempt) + " attempts)");
    }
    std::this_thread::sleep_for(pause);
    pause *= 2;
  }
}

void S3ObjectStore::fail(const std::string& operation, const Response& response) const {
  const auto error = s3xml::parse_error(response.body);
  std::string what = "s3: " + operation + ": HTTP " + std::to_string(response.status);
  if (!error.code.empty()) what += " " + error.code;
  if (!error.message.empty()) what += ": " + error.message;
  throw InfraError(
      is_retryable(response.status) ? InfraError::Kind::transient : InfraError::Kind::permanent,
      what);
}

void S3ObjectStore::put(std::string_view key, std::string_view bytes,
                        std::string_view content_type) {
  const Request request{"PUT", object_url(key), bytes,
                        content_type.empty() ? "application/octet-stream" : content_type};
  const Response response = send(request);
  if (response.status != 200) fail("PUT " + std::string(key), response);
}

std::optional<ports::StoredObject> S3ObjectStore::get(std::string_view key) {
  const Response response = send(Request{"GET", object_url(key), {}, {}});
  if (response.status == 200)
    return ports::StoredObject{response.body, response.content_type.empty()
                                                  ? "application/octet-stream"
                                                  : response.content_type};
  if (response.status == 404 && s3xml::parse_error(response.body).code != "NoSuchBucket")
    return std::nullopt;
  fail("GET " + std::string(key), response);
}

ports::ObjectPage S3ObjectStore::list(std::string_view prefix, std::string_view continuation,
                                      int limit) {
  if (limit <= 0) return {};
  // Valid keys hold no control characters, so they travel in the XML as they are and
  // encoding-type=url is not needed.
  std::vector<std::pair<std::string, std::string>> params = {
      {"list-type", "2"}, {"max-keys", std::to_string(std::min(limit, kMaxKeysPerPage))}};
  if (!prefix.empty()) params.emplace_back("prefix", std::string(prefix));
  if (!continuation.empty()) params.emplace_back("continuation-token", std::string(continuation));
  const std::string url = base_url_ + (bucket_path_.empty() ? "/" : bucket_path_) + "?" +
                          canonical_query(std::move(params));
  const Response response = send(Request{"GET", url, {}, {}});
  if (response.status != 200) fail("list " + std::string(prefix), response);

  s3xml::ListResult result;
  try {
    result = s3xml::parse_list_objects_v2(response.body);
  } catch (const std::runtime_error& e) {
    throw InfraError(InfraError::Kind::permanent,
                     "s3: list " + std::string(prefix) + ": " + e.what());
  }
  ports::ObjectPage page;
  page.objects = std::move(result.objects);
  if (result.truncated) page.next_token = std::move(result.next_token);
  return page;
}

bool S3ObjectStore::remove(std::string_view key) {
  const std::string url = object_url(key);
  const Response head = send(Request{"HEAD", url, {}, {}});
  if (head.status == 404) return false;
  if (head.status != 200) fail("HEAD " + std::string(key), head);
  const Response response = send(Request{"DELETE", url, {}, {}});
  if (response.status != 204 && response.status != 200)
    fail("DELETE " + std::string(key), response);
  return true;
}

std::string S3ObjectStore::presign_get(std::string_view key, std::chrono::seconds ttl) {
  const std::string path = object_path(key);
  if (ttl < std::chrono::seconds{1} || ttl > kMaxPresignTtl)
    throw std::invalid_argument("s3: a presigned URL lives 1 s to 7 days");
  const sigv4::PresignInput input{host_, path, config_.region, clock_.now(), ttl};
  return base_url_ + path + "?" + sigv4::presign_get_query(config_.credentials, input);
}

std::unique_ptr<ports::ObjectStore> make_s3_object_store(std::string_view url,
                                                         const ports::Clock& clock) {
  return std::make_unique<S3ObjectStore>(parse_s3_url(url), clock);
}

}  // namespace orderflow::adapters
