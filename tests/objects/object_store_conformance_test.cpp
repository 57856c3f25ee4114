// The ObjectStore contract (src/ports/object_store.hpp), run against every adapter: the file
// store in a temp dir and the S3 adapter against s3rver on loopback. Each test gets a fresh
// store (a new temp dir, or a new bucket).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "adapters/s3/s3_object_store.hpp"
#include "objects/object_test_support.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;

// One adapter under test, with the checks only it can make of its presigned links.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual ports::ObjectStore& store() = 0;
  virtual ManualClock& clock() = 0;
  // Asserts that a link from presign_get(key) lets anyone GET `bytes`.
  virtual void expect_link_serves(const std::string& url, const std::string& key,
                                  const std::string& bytes) = 0;
  // Asserts that the link is refused because it expired.
  virtual void expect_link_expired(const std::string& url, const std::string& key) = 0;
};

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> query_of(const std::string& url) {
  std::map<std::string, std::string> params;
  const auto q = url.find('?');
  if (q == std::string::npos) return params;
  std::string_view rest = std::string_view(url).substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    params[percent_decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return params;
}

class FileBackend final : public Backend {
 public:
  static constexpr const char* kPublicUrl = "http://127.0.0.1:8080";

  FileBackend()
      : clock_(wall_now()),
        signer_("object-store-test-secret-0123456789"),
        store_(dir_.path() / "objects", kPublicUrl, signer_, clock_) {}

  ports::ObjectStore& store() override { return store_; }
  ManualClock& clock() override { return clock_; }

  // The /objects route is not running here: check the link's parts as that route would.
  void expect_link_serves(const std::string& url, const std::string& key,
                          const std::string& bytes) override {
    const std::string prefix = std::string(kPublicUrl) + "/objects/";
    ASSERT_EQ(url.rfind(prefix, 0), 0u) << url;
    const std::string path = url.substr(prefix.size(), url.find('?') - prefix.size());
    EXPECT_EQ(percent_decode(path), key);
    auto q = query_of(url);
    EXPECT_EQ(store_.check_link(key, q["expires"], q["signature"]),
              adapters::FileObjectStore::LinkCheck::ok);
    const auto file = store_.file_of(key);
    ASSERT_FALSE(file.empty());
    EXPECT_EQ(store_.get(key)->bytes, bytes);
  }

  void expect_link_expired(const std::string& url, const std::string& key) override {
    auto q = query_of(url);
    EXPECT_EQ(store_.check_link(key, q["expires"], q["signature"]),
              adapters::FileObjectStore::LinkCheck::expired);
  }

 private:
  TempDir dir_;
  ManualClock clock_;
  adapters::HmacSigner signer_;
  adapters::FileObjectStore store_;
};

class S3Backend final : public Backend {
 public:
  S3Backend() : clock_(wall_now()) {
    const S3rver& server = shared_s3rver();  // throws, failing the test, when s3rver is missing
    static int counter = 0;
    const std::string bucket = "conformance-" + std::to_string(++counter);
    server.create_bucket(bucket);
    store_ = adapters::make_s3_object_store("s3://" + bucket + "?endpoint=" + server.endpoint() +
                                                "&access_key=" + S3rver::kAccessKey +
                                                "&secret_key=" + S3rver::kSecretKey,
                                            clock_);
  }

  ports::ObjectStore& store() override { return *store_; }
  ManualClock& clock() override { return clock_; }

  void expect_link_serves(const std::string& url, const std::string&,
                          const std::string& bytes) override {
    const HttpAnswer answer = http_get(url);
    EXPECT_EQ(answer.status, 200) << url << "\n" << answer.body;
    EXPECT_EQ(answer.body, bytes);
  }

  // s3rver checks expiry (against its own wall clock) though not signatures.
  void expect_link_expired(const std::string& url, const std::string&) override {
    const HttpAnswer answer = http_get(url);
    EXPECT_EQ(answer.status, 403) << url;
    EXPECT_NE(answer.body.find("expired"), std::string::npos) << answer.body;
  }

 private:
  ManualClock clock_;
  std::unique_ptr<ports::ObjectStore> store_;
};

struct BackendFactory {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};

std::ostream& operator<<(std::ostream& os, const BackendFactory& f) { return os << f.name; }

class ObjectStoreConformance : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    try {
      backend_ = GetParam().make();
    } catch (const std::exception& e) {
      FAIL() << GetParam().name << " object store could not be set up: " << e.what();
    }
  }

  ports::ObjectStore& store() { return backend_->store(); }

  // Every key under `prefix`, following next_token with pages of `limit`.
  std::vector<std::string> list_all(std::string_view prefix, int limit = 1000) {
    std::vector<std::string> keys;
    std::string token;
    for (int page = 0; page < 1000; ++page) {
      const auto result = store().list(prefix, token, limit);
      for (const auto& o : result.objects) keys.push_back(o.key);
      if (result.next_token.empty()) return keys;
      token = result.next_token;
    }
    ADD_FAILURE() << "list never ended";
    return keys;
  }

  std::unique_ptr<Backend> backend_;
};

std::string all_byte_values() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string("\0\xff\0", 3);
  return bytes;
}

TEST_P(ObjectStoreConformance, PutThenGetReturnsTheSameBytesAndContentType) {
  const std::string bytes = all_byte_values();
  store().put("images/photo.png", bytes, "image/png");
  const auto got = store().get("images/photo.png");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->bytes, bytes);
  EXPECT_EQ(got->content_type, "image/png");

  store().put("deleted_orders/42.json", R"({"orderId":"42"})", "application/json");
  const auto json = store().get("deleted_orders/42.json");
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(json->bytes, R"({"orderId":"42"})");
  EXPECT_EQ(json->content_type, "application/json");
}

TEST_P(ObjectStoreConformance, EmptyObjectRoundTrips) {
  store().put("empty.bin", "", "application/octet-stream");
  const auto got = store().get("empty.bin");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->bytes, "");
  const auto page = store().list("empty", "", 10);
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].size, 0u);
}

TEST_P(ObjectStoreConformance, PutOverwritesTheWholeObject) {
  store().put("reports/r.pdf", std::string(5000, 'a'), "application/pdf");
  store().put("reports/r.pdf", "short", "application/pdf");
  const auto got = store().get("reports/r.pdf");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->bytes, "short");
  const auto page = store().list("reports/", "", 10);
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].size, 5u);
}

TEST_P(ObjectStoreConformance, GetOfAMissingKeyIsNothing) {
  EXPECT_FALSE(store().get("no/such/key.json").has_value());
  store().put("no/such/other.json", "{}", "application/json");
  EXPECT_FALSE(store().get("no/such/key.json").has_value());
  EXPECT_FALSE(store().get("no/such").has_value());  // a "directory" is not an object
}

TEST_P(ObjectStoreConformance, ListPagesThroughEveryKeyOnceInAscendingOrder) {
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "pages/k%02d.json", i);
    expected.push_back(name);
  }
  std::vector<std::string> shuffled = expected;
  std::reverse(shuffled.begin(), shuffled.end());
  std::rotate(shuffled.begin(), shuffled.begin() + 7, shuffled.end());
  for (const auto& key : shuffled) store().put(key, key, "application/json");
  store().put("pagesX.json", "outside", "application/json");

  std::vector<std::string> seen;
  std::vector<std::size_t> page_sizes;
  std::string token;
  for (int guard = 0; guard < 10; ++guard) {
    const auto page = store().list("pages/", token, 10);
    page_sizes.push_back(page.objects.size());
    for (const auto& o : page.objects) {
      seen.push_back(o.key);
      EXPECT_EQ(o.size, o.key.size());
    }
    if (page.next_token.empty()) break;
    token = page.next_token;
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{10, 10, 5}));
}

TEST_P(ObjectStoreConformance, ListOfAnExactlyFullPageEndsWithoutAnEmptyPageOrWithOne) {
  for (int i = 0; i < 10; ++i) store().put("full/" + std::to_string(i), "x", "text/plain");
  const auto first = store().list("full/", "", 10);
  EXPECT_EQ(first.objects.size(), 10u);
  // Either answer is allowed by the contract, but a token must lead to an empty last page.
  if (!first.next_token.empty()) {
    const auto second = store().list("full/", first.next_token, 10);
    EXPECT_TRUE(second.objects.empty());
    EXPECT_TRUE(second.next_token.empty());
  }
}

TEST_P(ObjectStoreConformance, ListFiltersByPrefix) {
  for (const char* key : {"a/1", "a/2", "ab/1", "b/1", "a/deep/er/3"})
    store().put(key, key, "text/plain");
  EXPECT_EQ(list_all("a/"), (std::vector<std::string>{"a/1", "a/2", "a/deep/er/3"}));
  EXPECT_EQ(list_all("ab/"), (std::vector<std::string>{"ab/1"}));
  EXPECT_EQ(list_all("a"), (std::vector<std::string>{"a/1", "a/2", "a/deep/er/3", "ab/1"}));
  EXPECT_EQ(list_all("a/d"), (std::vector<std::string>{"a/deep/er/3"}));
  EXPECT_EQ(list_all(""), (std::vector<std::string>{"a/1", "a/2", "a/deep/er/3", "ab/1", "b/1"}));
  EXPECT_TRUE(list_all("c/").empty());
  EXPECT_TRUE(list_all("a/1/").empty());
}

TEST_P(ObjectStoreConformance, ListReportsSizeAndModificationTime) {
  const auto before = wall_now() - 1h;
  store().put("sized/blob.bin", std::string(1234, 'z'), "application/octet-stream");
  const auto page = store().list("sized/", "", 10);
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].key, "sized/blob.bin");
  EXPECT_EQ(page.objects[0].size, 1234u);
  EXPECT_GT(page.objects[0].modified, before);
  EXPECT_LT(page.objects[0].modified, wall_now() + 1h);
}

TEST_P(ObjectStoreConformance, RemoveDeletesAndSaysWhetherTheObjectExisted) {
  store().put("gone/soon.txt", "bye", "text/plain; charset=utf-8");
  store().put("gone/stays.txt", "hi", "text/plain; charset=utf-8");
  EXPECT_TRUE(store().remove("gone/soon.txt"));
  EXPECT_FALSE(store().get("gone/soon.txt").has_value());
  EXPECT_FALSE(store().remove("gone/soon.txt"));
  EXPECT_FALSE(store().remove("never/was.txt"));
  EXPECT_EQ(list_all("gone/"), (std::vector<std::string>{"gone/stays.txt"}));
  ASSERT_TRUE(store().get("gone/stays.txt").has_value());
}

TEST_P(ObjectStoreConformance, InvalidKeysAreRejectedByEveryOperation) {
  const std::vector<std::string> bad = {
      "../x", "/abs", "a//b", "a\\b", std::string("a\0b", 3), "", "a/", "./a", "a/..",
      "a/./b", "bad\xff utf8", "tab\there", std::string(1025, 'k')};
  for (const auto& key : bad) {
    SCOPED_TRACE(::testing::PrintToString(key));
    EXPECT_THROW(store().put(key, "x", "text/plain"), std::invalid_argument);
    EXPECT_THROW(store().get(key), std::invalid_argument);
    EXPECT_THROW(store().remove(key), std::invalid_argument);
    EXPECT_THROW(store().presign_get(key, 1h), std::invalid_argument);
  }
  EXPECT_TRUE(list_all("").empty());
}

TEST_P(ObjectStoreConformance, PresignedLinkServesTheObject) {
  const std::string bytes = all_byte_values();
  store().put("reports/deleted orders.pdf", bytes, "application/pdf");
  const std::string url = store().presign_get("reports/deleted orders.pdf", 1h);
  backend_->expect_link_serves(url, "reports/deleted orders.pdf", bytes);
}

TEST_P(ObjectStoreConformance, PresignedLinkExpires) {
  store().put("reports/old.pdf", "%PDF", "application/pdf");
  const auto now = wall_now();
  backend_->clock().set(now - 2h);
  const std::string url = store().presign_get("reports/old.pdf", 1h);
  backend_->clock().set(now);
  backend_->expect_link_expired(url, "reports/old.pdf");
}

TEST_P(ObjectStoreConformance, KeysWithSpacesUnicodeAndPunctuationWork) {
  const std::vector<std::string> keys = {
      "folder with space/naïve file.txt", "日本/データ ☃.json", "odd/a+b&c=d?e#f.txt",
      "odd/100%25 literal%.txt",           "odd/quote\"'<>.txt", "odd/tilde~!$()*,;@:[].txt"};
  for (const auto& key : keys) store().put(key, "bytes of " + key, "text/plain; charset=utf-8");
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    const auto got = store().get(key);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->bytes, "bytes of " + key);
  }
  auto listed = list_all("");
  std::vector<std::string> sorted_keys = keys;
  std::sort(sorted_keys.begin(), sorted_keys.end());
  EXPECT_EQ(listed, sorted_keys);
  EXPECT_EQ(list_all("日本/"), (std::vector<std::string>{"日本/データ ☃.json"}));
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    backend_->expect_link_serves(store().presign_get(key, 10min), key, "bytes of " + key);
  }
  for (const auto& key : keys) EXPECT_TRUE(store().remove(key));
  EXPECT_TRUE(list_all("").empty());
}

TEST_P(ObjectStoreConformance, ConcurrentCallersEachSeeTheirOwnObjects) {
  constexpr int kThreads = 4;
  constexpr int kEach = 8;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string key = "par/t" + std::to_string(t) + "/" + std::to_string(i) + ".json";
        store().put(key, key, "application/json");
        const auto got = store().get(key);
        if (!got || got->bytes != key) ++mismatches;
        store().list("par/t" + std::to_string(t) + "/", "", 3);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(list_all("par/", 7).size(), static_cast<std::size_t>(kThreads * kEach));
}

INSTANTIATE_TEST_SUITE_P(
    Objects, ObjectStoreConformance,
    ::testing::Values(BackendFactory{"file", [] { return std::make_unique<FileBackend>(); }},
                      BackendFactory{"s3", [] { return std::make_unique<S3Backend>(); }}),
    [](const ::testing::TestParamInfo<BackendFactory>& p) { return p.param.name; });

}  // namespace
}  // namespace orderflow::testing
