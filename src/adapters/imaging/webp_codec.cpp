#include <webp/decode.h>

#include "adapters/imaging/codecs.hpp"

namespace orderflow::adapters::imaging {

cv::Mat decode_webp(std::string_view encoded, std::int64_t max_pixels) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(encoded.data());
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(data, encoded.size(), &features) != VP8_STATUS_OK) return {};
  if (!within_pixel_limit(features.width, features.height, max_pixels)) return {};
  cv::Mat image(features.height, features.width, features.has_alpha != 0 ? CV_8UC4 : CV_8UC3);
  const std::size_t size = image.step[0] * static_cast<std::size_t>(image.rows);
  const auto stride = static_cast<int>(image.step[0]);
  const std::uint8_t* done =
      features.has_alpha != 0 ? WebPDecodeBGRAInto(data, encoded.size(), image.data, size, stride)
                              : WebPDecodeBGRInto(data, encoded.size(), image.data, size, stride);
  if (done == nullptr) return {};
  return image;
}

}  // namespace orderflow::adapters::imaging
