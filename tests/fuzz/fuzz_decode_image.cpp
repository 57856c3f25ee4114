// Uploaded image bytes through the recognizer's decoder (adapters/imaging), under a tight pixel
// limit so each run stays fast, and the Exif reader on the same bytes. Properties: a decoded
// picture is 8-bit BGR within the limit; any library error is an empty picture, never a crash
// (ASan and UBSan watch the libraries' longjmps too); an orientation is 1 to 8.
#include "adapters/imaging/codecs.hpp"
#include "adapters/imaging/decode_image.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

constexpr std::int64_t kMaxPixels = 250'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = orderflow::fuzz::as_text(data, size);
  const cv::Mat picture = orderflow::adapters::imaging::decode_bgr(bytes, kMaxPixels);
  if (!picture.empty()) {
    orderflow::fuzz::require(picture.type() == CV_8UC3, "a decoded picture is 8-bit BGR");
    orderflow::fuzz::require(std::int64_t{picture.cols} * picture.rows <= kMaxPixels,
                             "a decoded picture is within the pixel limit");
  }
  const int orientation = orderflow::adapters::imaging::exif_orientation(bytes);
  orderflow::fuzz::require(orientation >= 1 && orientation <= 8, "an orientation is 1 to 8");
  return 0;
}
