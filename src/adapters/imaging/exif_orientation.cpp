#include <cstdint>

#include "adapters/imaging/codecs.hpp"

namespace orderflow::adapters::imaging {

namespace {

// Reads integers of a TIFF block in its byte order; callers check fits() before each read.
class TiffReader {
 public:
  explicit TiffReader(std::string_view bytes)
      : bytes_(bytes), big_endian_(bytes.substr(0, 2) == "MM") {}

  bool fits(std::size_t at, std::size_t size) const {
    return at <= bytes_.size() && size <= bytes_.size() - at;
  }
  std::uint32_t read(std::size_t at, int size) const {
    std::uint32_t v = 0;
    for (int i = 0; i < size; ++i) {
      const auto byte = static_cast<std::uint8_t>(
          bytes_[at + static_cast<std::size_t>(big_endian_ ? i : size - 1 - i)]);
      v = (v << 8) | byte;
    }
    return v;
  }

 private:
  std::string_view bytes_;
  bool big_endian_;
};

constexpr std::uint32_t kOrientationTag = 0x0112;
constexpr std::size_t kEntrySize = 12;  // tag, type, count, value

}  // namespace

int exif_orientation(std::string_view app1_payload) {
  constexpr std::string_view kSignature("Exif\0\0", 6);
  if (app1_payload.substr(0, kSignature.size()) != kSignature) return 1;
  const std::string_view tiff = app1_payload.substr(kSignature.size());
  if (tiff.substr(0, 2) != "II" && tiff.substr(0, 2) != "MM") return 1;
  const TiffReader r(tiff);
  if (!r.fits(0, 8) || r.read(2, 2) != 42) return 1;
  const std::size_t ifd = r.read(4, 4);
  if (!r.fits(ifd, 2)) return 1;
  const std::size_t entries = r.read(ifd, 2);
  for (std::size_t i = 0; i < entries; ++i) {
    const std::size_t entry = ifd + 2 + i * kEntrySize;
    if (!r.fits(entry, kEntrySize)) return 1;
    if (r.read(entry, 2) != kOrientationTag) continue;
    const auto value = static_cast<int>(r.read(entry + 8, 2));  // a SHORT, left-justified
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

cv::Mat apply_orientation(const cv::Mat& image, int orientation) {
  // The same turns as imdecode's: 5-8 swap rows and columns first, then flip.
  cv::Mat out;
  switch (orientation) {
    case 2:
      cv::flip(image, out, 1);
      return out;
    case 3:
      cv::flip(image, out, -1);
      return out;
    case 4:
      cv::flip(image, out, 0);
      return out;
    case 5:
      cv::transpose(image, out);
      return out;
    case 6:
      cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE);
      return out;
    case 7:
      cv::transpose(image, out);
      cv::flip(out, out, -1);
      return out;
    case 8:
      cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      return out;
    default:
      return image;
  }
}

}  // namespace orderflow::adapters::imaging
