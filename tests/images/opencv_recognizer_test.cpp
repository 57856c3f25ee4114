// The OpenCV recognizer on Debian darknet's photos, checked against the figures in
// ../shared/models/README.md, and the SHA-256 result cache in front of it.
#include <atomic>
#include <thread>

#include "adapters/opencv/caching_recognizer.hpp"
#include "functions/image_header.hpp"
#include "image_test_support.hpp"

namespace orderflow::image_test {
namespace {

using Status = ports::Recognition::Status;

// Counts the calls that reach the recognizer behind it.
class CountingRecognizer final : public ports::ImageRecognizer {
 public:
  explicit CountingRecognizer(ports::ImageRecognizer& inner) : inner_(inner) {}
  const std::vector<ports::ImageClass>& classes() const override { return inner_.classes(); }
  ports::Recognition recognize(std::string_view encoded, int top_k) override {
    ++calls;
    return inner_.recognize(encoded, top_k);
  }
  std::atomic<int> calls{0};

 private:
  ports::ImageRecognizer& inner_;
};

class FixedRecognizer final : public ports::ImageRecognizer {
 public:
  explicit FixedRecognizer(Status status) : status_(status) {}
  const std::vector<ports::ImageClass>& classes() const override { return classes_; }
  ports::Recognition recognize(std::string_view, int) override {
    ++calls;
    return {status_, {}};
  }
  int calls = 0;

 private:
  Status status_;
  std::vector<ports::ImageClass> classes_;
};

struct Expected {
  const char* name;
  double probability;
};

void expect_top(const ports::Recognition& r, const std::vector<ports::ImageClass>& classes,
                std::initializer_list<Expected> expected) {
  ASSERT_EQ(r.status, Status::ok);
  ASSERT_GE(r.top.size(), expected.size());
  std::size_t i = 0;
  for (const auto& e : expected) {
    EXPECT_EQ(classes[static_cast<std::size_t>(r.top[i].index)].name, e.name) << "rank " << i + 1;
    EXPECT_NEAR(r.top[i].probability, e.probability, 0.0015) << e.name;
    ++i;
  }
}

class OpenCvRecognizerTest : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_WITHOUT_MODEL(); }
};

TEST_F(OpenCvRecognizerTest, LoadsTheThousandImageNetClasses) {
  const auto& classes = shared_recognizer().classes();
  ASSERT_EQ(classes.size(), 1000u);
  EXPECT_EQ(classes[0].wnid, "n01440764");
  EXPECT_EQ(classes[249].wnid, "n02110063");
  EXPECT_EQ(classes[249].name, "malamute");
  EXPECT_EQ(classes[249].label, "malamute, malemute, Alaskan malamute");
  EXPECT_EQ(shared_recognizer().worker_count(), 2);
}

// The centre-crop view alone reproduces the README's reference run exactly.
TEST_F(OpenCvRecognizerTest, CentreCropMatchesTheModelReadme) {
  adapters::OpenCvRecognizer crop_only({model_dir(), 1, 4, /*padded_view_min_aspect=*/0.0,
                                        functions::ImageLimits{}.max_pixels});
  const auto& classes = crop_only.classes();
  expect_top(crop_only.recognize(darknet_photo("dog.jpg"), 5), classes,
             {{"malamute", 0.751}, {"bicycle-built-for-two", 0.068}, {"Eskimo dog", 0.049},
              {"dogsled", 0.042}, {"Siberian husky", 0.026}});
  expect_top(crop_only.recognize(darknet_photo("eagle.jpg"), 3), classes,
             {{"bald eagle", 0.831}, {"vulture", 0.104}, {"kite", 0.047}});
  expect_top(crop_only.recognize(darknet_photo("giraffe.jpg"), 2), classes,
             {{"zebra", 0.754}, {"tiger cat", 0.058}});
}

TEST_F(OpenCvRecognizerTest, DefaultViewsOnPhotos) {
  auto& r = shared_recognizer();
  const auto dog = r.recognize(darknet_photo("dog.jpg"), 10);  // 4:3, one view: as above
  expect_top(dog, r.classes(), {{"malamute", 0.751}});
  EXPECT_EQ(dog.top.size(), 10u);
  for (std::size_t i = 1; i < dog.top.size(); ++i) {
    EXPECT_GE(dog.top[i - 1].probability, dog.top[i].probability);
    if (dog.top[i - 1].probability == dog.top[i].probability) {
      EXPECT_LT(dog.top[i - 1].index, dog.top[i].index);  // ties: lower class index first
    }
  }
  // eagle.jpg is 1.51:1, so the padded whole-image view is averaged in.
  const auto eagle = r.recognize(darknet_photo("eagle.jpg"), 3);
  ASSERT_EQ(eagle.status, Status::ok);
  EXPECT_EQ(r.classes()[static_cast<std::size_t>(eagle.top[0].index)].name, "bald eagle");
  EXPECT_GT(eagle.top[0].probability, 0.5);
}

TEST_F(OpenCvRecognizerTest, EveryWorkerGivesTheSameAnswer) {
  auto& r = shared_recognizer();
  const std::string photo = darknet_photo("dog.jpg");
  const auto reference = r.recognize(photo, 5);
  std::vector<std::thread> threads;
  std::atomic<int> same{0}, busy{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        const auto result = r.recognize(photo, 5);
        if (result.status == Status::busy) {
          ++busy;
          continue;
        }
        bool equal = result.status == Status::ok && result.top.size() == reference.top.size();
        for (std::size_t k = 0; equal && k < result.top.size(); ++k)
          equal = result.top[k].index == reference.top[k].index &&
                  result.top[k].probability == reference.top[k].probability;
        if (equal) ++same;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(same + busy, 12);  // 12 jobs fit the queue of 8 behind 2 workers; busy is allowed
  EXPECT_GT(same, 0);
}

TEST_F(OpenCvRecognizerTest, BytesThatDoNotDecodeAreUndecodable) {
  auto& r = shared_recognizer();
  EXPECT_EQ(r.recognize(jpeg_header(100, 100), 5).status, Status::undecodable);
  EXPECT_EQ(r.recognize("not an image", 5).status, Status::undecodable);
  const std::string png = make_image(100, 100, ".png");
  EXPECT_EQ(r.recognize(std::string_view(png).substr(0, png.size() / 2), 5).status, Status::undecodable);
}

// Transparent pixels are laid on white: a fully transparent PNG whose hidden colour is black
// is classified exactly like a plain white image.
TEST_F(OpenCvRecognizerTest, TransparencyIsLaidOnWhite) {
  auto& r = shared_recognizer();
  const auto transparent = r.recognize(encode(cv::Mat(300, 300, CV_8UC4, cv::Scalar(0, 0, 0, 0)), ".png"), 5);
  const auto white = r.recognize(encode(cv::Mat(300, 300, CV_8UC3, cv::Scalar(255, 255, 255)), ".png"), 5);
  const auto black = r.recognize(encode(cv::Mat(300, 300, CV_8UC3, cv::Scalar(0, 0, 0)), ".png"), 5);
  ASSERT_EQ(transparent.status, Status::ok);
  ASSERT_EQ(white.status, Status::ok);
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(transparent.top[k].index, white.top[k].index) << k;
    EXPECT_DOUBLE_EQ(transparent.top[k].probability, white.top[k].probability) << k;
  }
  EXPECT_NE(transparent.top[0].probability, black.top[0].probability);
  // 16-bit and grey PNGs decode too.
  EXPECT_EQ(r.recognize(encode(cv::Mat(64, 64, CV_16UC3, cv::Scalar(60000, 100, 3)), ".png"), 5).status, Status::ok);
  EXPECT_EQ(r.recognize(encode(cv::Mat(64, 64, CV_8UC1, cv::Scalar(90)), ".png"), 5).status, Status::ok);
}

TEST(OpenCvRecognizerSetup, MissingFilesAreNamed) {
  try {
    adapters::OpenCvRecognizer r(
        {.model_dir = "/nonexistent/models", .max_pixels = functions::ImageLimits{}.max_pixels});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/models/imagenet1k_labels.tsv"), std::string::npos)
        << e.what();
  }
}

TEST(UnavailableRecognizer, SaysUnavailable) {
  ports::UnavailableRecognizer none;
  EXPECT_EQ(none.recognize("anything", 5).status, Status::unavailable);
  EXPECT_TRUE(none.classes().empty());
}

TEST_F(OpenCvRecognizerTest, CacheRecognisesEachImageOnce) {
  auto counting = std::make_unique<CountingRecognizer>(shared_recognizer());
  auto& counter = *counting;
  adapters::CachingRecognizer cache(std::move(counting), 2);
  const std::string dog = darknet_photo("dog.jpg");
  const auto first = cache.recognize(dog, 5);
  const auto second = cache.recognize(dog, 5);
  EXPECT_EQ(counter.calls, 1);
  EXPECT_EQ(cache.hits(), 1u);
  ASSERT_EQ(second.top.size(), first.top.size());
  EXPECT_EQ(second.top[0].index, first.top[0].index);
  (void)cache.recognize(dog, 3);  // another top_k is another entry
  EXPECT_EQ(counter.calls, 2);
  // Bounded: a third entry evicts the least recently used one.
  (void)cache.recognize(darknet_photo("eagle.jpg"), 5);
  EXPECT_EQ(counter.calls, 3);
  (void)cache.recognize(dog, 3);  // still there (most recently used before eagle)
  EXPECT_EQ(counter.calls, 3);
  (void)cache.recognize(dog, 5);  // evicted
  EXPECT_EQ(counter.calls, 4);
  // An undecodable answer is definite too.
  (void)cache.recognize("garbage", 5);
  (void)cache.recognize("garbage", 5);
  EXPECT_EQ(counter.calls, 5);
}

TEST(CachingRecognizer, BusyAndUnavailableAreNotRemembered) {
  auto fixed = std::make_unique<FixedRecognizer>(Status::busy);
  auto& inner = *fixed;
  adapters::CachingRecognizer cache(std::move(fixed), 8);
  EXPECT_EQ(cache.recognize("x", 5).status, Status::busy);
  EXPECT_EQ(cache.recognize("x", 5).status, Status::busy);
  EXPECT_EQ(inner.calls, 2);
  const auto digest = adapters::CachingRecognizer::sha256("abc");
  EXPECT_EQ(digest[0], 0xba);  // SHA-256("abc") = ba7816bf...
  EXPECT_EQ(digest[31], 0xad);
}

}  // namespace
}  // namespace orderflow::image_test
