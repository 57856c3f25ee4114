// The `objects = "s3://..."` setting: defaults, credentials and the errors that stop start-up.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "adapters/s3/s3_object_store.hpp"

namespace orderflow::testing {
namespace {

using adapters::parse_s3_url;

// Sets or clears the AWS credential variables for one test, restoring them afterwards.
class AwsEnvironment {
 public:
  AwsEnvironment(const char* id, const char* secret, const char* token) {
    for (const char* name : kNames) {
      const char* v = std::getenv(name);
      saved_.push_back(v ? std::optional<std::string>(v) : std::nullopt);
    }
    set("AWS_ACCESS_KEY_ID", id);
    set("AWS_SECRET_ACCESS_KEY", secret);
    set("AWS_SESSION_TOKEN", token);
  }
  ~AwsEnvironment() {
    for (std::size_t i = 0; i < saved_.size(); ++i)
      set(kNames[i], saved_[i] ? saved_[i]->c_str() : nullptr);
  }
  AwsEnvironment(const AwsEnvironment&) = delete;
  AwsEnvironment& operator=(const AwsEnvironment&) = delete;

 private:
  static void set(const char* name, const char* value) {
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  static constexpr const char* kNames[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                           "AWS_SESSION_TOKEN"};
  std::vector<std::optional<std::string>> saved_;
};

TEST(S3Config, LocalEndpointDefaultsToPathStyleAndUsEast1) {
  const AwsEnvironment env(nullptr, nullptr, nullptr);
  const auto c = parse_s3_url("s3://orders?endpoint=http://127.0.0.1:9000&access_key=AK&secret_key=SK");
  EXPECT_EQ(c.bucket, "orders");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_FALSE(c.virtual_host);
  EXPECT_EQ(c.credentials.access_key, "AK");
  EXPECT_EQ(c.credentials.secret_key, "SK");
  EXPECT_TRUE(c.credentials.session_token.empty());
}

TEST(S3Config, WithoutEndpointItIsAwsWithVirtualHosting) {
  const AwsEnvironment env(nullptr, nullptr, nullptr);
  const auto c = parse_s3_url("s3://my.orders-bucket?region=eu-west-1&access_key=AK&secret_key=SK");
  EXPECT_EQ(c.endpoint, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_TRUE(c.virtual_host);
}

TEST(S3Config, StyleCanBeChosen) {
  const AwsEnvironment env(nullptr, nullptr, nullptr);
  EXPECT_FALSE(parse_s3_url("s3://bkt?style=path&access_key=A&secret_key=S").virtual_host);
  EXPECT_TRUE(parse_s3_url("s3://bkt?endpoint=https://minio.example:9000&style=virtual"
                           "&access_key=A&secret_key=S")
                  .virtual_host);
}

TEST(S3Config, PlusAndEscapesInTheSecretKeyArePreserved) {
  const AwsEnvironment env(nullptr, nullptr, nullptr);
  const auto c = parse_s3_url("s3://bkt?access_key=AK&secret_key=wJal+rX/K7%26%3D");
  EXPECT_EQ(c.credentials.secret_key, "wJal+rX/K7&=");
}

TEST(S3Config, CredentialsFallBackToTheEnvironment) {
  const AwsEnvironment env("ENVKEY", "ENVSECRET", "ENVTOKEN");
  const auto c = parse_s3_url("s3://bkt?endpoint=http://localhost:9000");
  EXPECT_EQ(c.credentials.access_key, "ENVKEY");
  EXPECT_EQ(c.credentials.secret_key, "ENVSECRET");
  EXPECT_EQ(c.credentials.session_token, "ENVTOKEN");

  const auto url_wins = parse_s3_url("s3://bkt?access_key=AK&secret_key=SK");
  EXPECT_EQ(url_wins.credentials.access_key, "AK");
}

void expect_bad(const std::string& url, const std::string& needle) {
  SCOPED_TRACE(url);
  try {
    parse_s3_url(url);
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("objects: ", 0), 0u) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find("TOPSECRET"), std::string::npos) << "the secret leaked: " << what;
  }
}

TEST(S3Config, BadUrlsNameTheSettingAndNeverTheSecret) {
  const AwsEnvironment env(nullptr, nullptr, nullptr);
  const std::string creds = "access_key=AK&secret_key=TOPSECRET";
  expect_bad("file:/tmp/x", "scheme");
  expect_bad("s3://", "bucket");
  expect_bad("s3://Bad_Bucket?" + creds, "bucket");
  expect_bad("s3://ab?" + creds, "bucket");
  expect_bad("s3://bkt/path?" + creds, "only a bucket");
  expect_bad("s3://user:TOPSECRET@bkt?" + creds, "only a bucket");
  expect_bad("s3://bkt?endpoint=ftp://h&" + creds, "endpoint");
  expect_bad("s3://bkt?endpoint=http://h/sub&" + creds, "endpoint");
  expect_bad("s3://bkt?style=sideways&" + creds, "style");
  expect_bad("s3://bkt?endpoint=http://127.0.0.1:9000&style=virtual&" + creds, "virtual");
  expect_bad("s3://bkt?region=EU%20West&" + creds, "region");
  expect_bad("s3://bkt?regoin=eu-west-1&" + creds, "unknown parameter \"regoin\"");
  expect_bad("s3://bkt?access_key=AK", "both");
  expect_bad("s3://bkt?secret_key=TOPSECRET", "both");
  expect_bad("s3://bkt", "AWS_ACCESS_KEY_ID");
}

TEST(S3Config, TheFactoryRejectsBadUrlsToo) {
  const AwsEnvironment env(nullptr, nullptr, nullptr);
  struct FixedClock final : ports::Clock {
    domain::Timestamp now() const override { return {}; }
  } clock;
  EXPECT_THROW(adapters::make_s3_object_store("s3://bkt", clock), std::invalid_argument);
  EXPECT_NE(adapters::make_s3_object_store("s3://bkt?access_key=A&secret_key=S", clock), nullptr);
}

}  // namespace
}  // namespace orderflow::testing
