// Uploaded image bytes, before any decoder: sniff_format, the PNG/JPEG/WebP header readers and
// check_image, under the upload's limits or (first byte odd) tight ones that every branch can
// reach. Properties: an accepted image has the sniffed format and sides, pixels, decoded memory
// and JPEG scans within the limits; a refusal says why.
#include <algorithm>

#include "functions/image_header.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using orderflow::functions::ImageCheck;
using orderflow::functions::ImageFormat;
using orderflow::functions::ImageHeader;
using orderflow::functions::ImageLimits;
using orderflow::fuzz::require;

ImageLimits tight_limits() {
  ImageLimits limits;
  limits.max_bytes = 64 * 1024;
  limits.min_side = 2;
  limits.max_side = 300;
  limits.max_pixels = 40'000;
  limits.max_decoded_bytes = 100'000;
  limits.max_jpeg_scans = 3;
  limits.max_jpeg_scan_samples = 200'000;
  return limits;
}

void check_header(const ImageHeader& header) {
  if (header.status == ImageHeader::Status::ok) {
    require(header.width > 0 && header.height > 0, "a read header has both sides");
    require(header.channels >= 1 && header.channels <= 4, "1 to 4 channels");
    require(header.bits_per_sample >= 1 && header.bits_per_sample <= 16, "1 to 16 bits");
    require(header.scans >= 1 && header.scan_samples >= 0, "a picture has a scan");
  } else {
    require(!header.detail.empty(), "a header not read says why");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ImageLimits limits = data[0] % 2 == 1 ? tight_limits() : ImageLimits{};
  const std::string_view bytes = orderflow::fuzz::as_text(data + 1, size - 1);

  const auto format = orderflow::functions::sniff_format(bytes);
  // Every reader must cope with any bytes, not only those of its own format.
  check_header(orderflow::functions::read_png_header(bytes));
  check_header(orderflow::functions::read_jpeg_header(bytes));
  check_header(orderflow::functions::read_webp_header(bytes));

  const ImageCheck check = orderflow::functions::check_image(bytes, limits);
  if (check.problem != ImageCheck::Problem::none) {
    require(!check.message.empty(), "a refused image says why");
    return 0;
  }
  require(format && check.format == *format, "an accepted image has the sniffed format");
  require(std::min(check.width, check.height) >= limits.min_side &&
              std::max(check.width, check.height) <= limits.max_side,
          "an accepted image's sides are within the limits");
  require(std::int64_t{check.width} * check.height <= limits.max_pixels,
          "an accepted image's pixels are within the limit");
  const ImageHeader header =
      *format == ImageFormat::png    ? orderflow::functions::read_png_header(bytes)
      : *format == ImageFormat::jpeg ? orderflow::functions::read_jpeg_header(bytes)
                                     : orderflow::functions::read_webp_header(bytes);
  require(header.status == ImageHeader::Status::ok && header.width == check.width &&
              header.height == check.height,
          "check_image reports what the header reader read");
  require(
      header.scans <= limits.max_jpeg_scans && header.scan_samples <= limits.max_jpeg_scan_samples,
      "an accepted JPEG's scans are within the limits");
  return 0;
}
