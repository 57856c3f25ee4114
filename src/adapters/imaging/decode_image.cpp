#include "adapters/imaging/decode_image.hpp"

#include <new>
#include <vector>

#include "adapters/imaging/codecs.hpp"

namespace orderflow::adapters::imaging {

namespace {

bool is_png(std::string_view b) {
  return b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8);
}
bool is_jpeg(std::string_view b) { return b.substr(0, 3) == "\xFF\xD8\xFF"; }
bool is_webp(std::string_view b) {
  return b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP";
}

// What the recognizer did after imdecode(IMREAD_UNCHANGED) before, kept so the pixels stay the
// same: 16 bits scaled to 8 by 1/257, grey repeated into B, G and R, and each pixel with alpha
// a laid on white: (c * a + 255 * (255 - a) + 127) / 255.
cv::Mat to_bgr8(cv::Mat image) {
  if (image.depth() != CV_8U) {
    cv::Mat scaled;
    image.convertTo(scaled, CV_8U, image.depth() == CV_16U ? 1.0 / 257.0 : 255.0);
    image = scaled;
  }
  if (image.channels() == 1) {
    cv::Mat bgr;
    cv::merge(std::vector<cv::Mat>{image, image, image}, bgr);
    return bgr;
  }
  if (image.channels() == 3) return image;
  if (image.channels() != 4) return {};
  cv::Mat bgr(image.size(), CV_8UC3);
  for (int y = 0; y < image.rows; ++y) {
    const auto* in = image.ptr<cv::Vec4b>(y);
    auto* out = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < image.cols; ++x) {
      const int a = in[x][3];
      for (int c = 0; c < 3; ++c)
        out[x][c] = static_cast<uchar>((in[x][c] * a + 255 * (255 - a) + 127) / 255);
    }
  }
  return bgr;
}

}  // namespace

cv::Mat decode_bgr(std::string_view encoded, std::int64_t max_pixels) {
  try {
    cv::Mat image;
    if (is_jpeg(encoded)) {
      image = decode_jpeg(encoded, max_pixels);
    } else if (is_png(encoded)) {
      image = decode_png(encoded, max_pixels);
    } else if (is_webp(encoded)) {
      image = decode_webp(encoded, max_pixels);
    }
    if (image.empty()) return {};
    return to_bgr8(std::move(image));
  } catch (const cv::Exception&) {
    return {};  // OpenCV refused an allocation or conversion: still just a bad image
  } catch (const std::bad_alloc&) {
    return {};
  }
}

}  // namespace orderflow::adapters::imaging
