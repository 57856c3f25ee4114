// What only the file store does: links checked by orderflow itself (tampering, expiry at the
// second), and a store confined to its root.
#include <gtest/gtest.h>

#include <fstream>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "objects/object_test_support.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using adapters::FileObjectStore;
using LinkCheck = FileObjectStore::LinkCheck;

class FileObjectStoreTest : public ::testing::Test {
 protected:
  // The expires and signature query values of a presigned link.
  static std::pair<std::string, std::string> link_parts(const std::string& url) {
    const auto e = url.find("?expires=");
    const auto s = url.find("&signature=");
    return {url.substr(e + 9, s - e - 9), url.substr(s + 11)};
  }

  TempDir dir_;
  ManualClock clock_{domain::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 25}}};
  adapters::HmacSigner signer_{"object-store-test-secret-0123456789"};
  FileObjectStore store_{dir_.path() / "objects", "http://127.0.0.1:8080/", signer_, clock_};
};

TEST_F(FileObjectStoreTest, LinkPointsAtTheObjectsRoute) {
  store_.put("a b/c.pdf", "x", "application/pdf");
  const std::string url = store_.presign_get("a b/c.pdf", 60s);
  EXPECT_TRUE(url.starts_with("http://127.0.0.1:8080/objects/a%20b/c.pdf?expires=")) << url;
}

TEST_F(FileObjectStoreTest, TamperedLinksAreRefused) {
  store_.put("reports/r.pdf", "x", "application/pdf");
  store_.put("reports/other.pdf", "y", "application/pdf");
  const auto [expires, signature] = link_parts(store_.presign_get("reports/r.pdf", 1h));
  ASSERT_EQ(store_.check_link("reports/r.pdf", expires, signature), LinkCheck::ok);

  std::string flipped = signature;
  flipped[0] = flipped[0] == '0' ? '1' : '0';
  EXPECT_EQ(store_.check_link("reports/r.pdf", expires, flipped), LinkCheck::bad_signature);
  EXPECT_EQ(store_.check_link("reports/r.pdf", std::to_string(std::stoll(expires) + 3600),
                              signature),
            LinkCheck::bad_signature);
  EXPECT_EQ(store_.check_link("reports/other.pdf", expires, signature), LinkCheck::bad_signature);
  EXPECT_EQ(store_.check_link("reports/r.pdf", expires, ""), LinkCheck::bad_signature);
  EXPECT_EQ(store_.check_link("reports/r.pdf", "", signature), LinkCheck::bad_signature);
  EXPECT_EQ(store_.check_link("reports/r.pdf", expires, signature.substr(1)),
            LinkCheck::bad_signature);
}

TEST_F(FileObjectStoreTest, LinkExpiresWhenItsTtlHasPassed) {
  store_.put("r.pdf", "x", "application/pdf");
  const auto start = clock_.now();
  const auto [expires, signature] = link_parts(store_.presign_get("r.pdf", 60s));
  clock_.set(start + 60s);
  EXPECT_EQ(store_.check_link("r.pdf", expires, signature), LinkCheck::ok);
  clock_.set(start + 61s);
  EXPECT_EQ(store_.check_link("r.pdf", expires, signature), LinkCheck::expired);
  // A signature check comes first: a forged link is never reported as merely expired.
  EXPECT_EQ(store_.check_link("r.pdf", expires, std::string(signature.size(), '0')),
            LinkCheck::bad_signature);
}

// Regression: list("../") walked the directory above the store and listed its files.
TEST_F(FileObjectStoreTest, ListingNeverLeavesTheRootNorShowsTempFiles) {
  std::ofstream(dir_.path() / "outside.txt") << "not an object";
  store_.put("inside.txt", "an object", "text/plain");
  std::ofstream(dir_.path() / "objects" / ".tmp" / "half-written") << "partial";
  EXPECT_TRUE(store_.list("../", "", 100).objects.empty());
  EXPECT_TRUE(store_.list("../o", "", 100).objects.empty());
  EXPECT_TRUE(store_.list("./", "", 100).objects.empty());
  EXPECT_TRUE(store_.list("a//", "", 100).objects.empty());
  EXPECT_TRUE(store_.list(".tmp/", "", 100).objects.empty());
  const auto all = store_.list("", "", 100);
  ASSERT_EQ(all.objects.size(), 1u);
  EXPECT_EQ(all.objects[0].key, "inside.txt");
}

}  // namespace
}  // namespace orderflow::testing
