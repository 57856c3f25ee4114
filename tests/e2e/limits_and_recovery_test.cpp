// Issue 12, items 3, 5 and 6 through the real binary: image bombs within the upload limit (a
// progressive JPEG repeating its last scan, a huge flat 16-bit PNG) are refused from their
// headers at once with a 4xx that says why, and the next upload is served as usual; a secret
// file left empty by a failed write is regenerated at start-up (atomically, by rename); and a
// delivery that fails through an object-store outage completes once the store is back, without
// ever becoming a dead letter.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <thread>
#include <vector>

#include "e2e/events_support.hpp"
#include "e2e/harness.hpp"
#include "e2e/mail_support.hpp"
#include "support/image_bombs.hpp"

namespace orderflow::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;


std::string upload_body(std::string_view image) {
  return R"({"image":")" + base64_encode(image) + R"(","description":"a blue box"})";
}

// A multipart/form-data body with the image as a file part.
std::string multipart_body(std::string_view image, std::string_view boundary) {
  std::string b = "--" + std::string(boundary) +
                  "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"photo.png\"\r\n"
                  "Content-Type: image/png\r\n\r\n";
  b += image;
  b += "\r\n--" + std::string(boundary) +
       "\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\na blue box\r\n--" +
       std::string(boundary) + "--\r\n";
  return b;
}

// An ordinary product photo: 640x480, a few shapes.
std::string ordinary_jpeg() {
  cv::Mat image(480, 640, CV_8UC3, cv::Scalar(200, 120, 40));
  cv::rectangle(image, {160, 120}, {480, 360}, cv::Scalar(30, 30, 220), -1);
  cv::circle(image, {320, 240}, 80, cv::Scalar(250, 250, 250), -1);
  std::vector<unsigned char> out;
  cv::imencode(".jpg", image, out);
  return std::string(out.begin(), out.end());
}

testing::AssertionResult MessageSays(const Response& r, std::string_view text) {
  const std::string message = string_field(r.json(), "message");
  if (message.find(text) != std::string::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << "message \"" << message << "\" does not say \"" << text << "\"";
}

// --- image bombs -----------------------------------------------------------------------------

class ImageBombs : public SharedServerTest<ImageBombs> {
 public:
  static void seed(HttpClient& c) {
    // The model loads in the background: the ordinary upload after each bomb should meet it.
    for (const auto until = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < until &&
         c.get("/readyz").body.find("\"recognizer\":\"loading\"") != std::string::npos;)
      std::this_thread::sleep_for(50ms);
  }

 protected:
  // A bomb decoded would keep the server busy for a minute or more; a refusal from the header
  // comes back long before this client gives up.
  HttpClient& quick() {
    if (!quick_) quick_ = std::make_unique<HttpClient>(port(), 10s);
    return *quick_;
  }

  // The upload right after a bomb: classified as usual.
  void expect_ordinary_upload_works() {
    const Response r = quick().post("/images/recognize", upload_body(ordinary_jpeg()));
    ASSERT_TRUE(HasStatus(r, 200)) << describe(r);
    EXPECT_EQ(string_field(r.json(), "status"), "validation_only") << r.body;
  }

 private:
  std::unique_ptr<HttpClient> quick_;
};

// The issue's CPU bomb: a progressive JPEG whose last scan is repeated (here 40,000 times over
// 4 megapixels: well over a minute of decoding). Refused by counting its scans.
TEST_F(ImageBombs, ManyScanJpegIs422FromItsHeaderAndTheNextUploadWorks) {
  const std::string bomb = test_support::repeated_scan_jpeg(2000, 2000, 40'000);
  ASSERT_LT(bomb.size(), 1'000'000u);
  const Response r = quick().post("/images/recognize", upload_body(bomb));
  ASSERT_TRUE(IsErrorCode(r, 422, "image_too_complex")) << describe(r);
  EXPECT_TRUE(MessageSays(r, "the JPEG image has 40010 scans; it may have at most 100"));
  ASSERT_NO_FATAL_FAILURE(expect_ordinary_upload_works());
  // And again: a repeat costs no more than the first.
  EXPECT_TRUE(
      IsErrorCode(quick().post("/images/recognize", upload_body(bomb)), 422, "image_too_complex"));
  ASSERT_NO_FATAL_FAILURE(expect_ordinary_upload_works());
}

// Under the scan cap, but 60 extra scans of 12 megapixels: refused by the decode work budget.
TEST_F(ImageBombs, ProgressiveJpegOverTheDecodeWorkBudgetIs422) {
  const Response r = quick().post("/images/recognize",
                                  upload_body(test_support::repeated_scan_jpeg(4000, 3000, 60)));
  ASSERT_TRUE(IsErrorCode(r, 422, "image_too_complex")) << describe(r);
  EXPECT_TRUE(MessageSays(r, "would take too long to decode"));
  ASSERT_NO_FATAL_FAILURE(expect_ordinary_upload_works());
}

// The issue's memory bomb: a few hundred KB of PNG declaring 40 megapixels of 16-bit RGB
// (240 MB decoded, 652 MB at the peak). Sent as a multipart file.
TEST_F(ImageBombs, HugeSixteenBitPngIs413FromItsHeaderAndTheNextUploadWorks) {
  const std::string bomb = test_support::flat_png(8000, 5000, 16, 2);
  ASSERT_LT(bomb.size(), 1'000'000u);
  const Response r =
      quick().post("/images/recognize", multipart_body(bomb, "bomb-boundary"),
                   {{"Content-Type", "multipart/form-data; boundary=bomb-boundary"}});
  ASSERT_TRUE(IsErrorCode(r, 413, "payload_too_large")) << describe(r);
  EXPECT_TRUE(MessageSays(r, "the image is 8000x5000 pixels; it may have at most 24 megapixels"));
  ASSERT_NO_FATAL_FAILURE(expect_ordinary_upload_works());
}

// Within the pixel budget, but 16 bits per channel double the memory: refused for its depth.
TEST_F(ImageBombs, SixteenBitPngOverTheMemoryBudgetIs413AndSaysWhy) {
  const Response r =
      quick().post("/images/recognize", upload_body(test_support::flat_png(5000, 4000, 16, 2)));
  ASSERT_TRUE(IsErrorCode(r, 413, "payload_too_large")) << describe(r);
  EXPECT_TRUE(
      MessageSays(r, "at 16 bits per channel, 120 MB once decoded; it may take at most 96 MB"));
  // The same picture at 8 bits is within every budget and is classified.
  const Response ok =
      quick().post("/images/recognize", upload_body(test_support::flat_png(5000, 4000, 8, 2)));
  EXPECT_TRUE(HasStatus(ok, 200)) << describe(ok);
  ASSERT_NO_FATAL_FAILURE(expect_ordinary_upload_works());
}

// --- secrets ---------------------------------------------------------------------------------

bool is_hex_secret(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

struct FileIdentity {
  ino_t inode = 0;
  mode_t mode = 0;
};
FileIdentity identity(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return {};
  return {st.st_ino, st.st_mode & 07777};
}

// A write of signing-secret or admin-token that failed (disk full) used to leave an empty file,
// and every start-up after failed on it.
TEST(SecretRecovery, EmptySecretFilesLeftByAFailedWriteAreRegeneratedAtStart) {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  fs::create_directories(data);
  std::ofstream(data / "signing-secret").flush();
  std::ofstream(data / "admin-token") << "\n";
  const FileIdentity empty_secret = identity(data / "signing-secret");
  const FileIdentity empty_token = identity(data / "admin-token");

  ServerProcess server(dir.path());
  const std::string secret = trimmed(slurp_if_exists(data / "signing-secret").value_or(""));
  const std::string token = admin_token(server);
  EXPECT_TRUE(is_hex_secret(secret)) << "signing-secret: \"" << secret << "\"";
  EXPECT_TRUE(is_hex_secret(token)) << "admin-token: \"" << token << "\"";
  // Renamed into place, not written into the empty file; private to the owner.
  EXPECT_NE(identity(data / "signing-secret").inode, empty_secret.inode);
  EXPECT_NE(identity(data / "admin-token").inode, empty_token.inode);
  EXPECT_EQ(identity(data / "signing-secret").mode, 0600u);
  EXPECT_EQ(identity(data / "admin-token").mode, 0600u);
  for (const auto& entry : fs::directory_iterator(data))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();

  HttpClient c(server.port());
  const Response denied = c.get("/admin/deliveries?state=dead", bearer("not-the-token"));
  EXPECT_EQ(denied.status, 401) << describe(denied);
  const Response listed = c.get("/admin/deliveries?state=dead", bearer(token));
  EXPECT_TRUE(HasStatus(listed, 200)) << describe(listed);

  // Kept from now on: a restart reads the same secrets.
  ASSERT_EQ(server.stop(), 0);
  server.restart();
  EXPECT_EQ(trimmed(slurp_if_exists(data / "signing-secret").value_or("")), secret);
  EXPECT_EQ(admin_token(server), token);
  HttpClient again(server.port());
  EXPECT_TRUE(HasStatus(again.get("/admin/deliveries?state=dead", bearer(token)), 200));
}

// --- retries through an outage ---------------------------------------------------------------

// The object store is "down" while its archive folder is a file: every archive write fails.
// With quick backoff (20 ms doubling to 200 ms) and the default max_attempts, the old default
// of 8 attempts would have made the delivery dead within a second; now it outlives the outage.
TEST(RetryThroughOutage, ADeliveryThatFailsThroughAnOutageCompletesAndIsNeverDead) {
  TempDir dir;
  const fs::path objects = dir.path() / "data" / "objects";
  fs::create_directories(objects);
  const fs::path archive = objects / "deleted_orders";
  std::ofstream(archive) << "not a directory: the object store is down";
  ServerOptions options;
  options.env = {{"ORDERFLOW_DELIVERY_BACKOFF_INITIAL_MS", "20"},
                 {"ORDERFLOW_DELIVERY_BACKOFF_MAX_MS", "200"}};
  ServerProcess server(dir.path(), options);
  HttpClient c(server.port());
  const std::string token = admin_token(server);

  const std::string id = create_order(c, "archived after the outage", "3.50");
  ASSERT_TRUE(delete_order(c, id));
  // Failing, and retried past the old default's 8 attempts, but not dead.
  std::int64_t attempts = 0;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& d : admin_deliveries(c, token, "pending"))
          if (str(d, "subscription") == kArchive) attempts = num(d, "attempts");
        return attempts >= 10;
      },
      kEventuallySlow))
      << "attempts so far: " << attempts << "\n"
      << last_chars(server.log(), 3000);
  EXPECT_TRUE(admin_deliveries(c, token, "dead").empty());

  // The store is back.
  fs::remove(archive);
  ASSERT_TRUE(wait_for_archive(server, id, kEventuallySlow).has_value())
      << last_chars(server.log(), 3000);
  bool archived_done = false;
  ASSERT_TRUE(eventually([&] {
    for (const auto& d : admin_deliveries(c, token, "done"))
      if (str(d, "subscription") == kArchive) {
        archived_done = true;
        EXPECT_GE(num(d, "attempts"), 10) << boost::json::serialize(d);
      }
    return archived_done;
  }));
  EXPECT_TRUE(admin_deliveries(c, token, "dead").empty());
  EXPECT_TRUE(admin_deliveries(c, token, "pending").empty());
}

}  // namespace
}  // namespace orderflow::e2e
