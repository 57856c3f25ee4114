// adapters/imaging: decode_bgr against the pictures OpenCV's imdecode gave for the same files
// (decode_fixtures/*.bgr, recorded before this decoder replaced it; see make_decode_fixtures.py),
// alpha on white, EXIF orientation, broken files, and the pixel limit.
#include "adapters/imaging/decode_image.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <sstream>
#include <string>

#include "functions/image_header.hpp"
#include "image_test_support.hpp"
#include "support/image_bombs.hpp"

namespace orderflow {
namespace {

namespace fs = std::filesystem;
using adapters::imaging::decode_bgr;
using image_test::read_file;

const std::int64_t kLimit = functions::ImageLimits{}.max_pixels;

fs::path fixtures() {
  return fs::path(ORDERFLOW_SOURCE_DIR) / "tests" / "images" / "decode_fixtures";
}
std::string fixture(const std::string& name) { return read_file(fixtures() / name); }

// NAME.bgr: "WIDTH HEIGHT\n" and the BGR bytes.
cv::Mat expected_picture(const std::string& image_name) {
  const std::string stem = image_name.substr(0, image_name.rfind('.'));
  std::istringstream in(read_file(fixtures() / (stem + ".bgr")));
  int width = 0;
  int height = 0;
  in >> width >> height;
  in.get();
  cv::Mat bgr(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) in.read(reinterpret_cast<char*>(bgr.ptr(y)), width * 3);
  EXPECT_TRUE(in.good()) << stem << ".bgr is short";
  return bgr;
}

bool same_picture(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

std::vector<std::string> fixture_images() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fixtures()))
    if (entry.path().extension() != ".bgr") names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class DecodeFixture : public testing::TestWithParam<std::string> {};

TEST_P(DecodeFixture, GivesThePixelsImdecodeGave) {
  const cv::Mat picture = decode_bgr(fixture(GetParam()), kLimit);
  ASSERT_FALSE(picture.empty());
  EXPECT_EQ(picture.type(), CV_8UC3);
  EXPECT_TRUE(same_picture(picture, expected_picture(GetParam())));
}

// A file cut anywhere, header or pixels, does not decode; for a JPEG that is stricter than
// imdecode, which padded a cut file with grey (check_image refuses those before any decoder).
TEST_P(DecodeFixture, TruncatedDoesNotDecode) {
  const std::string bytes = fixture(GetParam());
  for (const std::size_t size : {std::size_t{0}, std::size_t{4}, std::size_t{20}, bytes.size() / 3,
                                 bytes.size() / 2, bytes.size() - 10, bytes.size() - 1}) {
    EXPECT_TRUE(decode_bgr(bytes.substr(0, size), kLimit).empty()) << "cut to " << size << " bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DecodeFixture, testing::ValuesIn(fixture_images()), test_name);

TEST(DecodeImage, AlphaIsLaidOnWhite) {
  // png_rgba8: alpha 255, 0, 127, 51 along a row; the colour of (x, y) is sample(x, y, c).
  const cv::Mat picture = decode_bgr(fixture("png_rgba8.png"), kLimit);
  ASSERT_EQ(picture.size(), cv::Size(12, 8));
  EXPECT_EQ(picture.at<cv::Vec3b>(0, 0), cv::Vec3b(116, 58, 0));     // opaque: the colour
  EXPECT_EQ(picture.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 255, 255));  // clear: white
  const auto half = [](int c) { return static_cast<uchar>((c * 127 + 255 * 128 + 127) / 255); };
  // (2, 0): sample = (2*37 + c*91) * 255 / 400
  EXPECT_EQ(picture.at<cv::Vec3b>(0, 2), cv::Vec3b(half(163), half(105), half(47)));
}

TEST(DecodeImage, ExifOrientationSixTurnsClockwise) {
  const cv::Mat upright = decode_bgr(fixture("jpeg_exif1.jpg"), kLimit);
  for (const char* name : {"jpeg_exif6.jpg", "jpeg_exif6_big_endian.jpg"}) {
    const cv::Mat turned = decode_bgr(fixture(name), kLimit);
    ASSERT_EQ(turned.size(), cv::Size(8, 12)) << name;
    cv::Mat expected;
    cv::rotate(upright, expected, cv::ROTATE_90_CLOCKWISE);
    EXPECT_TRUE(same_picture(turned, expected)) << name;
  }
  EXPECT_TRUE(same_picture(upright, decode_bgr(fixture("jpeg_444.jpg"), kLimit)));  // no Exif
}

TEST(DecodeImage, CorruptFilesDoNotDecode) {
  std::string jpeg = fixture("jpeg_420.jpg");
  const auto sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 4] = '\x05';  // 5 bits per sample
  EXPECT_TRUE(decode_bgr(jpeg, kLimit).empty());

  std::string png = fixture("png_rgb8.png");
  png[29] = static_cast<char>(png[29] ^ 0x55);  // IHDR's CRC
  EXPECT_TRUE(decode_bgr(png, kLimit).empty());
  png = fixture("png_rgb8.png");
  png[png.find("IDAT") + 6] ^= 0x5A;  // deflate data
  EXPECT_TRUE(decode_bgr(png, kLimit).empty());

  std::string webp = fixture("webp_lossy.webp");
  for (std::size_t i = 20; i < 40; ++i) webp[i] = static_cast<char>(0xA5);  // the VP8 frame header
  EXPECT_TRUE(decode_bgr(webp, kLimit).empty());

  EXPECT_TRUE(decode_bgr("GIF89a not ours", kLimit).empty());
  EXPECT_TRUE(decode_bgr("", kLimit).empty());
}

// Counts the pixel buffers OpenCV allocates, for "refused before allocating".
class CountingAllocator final : public cv::MatAllocator {
 public:
  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data, std::size_t* step,
                         cv::AccessFlag flags, cv::UMatUsageFlags usage) const override {
    ++count;
    return std_->allocate(dims, sizes, type, data, step, flags, usage);
  }
  bool allocate(cv::UMatData* data, cv::AccessFlag flags, cv::UMatUsageFlags usage) const override {
    return std_->allocate(data, flags, usage);
  }
  void deallocate(cv::UMatData* data) const override { std_->deallocate(data); }

  mutable std::atomic<int> count{0};

 private:
  cv::MatAllocator* std_ = cv::Mat::getStdAllocator();
};

class PixelLimit : public testing::Test {
 protected:
  void SetUp() override {
    previous_ = cv::Mat::getDefaultAllocator();
    cv::Mat::setDefaultAllocator(&allocator_);
  }
  void TearDown() override { cv::Mat::setDefaultAllocator(previous_); }
  CountingAllocator allocator_;
  cv::MatAllocator* previous_ = nullptr;
};

TEST_F(PixelLimit, OneOverTheLimitIsRefusedBeforeAnyPixelIsAllocated) {
  for (const char* name :
       {"jpeg_420.jpg", "jpeg_cmyk.jpg", "png_rgba16.png", "webp_lossless_alpha.webp"}) {
    allocator_.count = 0;
    EXPECT_TRUE(decode_bgr(fixture(name), 12 * 8 - 1).empty()) << name;
    EXPECT_EQ(allocator_.count, 0) << name;
    EXPECT_FALSE(decode_bgr(fixture(name), 12 * 8).empty()) << name;
  }
}

TEST_F(PixelLimit, AHugeDeclaredPictureIsRefusedFromItsHeader) {
  // 30 megapixels of flat RGBA (120 MB decoded) in a few hundred kilobytes, over the 24 allowed.
  EXPECT_TRUE(decode_bgr(test_support::flat_png(6000, 5000, 8, 6), kLimit).empty());
  // Headers alone, declaring 100 and 268 megapixels.
  EXPECT_TRUE(decode_bgr(image_test::jpeg_header(10000, 10000), kLimit).empty());
  std::string vp8l = "RIFF";
  vp8l += std::string("\x1A\x00\x00\x00", 4) + "WEBPVP8L" + std::string("\x0E\x00\x00\x00\x2F", 5);
  vp8l += std::string("\xFF\xFF\xFF\x0F", 4) + std::string(9, '\0');  // 16384 x 16384, no alpha
  EXPECT_TRUE(decode_bgr(vp8l, kLimit).empty());
  EXPECT_EQ(allocator_.count, 0);
}

}  // namespace
}  // namespace orderflow
