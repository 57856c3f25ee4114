// Presigned S3 URLs against AWS's published example ("Authenticating Requests: Using Query
// Parameters", S3 API reference). s3rver does not check signatures, so this is what proves the
// signing right.
#include <gtest/gtest.h>

#include "adapters/s3/s3_object_store.hpp"
#include "adapters/s3/sigv4.hpp"
#include "objects/object_test_support.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
namespace sigv4 = adapters::sigv4;

constexpr const char* kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kExpectedSignature =
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

// 2013-05-24T00:00:00Z, the example's X-Amz-Date.
domain::Timestamp example_time() {
  return domain::Timestamp{std::chrono::sys_days{std::chrono::year{2013} / 5 / 24}};
}

TEST(SigV4Presign, MatchesAwsPublishedExample) {
  const sigv4::Credentials credentials{kAccessKey, kSecretKey, ""};
  const std::string query = sigv4::presign_get_query(
      credentials, {"examplebucket.s3.amazonaws.com", "/test.txt", "us-east-1", example_time(),
                    86400s});
  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=" +
                std::string(kExpectedSignature));
}

TEST(SigV4Presign, TheAdapterBuildsTheExampleUrlForAVirtualHostedBucket) {
  ManualClock clock(example_time());
  adapters::S3Config config;
  config.bucket = "examplebucket";
  config.endpoint = "https://s3.amazonaws.com";
  config.virtual_host = true;
  config.credentials = {kAccessKey, kSecretKey, ""};
  adapters::S3ObjectStore store(config, clock);
  EXPECT_EQ(store.presign_get("test.txt", 24h),
            "https://examplebucket.s3.amazonaws.com/test.txt"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=" +
                std::string(kExpectedSignature));
}

TEST(SigV4Presign, PathStyleSignsTheBucketInThePathAndThePortInTheHost) {
  ManualClock clock(example_time());
  adapters::S3Config config;
  config.bucket = "examplebucket";
  config.endpoint = "http://127.0.0.1:9000";
  config.credentials = {kAccessKey, kSecretKey, ""};
  adapters::S3ObjectStore store(config, clock);
  const std::string url = store.presign_get("dir/a b+c.txt", 1h);
  const std::string expected_query = sigv4::presign_get_query(
      config.credentials,
      {"127.0.0.1:9000", "/examplebucket/dir/a%20b%2Bc.txt", "us-east-1", example_time(), 3600s});
  EXPECT_EQ(url, "http://127.0.0.1:9000/examplebucket/dir/a%20b%2Bc.txt?" + expected_query);
}

TEST(SigV4Presign, TheDateComesFromTheClockAndTheSignatureChangesWithIt) {
  const sigv4::Credentials credentials{kAccessKey, kSecretKey, ""};
  const auto later = example_time() + 1s;
  const std::string a = sigv4::presign_get_query(
      credentials, {"examplebucket.s3.amazonaws.com", "/test.txt", "us-east-1", later, 86400s});
  EXPECT_NE(a.find("X-Amz-Date=20130524T000001Z"), std::string::npos);
  EXPECT_EQ(a.find(kExpectedSignature), std::string::npos);
}

TEST(SigV4Presign, SessionTokenIsSignedInCanonicalOrder) {
  const sigv4::Credentials credentials{kAccessKey, kSecretKey, "token/with+chars="};
  const std::string q = sigv4::presign_get_query(
      credentials, {"examplebucket.s3.amazonaws.com", "/test.txt", "us-east-1", example_time(),
                    86400s});
  const auto token = q.find("&X-Amz-Security-Token=token%2Fwith%2Bchars%3D&");
  ASSERT_NE(token, std::string::npos) << q;
  EXPECT_LT(q.find("X-Amz-Expires="), token);
  EXPECT_GT(q.find("X-Amz-SignedHeaders="), token);
  EXPECT_EQ(q.find(kExpectedSignature), std::string::npos);
}

TEST(SigV4Presign, TtlOutsideWhatS3AcceptsIsRejected) {
  ManualClock clock(example_time());
  adapters::S3Config config;
  config.bucket = "examplebucket";
  config.endpoint = "http://127.0.0.1:9000";
  config.credentials = {kAccessKey, kSecretKey, ""};
  adapters::S3ObjectStore store(config, clock);
  EXPECT_THROW(store.presign_get("a", 0s), std::invalid_argument);
  EXPECT_THROW(store.presign_get("a", 604801s), std::invalid_argument);
  EXPECT_NO_THROW(store.presign_get("a", 604800s));
}

TEST(SigV4Encoding, UriEncodeKeepsUnreservedAndOptionallySlash) {
  EXPECT_EQ(sigv4::uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(sigv4::uri_encode("a/b c+d", true), "a/b%20c%2Bd");
  EXPECT_EQ(sigv4::uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(sigv4::uri_encode("\xc3\xa9*", false), "%C3%A9%2A");
  EXPECT_EQ(sigv4::uri_encode(std::string("\0", 1), false), "%00");
}

TEST(SigV4Encoding, Sha256HexOfKnownInputs) {
  EXPECT_EQ(sigv4::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sigv4::sha256_hex("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

}  // namespace
}  // namespace orderflow::testing
