// The header readers and check_image: real files made by OpenCV's encoders, hand-made
// headers declaring any size, every truncation of valid files, and random garbage.
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "functions/image_header.hpp"
#include "image_test_support.hpp"

namespace orderflow::image_test {
namespace {

using functions::check_image;
using functions::ImageCheck;
using functions::ImageFormat;
using functions::ImageHeader;
using functions::ImageLimits;
using Problem = ImageCheck::Problem;

TEST(ImageHeader, ReadsTheSizeOfRealPngJpegAndWebpFiles) {
  for (const std::string ext : {".png", ".jpg", ".webp"}) {
    const auto bytes = make_image(123, 45, ext);
    const auto check = check_image(bytes, ImageLimits{});
    EXPECT_EQ(check.problem, Problem::none) << ext << ": " << check.message;
    EXPECT_EQ(check.width, 123) << ext;
    EXPECT_EQ(check.height, 45) << ext;
  }
  EXPECT_EQ(check_image(make_image(64, 64, ".png"), {}).format, ImageFormat::png);
  EXPECT_EQ(check_image(make_image(64, 64, ".jpg"), {}).format, ImageFormat::jpeg);
  EXPECT_EQ(check_image(make_image(64, 64, ".webp"), {}).format, ImageFormat::webp);
}

TEST(ImageHeader, ReadsLosslessWebpAndPhotos) {
  cv::Mat image(50, 70, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<unsigned char> out;
  ASSERT_TRUE(cv::imencode(".webp", image, out, {cv::IMWRITE_WEBP_QUALITY, 101}));  // VP8L
  const std::string lossless(out.begin(), out.end());
  ASSERT_EQ(lossless.substr(12, 4), "VP8L");
  const auto header = functions::read_webp_header(lossless);
  EXPECT_EQ(header.status, ImageHeader::Status::ok);
  EXPECT_EQ(header.width, 70);
  EXPECT_EQ(header.height, 50);

  SKIP_WITHOUT_MODEL();
  const auto dog = check_image(darknet_photo("dog.jpg"), {});
  EXPECT_EQ(dog.problem, Problem::none);
  EXPECT_EQ(dog.width, 768);
  EXPECT_EQ(dog.height, 576);
}

TEST(ImageHeader, HandMadeHeadersReportTheSizeTheyDeclare) {
  const auto png = functions::read_png_header(png_header(40000, 3));
  EXPECT_EQ(png.status, ImageHeader::Status::ok);
  EXPECT_EQ(png.width, 40000);
  const auto jpeg = functions::read_jpeg_header(jpeg_header(65535, 200));
  EXPECT_EQ(jpeg.status, ImageHeader::Status::ok);
  EXPECT_EQ(jpeg.width, 65535);
  EXPECT_EQ(jpeg.height, 200);
  const auto webp = functions::read_webp_header(webp_vp8x_header(16000, 12));
  EXPECT_EQ(webp.status, ImageHeader::Status::ok);
  EXPECT_EQ(webp.width, 16000);
  EXPECT_EQ(webp.height, 12);
}

TEST(ImageHeader, SizeLimits) {
  EXPECT_EQ(check_image(make_image(20, 100, ".png"), {}).problem, Problem::too_small);
  EXPECT_EQ(check_image(make_image(32, 32, ".png"), {}).problem, Problem::none);
  EXPECT_EQ(check_image(png_header(10000, 2000), {}).problem, Problem::none);
  EXPECT_EQ(check_image(png_header(10001, 2000), {}).problem, Problem::too_large);
  EXPECT_EQ(check_image(jpeg_header(500, 12000), {}).problem, Problem::too_large);
  EXPECT_EQ(check_image(webp_vp8x_header(16000, 16000), {}).problem, Problem::too_large);
  // Within the per-side limit, but a decompression bomb: 81 megapixels from a few bytes.
  const auto bomb = check_image(png_header(9000, 9000), {});
  EXPECT_EQ(bomb.problem, Problem::too_many_pixels);
  EXPECT_NE(bomb.message.find("9000x9000"), std::string::npos) << bomb.message;
  EXPECT_EQ(check_image(std::string(5 * 1024 * 1024 + 1, '\xFF'), {}).problem, Problem::too_many_bytes);
  EXPECT_EQ(check_image(std::string(5 * 1024 * 1024, 'x'), {}).problem, Problem::unsupported);
}

TEST(ImageHeader, OtherFormatsAreNamedAndUnsupported) {
  const std::pair<std::string, std::string> cases[] = {
      {"GIF89a\x10\x00\x10\x00", "GIF"},
      {"BM\x36\x00\x00\x00\x00\x00", "BMP"},
      {std::string("II*\0\x08\0\0\0", 8), "TIFF"},
      {std::string("\0\0\0\x1C" "ftypheic\0\0\0\0", 16), "HEIC"},
      {std::string("\0\0\0\x1C" "ftypavif\0\0\0\0", 16), "AVIF"},
      {"%PDF-1.7\n", "PDF"},
      {"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"},
  };
  for (const auto& [bytes, name] : cases) {
    const auto check = check_image(bytes, {});
    EXPECT_EQ(check.problem, Problem::unsupported) << name;
    EXPECT_NE(check.message.find(name), std::string::npos) << check.message;
  }
  const auto text = check_image("hello, this is not an image at all", {});
  EXPECT_EQ(text.problem, Problem::unsupported);
  EXPECT_EQ(text.message, "unsupported image format: the data is not a JPEG, PNG or WebP image");
  EXPECT_EQ(check_image("", {}).problem, Problem::unsupported);
  EXPECT_EQ(check_image(webp_vp8x_header(100, 100, /*animated=*/true), {}).problem, Problem::unsupported);
}

TEST(ImageHeader, CorruptHeaders) {
  std::string png = png_header(100, 100);
  png.replace(12, 4, "IHDX");
  EXPECT_EQ(check_image(png, {}).problem, Problem::undecodable);
  EXPECT_EQ(check_image(png_header(0, 100), {}).problem, Problem::undecodable);
  EXPECT_EQ(check_image(jpeg_header(0, 100), {}).problem, Problem::undecodable);
  // Height 0 means "given later in a DNL segment", which no decoder here supports.
  EXPECT_EQ(check_image(jpeg_header(100, 0), {}).problem, Problem::unsupported);
  // A scan before any frame header.
  EXPECT_EQ(check_image(std::string("\xFF\xD8\xFF\xDA\x00\x02\xFF\xD9", 8), {}).problem, Problem::undecodable);
  // End of image with no frame at all.
  EXPECT_EQ(check_image(std::string("\xFF\xD8\xFF\xD9", 4), {}).problem, Problem::undecodable);
  std::string webp = webp_vp8x_header(100, 100);
  webp.replace(12, 4, "ABCD");
  EXPECT_EQ(check_image(webp, {}).problem, Problem::undecodable);
}

TEST(ImageHeader, EveryTruncationOfAJpegOrWebpIsCaughtAndNoneCrashes) {
  std::vector<std::pair<std::string, std::string>> files = {
      {"jpg", make_image(300, 200, ".jpg")},
      {"webp", make_image(300, 200, ".webp")},
      {"png", make_image(300, 200, ".png")},
  };
  if (have_model()) files.emplace_back("dog.jpg", darknet_photo("dog.jpg"));
  for (const auto& [name, bytes] : files) {
    ASSERT_EQ(check_image(bytes, {}).problem, Problem::none) << name;
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      const std::string_view prefix(bytes.data(), length);
      ImageCheck check;
      ASSERT_NO_THROW(check = check_image(prefix, {})) << name << " cut at " << length;
      if (name == "png") {
        // A PNG prefix has its whole header from byte 33 on; the decoder rejects the rest.
        if (length < 33) {
          EXPECT_NE(check.problem, Problem::none) << name << " cut at " << length;
        }
      } else {
        EXPECT_NE(check.problem, Problem::none) << name << " cut at " << length;
      }
    }
  }
}

TEST(ImageHeader, RandomGarbageAndMutationsNeverCrash) {
  std::mt19937 random(20261125);
  const std::string seeds[] = {make_image(64, 48, ".jpg"), make_image(64, 48, ".png"),
                               make_image(64, 48, ".webp"), png_header(100, 100),
                               jpeg_header(100, 100), webp_vp8x_header(100, 100)};
  const std::string magics[] = {"", "\xFF\xD8\xFF", "\x89PNG\r\n\x1a\n", "RIFF\x10\0\0\0WEBP",
                                "RIFF\xFF\xFF\xFF\xFFWEBPVP8 ", "RIFF\x20\0\0\0WEBPVP8L"};
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    if (round % 2 == 0) {
      // Garbage behind a valid-looking signature.
      bytes = magics[static_cast<std::size_t>(round / 2) % std::size(magics)];
      const int n = std::uniform_int_distribution<int>(0, 64)(random);
      for (int i = 0; i < n; ++i) bytes += static_cast<char>(byte(random));
    } else {
      // A valid file with a few bytes changed, then cut somewhere.
      bytes = seeds[static_cast<std::size_t>(round / 2) % std::size(seeds)];
      for (int i = 0; i < 4; ++i)
        bytes[std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(random)] =
            static_cast<char>(byte(random));
      bytes.resize(std::uniform_int_distribution<std::size_t>(0, bytes.size())(random));
    }
    ImageCheck check;
    ASSERT_NO_THROW(check = check_image(bytes, {})) << "round " << round;
    if (check.problem == Problem::none) {
      EXPECT_GE(check.width, 32);
      EXPECT_GE(check.height, 32);
    }
  }
}

TEST(ImageHeader, FormatNames) {
  EXPECT_EQ(functions::file_extension(ImageFormat::jpeg), "jpg");
  EXPECT_EQ(functions::file_extension(ImageFormat::webp), "webp");
  EXPECT_EQ(functions::image_content_type(ImageFormat::png), "image/png");
  EXPECT_EQ(functions::image_content_type(ImageFormat::jpeg), "image/jpeg");
}

}  // namespace
}  // namespace orderflow::image_test
