// The S3 ObjectStore: any S3-compatible server (AWS S3, MinIO, Ceph, s3rver) over libcurl, with
// requests signed by curl's SigV4 and presigned GET URLs signed here.
//
// Configured by the `objects` setting:
//   s3://bucket?endpoint=http://127.0.0.1:9000&region=us-east-1&style=path|virtual
//              &access_key=...&secret_key=...
// endpoint defaults to https://s3.<region>.amazonaws.com, region to us-east-1, style to path when
// an endpoint is given and virtual otherwise. Without access_key/secret_key in the URL the
// credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "adapters/s3/sigv4.hpp"
#include "ports/clock.hpp"
#include "ports/object_store.hpp"

namespace orderflow::adapters {

struct S3Config {
  std::string bucket;
  std::string endpoint;  // scheme://host[:port], no trailing slash
  std::string region = "us-east-1";
  bool virtual_host = false;  // bucket.host/key instead of host/bucket/key
  sigv4::Credentials credentials;
  // Retries of 5xx, 429 and network failures: attempts in all, and the first pause (doubled
  // after each failure).
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{100};
};

// Parses the `objects` URL above. Throws std::invalid_argument naming the setting `objects`.
S3Config parse_s3_url(std::string_view url);

class S3ObjectStore final : public ports::ObjectStore {
 public:
  S3ObjectStore(S3Config config, const ports::Clock& clock);
  ~S3ObjectStore() override;
  S3ObjectStore(const S3ObjectStore&) = delete;
  S3ObjectStore& operator=(const S3ObjectStore&) = delete;

  void put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  std::optional<ports::StoredObject> get(std::string_view key) override;
  // `continuation` and next_token are S3's opaque continuation tokens. At most 1000 objects a
  // page, S3's own limit.
  ports::ObjectPage list(std::string_view prefix, std::string_view continuation,
                         int limit) override;
  // S3's DELETE answers 204 whether or not the key existed, so a HEAD comes first to learn
  // which. The pair is not atomic: two concurrent removes of one key may both return true.
  bool remove(std::string_view key) override;
  // A SigV4 query-string URL (UNSIGNED-PAYLOAD, host header only) dated by the clock port.
  // S3 accepts 1 s to 7 days; other ttls throw std::invalid_argument.
  std::string presign_get(std::string_view key, std::chrono::seconds ttl) override;

 private:
  struct Response;
  struct Request;
  class HandlePool;

  // Sends with retries; returns the final answer (any status) or throws InfraError for
  // network failures and exhausted retries.
  Response send(const Request& request);
  Response send_once(const Request& request);
  std::string object_url(std::string_view key) const;   // validates the key
  std::string object_path(std::string_view key) const;  // encoded, for URL and signing
  [[noreturn]] void fail(const std::string& operation, const Response& response) const;

  S3Config config_;
  const ports::Clock& clock_;
  std::string base_url_;     // scheme://host[:port], the bucket's host for virtual style
  std::string host_;         // host[:port] as the Host header carries it
  std::string bucket_path_;  // "/bucket" for path style, "" for virtual
  std::string curl_sigv4_;   // "aws:amz:<region>:s3"
  std::string curl_userpwd_;
  std::unique_ptr<HandlePool> pool_;
};

// The `objects` factory for s3:// URLs.
std::unique_ptr<ports::ObjectStore> make_s3_object_store(std::string_view url,
                                                         const ports::Clock& clock);

}  // namespace orderflow::adapters
