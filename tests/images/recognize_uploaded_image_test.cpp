// POST /images/recognize end to end: the real recognizer (behind the SHA-256 cache and a
// counter), the WordNet matcher, an SQLite order store and a file object store in a temp dir.
#include <boost/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "adapters/crypto/hmac_signer.hpp"
#include "adapters/files/file_object_store.hpp"
#include "adapters/opencv/caching_recognizer.hpp"
#include "adapters/sqlite/sqlite_order_store.hpp"
#include "adapters/system/system_clock.hpp"
#include "adapters/system/uuid_v7_generator.hpp"
#include "functions/image_functions.hpp"
#include "image_test_support.hpp"

namespace orderflow::image_test {
namespace {

namespace json = boost::json;
using functions::Request;
using functions::Response;

class CountingRecognizer final : public ports::ImageRecognizer {
 public:
  explicit CountingRecognizer(ports::ImageRecognizer& inner) : inner_(inner) {}
  const std::vector<ports::ImageClass>& classes() const override { return inner_.classes(); }
  ports::Recognition recognize(std::string_view encoded, int top_k) override {
    ++calls;
    return inner_.recognize(encoded, top_k);
  }
  int calls = 0;

 private:
  ports::ImageRecognizer& inner_;
};

class BusyRecognizer final : public ports::ImageRecognizer {
 public:
  const std::vector<ports::ImageClass>& classes() const override { return classes_; }
  ports::Recognition recognize(std::string_view, int) override {
    return {ports::Recognition::Status::busy, {}};
  }

 private:
  std::vector<ports::ImageClass> classes_;
};

std::string json_string(std::string_view s) { return json::serialize(json::string(s)); }

class RecognizeUpload : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_MODEL();
    store_ = std::make_unique<adapters::SqliteOrderStore>(
        adapters::SqliteStoreOptions{(tmp_.path() / "orders.db").string()});
    auto counting = std::make_unique<CountingRecognizer>(shared_recognizer());
    counter_ = counting.get();
    recognizer_ = std::make_unique<adapters::CachingRecognizer>(std::move(counting), 16);
    use(*recognizer_, &shared_matcher());
  }

  void use(ports::ImageRecognizer& recognizer, const domain::DescriptionMatcher* matcher) {
    ctx_ = std::make_unique<functions::ImageContext>(
        functions::ImageContext{recognizer, matcher, *store_, objects_, clock_, ids_});
  }

  Response post(std::string body, std::string content_type = "application/json") {
    body_ = std::move(body);
    content_type_ = std::move(content_type);
    Request req;
    req.method = "POST";
    req.path = "/images/recognize";
    req.headers = {{"Content-Type", content_type_}};
    req.body = body_;
    req.request_id = "test";
    return functions::recognize_uploaded_image(*ctx_, req);
  }

  // {"image": base64, "description": ..., plus `extra` members}
  Response post_image(std::string_view bytes, std::string_view description, std::string extra = "") {
    return post("{\"image\":\"" + base64(bytes) + "\",\"description\":" + json_string(description) +
                extra + "}");
  }

  static json::object body_of(const Response& r) { return json::parse(r.body).as_object(); }
  static std::string text(const json::value& v) { return std::string(v.as_string()); }
  static std::string message_of(const Response& r) { return text(body_of(r).at("message")); }

  std::size_t stored_objects() { return objects_.list("", "", 100).objects.size(); }
  std::size_t stored_orders() { return store_->list("", 100).orders.size(); }

  TempDir tmp_;
  adapters::SystemClock clock_;
  adapters::UuidV7Generator ids_{clock_};
  adapters::HmacSigner signer_{"images-test-secret-0123456789abcdef"};
  adapters::FileObjectStore objects_{tmp_.path() / "objects", "http://127.0.0.1:9", signer_, clock_};
  std::unique_ptr<adapters::SqliteOrderStore> store_;
  CountingRecognizer* counter_ = nullptr;  // owned by recognizer_
  std::unique_ptr<adapters::CachingRecognizer> recognizer_;
  std::unique_ptr<functions::ImageContext> ctx_;
  std::string body_, content_type_;
};

TEST_F(RecognizeUpload, ValidationOnlyReportsRecognitionAndAMatch) {
  const auto r = post_image(darknet_photo("dog.jpg"), "dog");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = body_of(r);
  EXPECT_EQ(text(body.at("status")), "validation_only");
  const auto& recognition = body.at("recognition").as_object();
  EXPECT_EQ(text(recognition.at("topDetectedObject")), "malamute");
  EXPECT_DOUBLE_EQ(recognition.at("confidence").to_number<double>(), 75.1);
  const auto& labels = recognition.at("allDetectedLabels").as_array();
  ASSERT_EQ(labels.size(), 5u);
  EXPECT_EQ(text(labels[1].at("name")), "bicycle-built-for-two");
  EXPECT_DOUBLE_EQ(labels[1].at("confidence").to_number<double>(), 6.8);
  const auto& validation = body.at("validation").as_object();
  EXPECT_EQ(text(validation.at("status")), "match");
  EXPECT_EQ(text(validation.at("message")), "Description matches detected object \"malamute\" (75.1% confidence).");
  EXPECT_EQ(stored_orders(), 0u);
  EXPECT_EQ(stored_objects(), 0u);
}

TEST_F(RecognizeUpload, DescriptionsOfTheDarknetPhotos) {
  const std::string dog = darknet_photo("dog.jpg"), eagle = darknet_photo("eagle.jpg");
  const auto status = [&](const std::string& image, std::string_view description) {
    const auto r = post_image(image, description);
    EXPECT_EQ(r.status, 200) << r.body;
    return text(body_of(r).at("validation").at("status"));
  };
  EXPECT_EQ(status(dog, "dog"), "match");
  EXPECT_EQ(status(dog, "husky"), "match");
  EXPECT_EQ(status(dog, "puppy"), "match");
  // Another breed: a dog, but not the one the model sees; related, so neither a match nor a
  // warning.
  EXPECT_EQ(status(dog, "Golden retriever"), "uncertain");
  EXPECT_EQ(status(dog, "bicycle"), "mismatch");
  EXPECT_EQ(status(eagle, "bird"), "match");
  EXPECT_EQ(status(eagle, "eagles"), "match");
  EXPECT_EQ(status(eagle, "car"), "mismatch");
  EXPECT_EQ(status(dog, "Zorblax 3000"), "uncertain");
  EXPECT_EQ(status(darknet_photo("giraffe.jpg"), "giraffe"), "uncertain");
  EXPECT_EQ(counter_->calls, 3);  // one recognition per distinct image
}

TEST_F(RecognizeUpload, MismatchUsesTheSeedsWarning) {
  const auto r = post_image(darknet_photo("dog.jpg"), "Bicycle");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(text(body_of(r).at("validation").at("message")),
            "WARNING: Your description \"Bicycle\" does not match detected object \"malamute\" "
            "(75.1% confidence). Please verify!");
}

TEST_F(RecognizeUpload, ConfirmCreatesTheOrderWithTheUsersPriceAndStoresThePhoto) {
  const std::string photo = darknet_photo("dog.jpg");
  const auto r = post_image(photo, "  Alaskan malamute plush  ", R"(,"confirm":true,"price":"12.5")");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto body = body_of(r);
  EXPECT_EQ(text(body.at("status")), "success");
  EXPECT_EQ(text(body.at("message")), "Order created successfully");
  const std::string id = text(body.at("orderId"));
  EXPECT_EQ(text(body.at("imageKey")), "images/" + id + ".jpg");
  EXPECT_EQ(text(body.at("validation").at("status")), "match");
  EXPECT_EQ(r.body.find("\"price\":12.50") != std::string::npos, true) << r.body;

  const auto order = store_->get(id);
  ASSERT_TRUE(order);
  EXPECT_EQ(order->description, "Alaskan malamute plush");
  EXPECT_EQ(order->price.to_string(), "12.50");  // the user's price, not the seed's 100
  EXPECT_EQ(order->image_key, "images/" + id + ".jpg");
  EXPECT_EQ(order->validation_status, "match");
  const auto labels = json::parse(order->detected_labels).as_array();
  ASSERT_EQ(labels.size(), 5u);
  EXPECT_EQ(text(labels[0].at("name")), "malamute");
  EXPECT_EQ(text(labels[0].at("wnid")), "n02110063");

  const auto object = objects_.get(order->image_key);
  ASSERT_TRUE(object);
  EXPECT_EQ(object->bytes, photo);
  EXPECT_EQ(object->content_type, "image/jpeg");

  const auto events = store_->read_outbox(0, 10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.type, domain::kOrderCreated);
  EXPECT_EQ(events[0].event.subject, id);
  bool location = false;
  for (const auto& [k, v] : r.headers) location = location || (k == "Location" && v == "/orders/" + id);
  EXPECT_TRUE(location);
}

TEST_F(RecognizeUpload, TheConfirmAfterAValidationIsACacheHit) {
  const std::string photo = darknet_photo("eagle.jpg");
  ASSERT_EQ(post_image(photo, "bald eagle").status, 200);
  ASSERT_EQ(post_image(photo, "bald eagle", R"(,"confirm":true,"price":20)").status, 201);
  EXPECT_EQ(counter_->calls, 1);
  EXPECT_EQ(recognizer_->hits(), 1u);
}

TEST_F(RecognizeUpload, MultipartUploadWithAFilePart) {
  const std::string photo = darknet_photo("dog.jpg");
  const std::string body = "--b0undary\r\n"
                           "Content-Disposition: form-data; name=\"description\"\r\n\r\n"
                           "husky\r\n"
                           "--b0undary\r\n"
                           "Content-Disposition: form-data; name=\"image\"; filename=\"dog.jpg\"\r\n"
                           "Content-Type: image/jpeg\r\n\r\n" +
                           photo +
                           "\r\n--b0undary\r\n"
                           "Content-Disposition: form-data; name=\"confirm\"\r\n\r\n"
                           "true\r\n"
                           "--b0undary\r\n"
                           "Content-Disposition: form-data; name=\"price\"\r\n\r\n"
                           "49.99\r\n"
                           "--b0undary--\r\n";
  const auto r = post(body, "multipart/form-data; boundary=b0undary");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto order = store_->get(text(body_of(r).at("orderId")));
  ASSERT_TRUE(order);
  EXPECT_EQ(order->price.to_string(), "49.99");
  EXPECT_EQ(order->description, "husky");
  EXPECT_EQ(objects_.get(order->image_key)->bytes, photo);

  std::string not_boolean = body;
  not_boolean.replace(not_boolean.find("true\r\n"), 4, "yes!");
  const auto bad = post(not_boolean, "multipart/form-data; boundary=b0undary");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message_of(bad), "confirm must be a boolean (true or false)");
  EXPECT_EQ(post(body, "multipart/form-data").status, 400);  // no boundary

  // The image as a plain field: base64, or raw bytes when the client gave no filename.
  for (const std::string& image : {base64(photo), photo}) {
    const std::string field = "--B\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n" + image +
                              "\r\n--B\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n"
                              "dog\r\n--B--\r\n";
    const auto r2 = post(field, "multipart/form-data; boundary=B");
    ASSERT_EQ(r2.status, 200) << r2.body;
    EXPECT_EQ(text(body_of(r2).at("validation").at("status")), "match");
  }
}

TEST_F(RecognizeUpload, PngAndWebpWithDataUrlsAreStoredWithTheirType) {
  const cv::Mat dog = cv::imread((darknet_dir() / "dog.jpg").string(), cv::IMREAD_COLOR);
  for (const auto& [ext, type] : {std::pair{"png", "image/png"}, std::pair{"webp", "image/webp"}}) {
    const std::string bytes = encode(dog, std::string(".") + ext);
    const auto r = post("{\"image\":\"data:" + std::string(type) + ";base64," + base64(bytes) +
                        "\",\"description\":\"dog\",\"confirm\":true,\"price\":5}");
    ASSERT_EQ(r.status, 201) << r.body;
    const auto key = text(body_of(r).at("imageKey"));
    EXPECT_EQ(key.substr(key.size() - std::string(ext).size()), ext);
    EXPECT_EQ(objects_.get(key)->content_type, type);
    EXPECT_EQ(text(body_of(r).at("validation").at("status")), "match");
  }
}

TEST_F(RecognizeUpload, BadImagesGetClearClientErrors) {
  struct Case {
    std::string name;
    std::string image_field;  // the JSON value of "image"
    int status;
    std::string message_part;
  };
  const std::string dog = darknet_photo("dog.jpg");
  std::string big_jpeg = dog;
  big_jpeg.resize(5 * 1024 * 1024 + 1, '\0');
  const Case cases[] = {
      {"invalid base64", "\"this is not base64!\"", 400, "image is not valid base64"},
      {"not a string", "12345", 400, "image must be a base64-encoded string"},
      {"not an image", "\"" + base64("hello, I am a text file") + "\"", 415, "unsupported image format"},
      {"a GIF", "\"" + base64("GIF89a\x40\x00\x40\x00\x80\x00\x00") + "\"", 415, "GIF"},
      {"truncated JPEG", "\"" + base64(dog.substr(0, dog.size() / 2)) + "\"", 400, "could not be decoded"},
      {"truncated PNG", "\"" + base64(make_image(200, 200, ".png").substr(0, 400)) + "\"", 400,
       "the image could not be decoded"},
      {"corrupt JPEG", "\"" + base64(jpeg_header(100, 100)) + "\"", 400, "the image could not be decoded"},
      {"over 5 MB", "\"" + base64(big_jpeg) + "\"", 413, "larger than 5 MB"},
      {"under 32 px", "\"" + base64(make_image(31, 200, ".png")) + "\"", 400, "at least 32 pixels"},
      {"over 10,000 px", "\"" + base64(png_header(10001, 400)) + "\"", 413, "at most 10000 pixels"},
      {"bomb", "\"" + base64(png_header(9000, 9000)) + "\"", 413, "megapixels"},
      {"animated WebP", "\"" + base64(webp_vp8x_header(100, 100, true)) + "\"", 415, "animated"},
  };
  for (const auto& c : cases) {
    const auto r = post("{\"image\":" + c.image_field + ",\"description\":\"dog\",\"confirm\":true,\"price\":1}");
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_NE(message_of(r).find(c.message_part), std::string::npos) << c.name << ": " << r.body;
  }
  // Only the two that passed the header checks reached the recognizer.
  EXPECT_EQ(counter_->calls, 2);
  EXPECT_EQ(stored_orders(), 0u);
  EXPECT_EQ(stored_objects(), 0u);
}

TEST_F(RecognizeUpload, BadFieldsAreRejectedBeforeAnyWork) {
  const std::string dog = darknet_photo("dog.jpg");
  const auto expect_400 = [&](const Response& r, std::string_view message) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(message_of(r), message) << r.body;
  };
  expect_400(post_image(dog, "dog", R"(,"confirm":"true")"), "confirm must be a boolean (true or false)");
  expect_400(post_image(dog, "dog", R"(,"confirm":1)"), "confirm must be a boolean (true or false)");
  expect_400(post_image(dog, "dog", R"(,"confirm":true)"), "price is required");
  expect_400(post_image(dog, "dog", R"(,"confirm":true,"price":"abc")"), "price must be a number");
  expect_400(post_image(dog, "dog", R"(,"confirm":true,"price":-3)"), "price must be > 0");
  expect_400(post_image(dog, "   ", R"(,"confirm":true,"price":3)"), "description is required");
  expect_400(post("{\"description\":\"dog\"}"), "image is required");
  expect_400(post("[1,2]"), "Request body must be a JSON object");
  expect_400(post("{\"image\":"), "Invalid JSON body");
  expect_400(post("{\"image\":\"\",\"description\":5}"), "description must be a string");
  EXPECT_EQ(counter_->calls, 0);
  EXPECT_EQ(stored_orders(), 0u);
}

TEST_F(RecognizeUpload, NoDescriptionIsReportedAsSuch) {
  const auto r = post("{\"image\":\"" + base64(darknet_photo("dog.jpg")) + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(text(body_of(r).at("validation").at("status")), "no_description");
}

TEST_F(RecognizeUpload, WithoutARecognizerOrdersAreStillCreated) {
  ports::UnavailableRecognizer none;
  use(none, nullptr);
  const std::string photo = darknet_photo("eagle.jpg");
  const auto check = post_image(photo, "eagle");
  ASSERT_EQ(check.status, 200) << check.body;
  const auto body = body_of(check);
  EXPECT_FALSE(body.at("recognition").at("available").as_bool());
  EXPECT_TRUE(body.at("recognition").at("topDetectedObject").is_null());
  EXPECT_EQ(text(body.at("validation").at("status")), "unavailable");

  const auto created = post_image(photo, "eagle", R"(,"confirm":true,"price":7)");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto order = store_->get(text(body_of(created).at("orderId")));
  ASSERT_TRUE(order);
  EXPECT_EQ(order->validation_status, "unavailable");
  EXPECT_TRUE(order->detected_labels.empty());
  EXPECT_EQ(objects_.get(order->image_key)->bytes, photo);
}

TEST_F(RecognizeUpload, ABusyRecognizerIs503WithRetryAfter) {
  BusyRecognizer busy;
  use(busy, &shared_matcher());
  const auto r = post_image(darknet_photo("dog.jpg"), "dog", R"(,"confirm":true,"price":7)");
  EXPECT_EQ(r.status, 503);
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after = retry_after || k == "Retry-After";
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(stored_orders(), 0u);
  EXPECT_EQ(stored_objects(), 0u);
}

}  // namespace
}  // namespace orderflow::image_test
