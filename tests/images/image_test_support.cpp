#include "image_test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>

#include "adapters/wordnet/wordnet_files.hpp"
#include "functions/image_header.hpp"

namespace orderflow::image_test {
namespace fs = std::filesystem;

fs::path model_dir() { return fs::path(ORDERFLOW_SOURCE_DIR) / ".." / "shared" / "models"; }
fs::path darknet_dir() { return "/usr/share/darknet/data"; }

bool have_model() {
  return fs::exists(model_dir() / adapters::OpenCvRecognizer::kModelFile) &&
         fs::exists(model_dir() / adapters::OpenCvRecognizer::kLabelsFile) &&
         fs::exists(darknet_dir() / "dog.jpg");
}

adapters::OpenCvRecognizer& shared_recognizer() {
  static adapters::OpenCvRecognizer recognizer(adapters::OpenCvRecognizerOptions{
      .model_dir = model_dir(), .workers = 2, .queue_capacity = 8,
      .max_pixels = functions::ImageLimits{}.max_pixels});
  return recognizer;
}

const domain::DescriptionMatcher& shared_matcher() {
  static const auto matcher = adapters::load_description_matcher(
      adapters::kDefaultWordNetDir,
      adapters::load_imagenet_labels(model_dir() / adapters::OpenCvRecognizer::kLabelsFile));
  return *matcher;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

std::string darknet_photo(std::string_view name) { return read_file(darknet_dir() / std::string(name)); }

std::string encode(const cv::Mat& image, const std::string& extension) {
  std::vector<unsigned char> out;
  if (!cv::imencode(extension, image, out)) throw std::runtime_error("imencode failed for " + extension);
  return std::string(out.begin(), out.end());
}

std::string make_image(int width, int height, const std::string& extension) {
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(40, 120, 200));
  cv::circle(image, {width / 2, height / 2}, std::min(width, height) / 3, cv::Scalar(10, 200, 30), -1);
  cv::line(image, {0, 0}, {width - 1, height - 1}, cv::Scalar(255, 255, 255), 2);
  return encode(image, extension);
}

namespace {
void put_be32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xFF);
}
void put_le(std::string& s, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
}  // namespace

std::string png_header(std::uint32_t width, std::uint32_t height) {
  std::string s("\x89PNG\r\n\x1a\n", 8);
  put_be32(s, 13);
  s += "IHDR";
  put_be32(s, width);
  put_be32(s, height);
  s += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  put_be32(s, 0);                                // CRC (not checked before decoding)
  put_be32(s, 0);
  s += "IEND";
  put_be32(s, 0xAE426082);
  return s;
}

std::string jpeg_header(std::uint16_t width, std::uint16_t height) {
  std::string s("\xFF\xD8", 2);
  s += std::string("\xFF\xC0\x00\x11\x08", 5);  // SOF0, length 17, 8 bits
  s += static_cast<char>(height >> 8);
  s += static_cast<char>(height & 0xFF);
  s += static_cast<char>(width >> 8);
  s += static_cast<char>(width & 0xFF);
  s += std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);
  s += std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);  // SOS
  s += std::string("\x12\x34\x56\xFF\x00\x78", 6);                   // "entropy-coded data"
  s += std::string("\xFF\xD9", 2);
  return s;
}

std::string webp_vp8x_header(std::uint32_t width, std::uint32_t height, bool animated) {
  std::string chunk = "VP8X";
  put_le(chunk, 10, 4);
  chunk += static_cast<char>(animated ? 0x02 : 0x00);
  chunk += std::string(3, '\0');
  put_le(chunk, width - 1, 3);
  put_le(chunk, height - 1, 3);
  std::string s = "RIFF";
  put_le(s, static_cast<std::uint32_t>(4 + chunk.size()), 4);
  return s + "WEBP" + chunk;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                            (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t v = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace orderflow::image_test
