#include "adapters/s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>
#include <vector>

#include "domain/encoding.hpp"

namespace orderflow::adapters::sigv4 {
namespace {

std::string to_hex(const unsigned char* data, std::size_t n) {
  return domain::to_hex(std::string_view(reinterpret_cast<const char*>(data), n));
}

// Raw (binary) HMAC-SHA256, as the key-derivation chain needs it.
std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
           &len) == nullptr)
    throw std::runtime_error("sigv4: HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(mac), len);
}

// "20130524T000000Z" and "20130524".
std::pair<std::string, std::string> amz_date_and_day(domain::Timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> tod{floor<seconds>(t - day)};
  char buf[64];  // room for any int the format could print, so -Wformat-truncation is satisfied
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()));
  std::string date = buf;
  std::string short_day = date.substr(0, 8);
  return {std::move(date), std::move(short_day)};
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sigv4: SHA-256 failed");
  return to_hex(digest, len);
}

std::string uri_encode(std::string_view bytes, bool keep_slash) {
  return domain::uri_encode(bytes, keep_slash);
}

std::string presign_get_query(const Credentials& credentials, const PresignInput& input) {
  const auto [amz_date, day] = amz_date_and_day(input.now);
  const std::string scope = day + "/" + std::string(input.region) + "/s3/aws4_request";

  std::vector<std::pair<std::string, std::string>> params = {
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential", credentials.access_key + "/" + scope},
      {"X-Amz-Date", amz_date},
      {"X-Amz-Expires", std::to_string(input.expires.count())},
      {"X-Amz-SignedHeaders", "host"},
  };
  if (!credentials.session_token.empty())
    params.emplace_back("X-Amz-Security-Token", credentials.session_token);
  // Canonical order is by encoded name; these names encode to themselves.
  std::sort(params.begin(), params.end());
  std::string query;
  for (const auto& [name, value] : params) {
    if (!query.empty()) query += '&';
    query += uri_encode(name, false);
    query += '=';
    query += uri_encode(value, false);
  }

  const std::string canonical_request = "GET\n" + std::string(input.canonical_uri) + "\n" + query +
                                        "\nhost:" + std::string(input.host) +
                                        "\n\nhost\nUNSIGNED-PAYLOAD";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256_hex(canonical_request);

  const std::string date_key = hmac_sha256("AWS4" + credentials.secret_key, day);
  const std::string region_key = hmac_sha256(date_key, input.region);
  const std::string service_key = hmac_sha256(region_key, "s3");
  const std::string signing_key = hmac_sha256(service_key, "aws4_request");
  const std::string mac = hmac_sha256(signing_key, string_to_sign);
  return query + "&X-Amz-Signature=" +
         to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

}  // namespace orderflow::adapters::sigv4
