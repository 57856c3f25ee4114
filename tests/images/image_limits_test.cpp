// The decode budgets of check_image (issue 12, item 3): pixels, decoded bytes (bit depth),
// JPEG scans and the samples they cover, all read from the header before any decoder runs.
// The bombs are made in code (support/image_bombs): a progressive JPEG that repeats its last
// scan, and flat PNGs of any size and bit depth.
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "functions/image_header.hpp"
#include "image_test_support.hpp"
#include "support/image_bombs.hpp"

namespace orderflow::image_test {
namespace {

using functions::check_image;
using functions::ImageCheck;
using functions::ImageHeader;
using functions::ImageLimits;
using Problem = ImageCheck::Problem;
using test_support::count_jpeg_scans;
using test_support::flat_png;
using test_support::repeated_scan_jpeg;

std::string progressive_jpeg(int width, int height) { return repeated_scan_jpeg(width, height, 0); }

cv::Mat decode(const std::string& bytes) {
  return cv::imdecode(std::vector<unsigned char>(bytes.begin(), bytes.end()), cv::IMREAD_UNCHANGED);
}

bool mentions(const ImageCheck& check, std::string_view text) {
  return check.message.find(text) != std::string::npos;
}

TEST(ImageLimits, DefaultsAreTheDocumentedBudgets) {
  const ImageLimits limits;
  EXPECT_EQ(limits.max_pixels, 24'000'000);
  EXPECT_EQ(limits.max_decoded_bytes, 96'000'000);
  EXPECT_EQ(limits.max_jpeg_scans, 100);
  EXPECT_EQ(limits.max_jpeg_scan_samples, 480'000'000);
}

// The generators make files real decoders accept, so the bombs below are real bombs.
TEST(ImageLimits, TheGeneratedBombsAreValidImages) {
  const std::string jpeg = repeated_scan_jpeg(64, 48, 5);
  EXPECT_EQ(count_jpeg_scans(jpeg), 15);
  const cv::Mat from_jpeg = decode(jpeg);
  EXPECT_EQ(from_jpeg.cols, 64);
  EXPECT_EQ(from_jpeg.rows, 48);

  const cv::Mat deep = decode(flat_png(40, 30, 16, 2));
  EXPECT_EQ(deep.cols, 40);
  EXPECT_EQ(deep.rows, 30);
  EXPECT_EQ(deep.depth(), CV_16U);
  EXPECT_EQ(deep.channels(), 3);
  EXPECT_EQ(decode(flat_png(40, 30, 8, 6)).channels(), 4);
}

TEST(ImageLimits, HeaderReportsBitDepthChannelsAndScans) {
  const auto png = functions::read_png_header(flat_png(40, 30, 16, 6));
  EXPECT_EQ(png.status, ImageHeader::Status::ok);
  EXPECT_EQ(png.bits_per_sample, 16);
  EXPECT_EQ(png.channels, 4);
  EXPECT_EQ(functions::read_png_header(flat_png(40, 30, 8, 0)).channels, 1);

  const auto baseline = functions::read_jpeg_header(make_image(64, 48, ".jpg"));
  EXPECT_EQ(baseline.status, ImageHeader::Status::ok);
  EXPECT_EQ(baseline.scans, 1);
  EXPECT_EQ(baseline.bits_per_sample, 8);
  EXPECT_EQ(baseline.channels, 3);
  // 4:2:0: a 64x48 luma plane and two 32x24 chroma planes, in whole 8x8 blocks.
  EXPECT_EQ(baseline.scan_samples, 64 * 48 + 2 * 32 * 24);

  const auto progressive = functions::read_jpeg_header(progressive_jpeg(64, 48));
  EXPECT_EQ(progressive.status, ImageHeader::Status::ok);
  EXPECT_EQ(progressive.scans, 10);  // libjpeg's standard progression for colour
  EXPECT_EQ(progressive.width, 64);

  cv::Mat image(60, 80, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<unsigned char> out;
  ASSERT_TRUE(cv::imencode(".webp", image, out, {cv::IMWRITE_WEBP_QUALITY, 101}));
  EXPECT_EQ(functions::read_webp_header(std::string(out.begin(), out.end())).channels, 3);
  cv::Mat transparent(60, 80, CV_8UC4, cv::Scalar(1, 2, 3, 100));
  ASSERT_TRUE(cv::imencode(".webp", transparent, out, {cv::IMWRITE_WEBP_QUALITY, 101}));
  EXPECT_EQ(functions::read_webp_header(std::string(out.begin(), out.end())).channels, 4);
}

// The 311 KB 16-bit 40-megapixel PNG of the issue decoded to 240 MB and peaked at 652 MB.
TEST(ImageLimits, SixteenBitFortyMegapixelPngIsRefusedByItsHeader) {
  const std::string bomb = flat_png(8000, 5000, 16, 2);
  EXPECT_LT(bomb.size(), 1'000'000u);
  const auto check = check_image(bomb, {});
  EXPECT_EQ(check.problem, Problem::too_many_pixels);
  EXPECT_TRUE(mentions(check, "8000x5000 pixels")) << check.message;
  EXPECT_TRUE(mentions(check, "at most 24 megapixels")) << check.message;
}

TEST(ImageLimits, PixelBudgetIs24Megapixels) {
  EXPECT_EQ(check_image(png_header(6000, 4000), {}).problem, Problem::none);
  EXPECT_EQ(check_image(png_header(6000, 4001), {}).problem, Problem::too_many_pixels);
  EXPECT_EQ(check_image(jpeg_header(5000, 5000), {}).problem, Problem::too_many_pixels);
  EXPECT_EQ(check_image(webp_vp8x_header(8000, 3001), {}).problem, Problem::too_many_pixels);
}

// Bit depth counts: the same 20 megapixels pass at 8 bits and are refused at 16.
TEST(ImageLimits, SixteenBitsPerChannelHalveThePixelsAllowed) {
  EXPECT_EQ(check_image(flat_png(5000, 4000, 8, 2), {}).problem, Problem::none);
  const auto deep = check_image(flat_png(5000, 4000, 16, 2), {});
  EXPECT_EQ(deep.problem, Problem::too_much_memory);
  EXPECT_TRUE(mentions(deep, "16 bits per channel")) << deep.message;
  EXPECT_TRUE(mentions(deep, "120 MB once decoded")) << deep.message;
  EXPECT_TRUE(mentions(deep, "at most 96 MB")) << deep.message;
  // 96 MB exactly: 4000x4000 RGB or 4000x3000 RGBA at 16 bits; one more row is over.
  EXPECT_EQ(check_image(flat_png(4000, 4000, 16, 2), {}).problem, Problem::none);
  EXPECT_EQ(check_image(flat_png(4000, 3000, 16, 6), {}).problem, Problem::none);
  EXPECT_EQ(check_image(flat_png(4000, 3001, 16, 6), {}).problem, Problem::too_much_memory);
  // Grey stays one channel: 16-bit grey passes up to the pixel budget.
  EXPECT_EQ(check_image(flat_png(6000, 4000, 16, 0), {}).problem, Problem::none);
}

TEST(ImageLimits, InvalidPngBitDepthsAndMethodsAreUndecodable) {
  const auto with = [](std::size_t at, char value) {
    std::string png = png_header(100, 100);  // 8-bit RGB
    png[at] = value;
    return check_image(png, {});
  };
  EXPECT_EQ(with(24, 4).problem, Problem::undecodable);   // RGB has no 4-bit form
  EXPECT_EQ(with(24, 32).problem, Problem::undecodable);  // no such depth
  EXPECT_EQ(with(25, 5).problem, Problem::undecodable);   // no such colour type
  EXPECT_EQ(with(26, 1).problem, Problem::undecodable);   // compression method
  EXPECT_EQ(with(27, 1).problem, Problem::undecodable);   // filter method
  EXPECT_EQ(with(28, 2).problem, Problem::undecodable);   // interlace method
  EXPECT_EQ(with(28, 1).problem, Problem::none);          // Adam7
  const auto message = with(24, 4).message;
  EXPECT_NE(message.find("bit depth"), std::string::npos) << message;
}

TEST(ImageLimits, TwelveBitLosslessAndHierarchicalJpegsAreUnsupported) {
  std::string twelve = jpeg_header(100, 100);
  twelve[6] = 12;  // SOF0 precision
  const auto deep = check_image(twelve, {});
  EXPECT_EQ(deep.problem, Problem::unsupported);
  EXPECT_TRUE(mentions(deep, "12-bit JPEG")) << deep.message;
  for (const char sof : {'\xC3', '\xC5', '\xC7', '\xCB', '\xCF'}) {
    std::string jpeg = jpeg_header(100, 100);
    jpeg[3] = sof;
    EXPECT_EQ(check_image(jpeg, {}).problem, Problem::unsupported)
        << int(static_cast<unsigned char>(sof));
  }
  for (const char sof : {'\xC1', '\xC2', '\xC9', '\xCA'}) {
    std::string jpeg = jpeg_header(100, 100);
    jpeg[3] = sof;
    EXPECT_EQ(check_image(jpeg, {}).problem, Problem::none) << int(static_cast<unsigned char>(sof));
  }
}

TEST(ImageLimits, MalformedJpegFramesAndScansAreUndecodable) {
  std::string bad_factors = jpeg_header(100, 100);
  bad_factors[13] = 0x52;  // first component: 5x2 sampling
  EXPECT_EQ(check_image(bad_factors, {}).problem, Problem::undecodable);
  std::string unknown_component = jpeg_header(100, 100);
  unknown_component[unknown_component.find("\xFF\xDA") + 5] = 9;  // the scan names component 9
  EXPECT_EQ(check_image(unknown_component, {}).problem, Problem::undecodable);
  std::string no_scan("\xFF\xD8", 2);
  const std::string full = jpeg_header(100, 100);
  no_scan += full.substr(2, full.find("\xFF\xDA") - 2) + "\xFF\xD9";
  EXPECT_EQ(check_image(no_scan, {}).problem, Problem::undecodable);
}

TEST(ImageLimits, AHundredScansPassAndOneMoreIsRefused) {
  EXPECT_EQ(check_image(repeated_scan_jpeg(64, 64, 90), {}).problem, Problem::none);
  const auto over = check_image(repeated_scan_jpeg(64, 64, 91), {});
  EXPECT_EQ(over.problem, Problem::too_costly);
  EXPECT_TRUE(mentions(over, "101 scans")) << over.message;
  EXPECT_TRUE(mentions(over, "at most 100")) << over.message;
}

// The bomb repeated its last scan 135,445 times in 4.9 MB; this one repeats it 20,000
// times (a decoder would walk the 1-megapixel luma plane 20,000 times).
TEST(ImageLimits, ARepeatedScanBombIsRefusedByItsHeader) {
  const std::string bomb = repeated_scan_jpeg(1024, 1024, 20'000);
  EXPECT_LT(bomb.size(), functions::ImageLimits{}.max_bytes);
  const auto check = check_image(bomb, {});
  EXPECT_EQ(check.problem, Problem::too_costly);
  EXPECT_TRUE(mentions(check, "20010 scans")) << check.message;
}

// Under the scan cap, but each scan walks 12 megapixels: the work budget refuses it.
TEST(ImageLimits, ScanWorkBudgetRefusesManyScansOfALargeImage) {
  const auto check = check_image(repeated_scan_jpeg(4000, 3000, 60), {});
  EXPECT_EQ(check.problem, Problem::too_costly);
  EXPECT_TRUE(mentions(check, "too long to decode")) << check.message;
  EXPECT_TRUE(mentions(check, "70 scans of 4000x3000 pixels")) << check.message;
  // The standard 10 scans of a 4:2:0 image cover 8 times its pixels: twice the DC of all three
  // planes (1.5 each), four luma AC scans, four chroma AC scans of a quarter each.
  const std::string standard = progressive_jpeg(1024, 1024);
  EXPECT_EQ(functions::read_jpeg_header(standard).scan_samples, 8 * 1024 * 1024);
  ImageLimits tight;
  tight.max_jpeg_scan_samples = 8 * 1024 * 1024 - 1;
  EXPECT_EQ(check_image(standard, tight).problem, Problem::too_costly);
  tight.max_jpeg_scan_samples = 8 * 1024 * 1024;
  EXPECT_EQ(check_image(standard, tight).problem, Problem::none);
}

// The largest photo accepted is accepted progressive too.
TEST(ImageLimits, A24MegapixelProgressiveJpegPasses) {
  const auto check = check_image(progressive_jpeg(6000, 4000), {});
  EXPECT_EQ(check.problem, Problem::none) << check.message;
}

// The walk through every scan still catches any truncation, and restart markers and stuffed
// bytes inside the scans are no markers.
TEST(ImageLimits, EveryTruncationOfAProgressiveJpegIsCaught) {
  const std::string jpeg = repeated_scan_jpeg(96, 64, 3);
  ASSERT_EQ(check_image(jpeg, {}).problem, Problem::none);
  for (std::size_t length = 0; length < jpeg.size(); ++length)
    EXPECT_NE(check_image(std::string_view(jpeg.data(), length), {}).problem, Problem::none)
        << "cut at " << length;

  cv::Mat noisy(200, 300, CV_8UC3);
  cv::randu(noisy, 0, 255);
  std::vector<unsigned char> out;
  ASSERT_TRUE(cv::imencode(".jpg", noisy, out,
                           {cv::IMWRITE_JPEG_PROGRESSIVE, 1, cv::IMWRITE_JPEG_RST_INTERVAL, 2}));
  const std::string restarts(out.begin(), out.end());
  ASSERT_NE(restarts.find("\xFF\xD0"), std::string::npos);
  ASSERT_NE(restarts.find(std::string("\xFF\x00", 2)), std::string::npos);
  const auto header = functions::read_jpeg_header(restarts);
  EXPECT_EQ(header.status, ImageHeader::Status::ok) << header.detail;
  EXPECT_EQ(header.scans, 10);
}

}  // namespace
}  // namespace orderflow::image_test
