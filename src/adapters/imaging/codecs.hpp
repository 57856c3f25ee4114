// The three codecs behind decode_bgr. Each returns the picture as its library delivers it in
// OpenCV's channel order (8- or 16-bit; 1, 3 or 4 channels, B G R [A]), or an empty Mat when the
// bytes do not decode or the header declares more than max_pixels.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string_view>

namespace orderflow::adapters::imaging {

// 8-bit BGR; CMYK and YCCK converted, grey expanded, the EXIF orientation applied.
[[nodiscard]] cv::Mat decode_jpeg(std::string_view encoded, std::int64_t max_pixels);
// As stored: 8 or 16 bits; grey (1 channel), BGR (3) or BGRA (4, also for a tRNS chunk on a
// colour or palette image); palettes and grey below 8 bits expanded.
[[nodiscard]] cv::Mat decode_png(std::string_view encoded, std::int64_t max_pixels);
// 8-bit BGRA when the file has alpha, else BGR.
[[nodiscard]] cv::Mat decode_webp(std::string_view encoded, std::int64_t max_pixels);

// The orientation (1-8, TIFF tag 0x0112 of IFD0) in the payload of a JPEG's APP1 segment
// ("Exif\0\0" then a TIFF header), or 1 when there is none or the payload is malformed.
[[nodiscard]] int exif_orientation(std::string_view app1_payload);
// `image` turned upright for an EXIF orientation (1 and unknown values leave it as it is).
[[nodiscard]] cv::Mat apply_orientation(const cv::Mat& image, int orientation);

inline bool within_pixel_limit(std::int64_t width, std::int64_t height, std::int64_t max_pixels) {
  return width > 0 && height > 0 && width <= max_pixels / height;
}

}  // namespace orderflow::adapters::imaging
