// The product-image check through the real binary's HTTP API, on the embedded default
// (OpenCV DNN with ../shared/models, WordNet from Debian), with real photos from Debian's
// darknet package.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/harness.hpp"
#include "e2e/mail_support.hpp"

namespace orderflow::e2e {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


std::string body(std::string_view image_b64, std::string_view description, bool confirm,
                 std::string_view price = "12.50") {
  return std::string(R"({"image":")") + std::string(image_b64) + R"(","description":")" +
         std::string(description) + R"(","confirm":)" + (confirm ? "true" : "false") +
         R"(,"price":)" + std::string(price) + "}";
}

class ImagesApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new ServerProcess(dir_->path());
    // The model loads in the background after start-up; wait until /readyz says so.
    HttpClient c(server_->port());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline &&
           c.get("/readyz").body.find("\"recognizer\":\"loaded\"") == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  HttpClient& client() {
    if (!client_) client_ = std::make_unique<HttpClient>(server_->port());
    return *client_;
  }
  static std::string dog() { return base64_encode(read_file("/usr/share/darknet/data/dog.jpg")); }

  static TempDir* dir_;
  static ServerProcess* server_;
  std::unique_ptr<HttpClient> client_;
};
TempDir* ImagesApi::dir_ = nullptr;
ServerProcess* ImagesApi::server_ = nullptr;

TEST_F(ImagesApi, ReadyzReportsTheLoadedRecognizer) {
  EXPECT_NE(client().get("/readyz").body.find("\"recognizer\":\"loaded\""), std::string::npos);
}

TEST_F(ImagesApi, DogMatchesDogWordsAndNotABicycle) {
  for (const char* word : {"dog", "husky", "puppy"}) {
    const Response r = client().post("/images/recognize", body(dog(), word, false));
    ASSERT_EQ(r.status, 200) << describe(r);
    const auto j = r.json().as_object();
    EXPECT_EQ(j.at("status").as_string(), "validation_only");
    EXPECT_EQ(j.at("validation").at("status").as_string(), "match") << word << ": " << r.body;
    EXPECT_EQ(j.at("recognition").at("topDetectedObject").as_string(), "malamute");
  }
  const Response r = client().post("/images/recognize", body(dog(), "bicycle", false));
  ASSERT_EQ(r.status, 200) << describe(r);
  const auto json = r.json();
  const auto& v = json.at("validation");
  EXPECT_EQ(v.at("status").as_string(), "mismatch");
  EXPECT_EQ(std::string(v.at("message").as_string()).rfind("WARNING: Your description \"bicycle\" does not match", 0), 0u)
      << r.body;
}

TEST_F(ImagesApi, ConfirmCreatesTheOrderWithTheUsersPriceAndThePhoto) {
  const Response r = client().post("/images/recognize", body(dog(), "bicycle", true, "\"19.99\""));
  ASSERT_EQ(r.status, 201) << describe(r);
  const std::string id(r.json().at("orderId").as_string());
  const Response got = client().get("/orders/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_NE(got.body.find("\"price\":19.99"), std::string::npos) << got.body;
  EXPECT_NE(got.body.find("\"imageKey\":\"images/" + id + ".jpg\""), std::string::npos) << got.body;
  EXPECT_NE(got.body.find("\"validationStatus\":\"mismatch\""), std::string::npos) << got.body;
  const auto photo = server_->data_dir() / "objects" / "images" / (id + ".jpg");
  ASSERT_TRUE(std::filesystem::exists(photo));
  EXPECT_EQ(read_file(photo), read_file("/usr/share/darknet/data/dog.jpg"));

  // The order shows its photo through a presigned link that serves the same bytes.
  const std::string url(got.json().at("order").at("imageUrl").as_string());
  const auto path = url.substr(url.find("/objects/"));
  const Response image = client().get(path);
  ASSERT_EQ(image.status, 200) << describe(image);
  EXPECT_EQ(image.header("Content-Type").value_or(""), "image/jpeg");
  EXPECT_EQ(image.body, read_file(photo));
  // As a client generated from the OpenAPI document sends it: the key one parameter, its '/'
  // as %2F. An encoded backslash or NUL stays refused.
  std::string encoded = path;
  encoded.replace(encoded.find('/', std::string("/objects/").size()), 1, "%2F");
  const Response same = client().get(encoded);
  ASSERT_EQ(same.status, 200) << encoded << ": " << describe(same);
  EXPECT_EQ(same.body, image.body);
  std::string backslash = path;
  backslash.replace(backslash.find('/', std::string("/objects/").size()), 1, "%5C");
  EXPECT_EQ(client().get(backslash).status, 400);

  // Deleting the order deletes its photo (through the event pipeline).
  ASSERT_EQ(client().request("DELETE", "/orders/" + id).status, 200);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::filesystem::exists(photo) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(std::filesystem::exists(photo));
}

TEST_F(ImagesApi, BadImagesGetClearClientErrorsAndCreateNothing) {
  const auto count = [&] { return client().get("/orders?limit=1000").json().at("orders").as_array().size(); };
  const std::size_t before = count();
  struct Case {
    std::string image;
    int status;
  };
  const std::string jpeg = read_file("/usr/share/darknet/data/dog.jpg");
  const std::vector<Case> cases = {
      {"@@not base64@@", 400},
      {base64_encode("just some text, not an image at all"), 415},
      {base64_encode(jpeg.substr(0, jpeg.size() / 3)), 400},  // truncated
      {base64_encode(std::string(6 * 1024 * 1024, 'x')), 413},  // over 5 MB
  };
  for (const auto& c : cases) {
    const Response r = client().post("/images/recognize", body(c.image, "dog", true));
    EXPECT_EQ(r.status, c.status) << describe(r);
    EXPECT_NE(r.body.find("\"status\":\"error\""), std::string::npos) << r.body;
  }
  const Response not_bool = client().post("/images/recognize",
                                          R"({"image":")" + base64_encode(jpeg) + R"(","description":"dog","confirm":"yes","price":1})");
  EXPECT_EQ(not_bool.status, 400) << describe(not_bool);
  EXPECT_EQ(count(), before);
}

}  // namespace
}  // namespace orderflow::e2e
