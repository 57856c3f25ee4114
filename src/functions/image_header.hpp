// Checks an uploaded image before anything decodes it: size, format by magic bytes, and the
// width and height read from the header alone (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X), so a
// bad or hostile file gets a clear 4xx and never reaches the decoder. No image library offers
// header-only reads for all three formats, so these small readers are our own; every read is
// bounds-checked, and any truncation of a valid file is reported, never crashes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orderflow::functions {

enum class ImageFormat { jpeg, png, webp };

std::string_view file_extension(ImageFormat format);  // "jpg", "png", "webp"
std::string_view image_content_type(ImageFormat format);  // "image/jpeg", ...
std::string_view format_name(ImageFormat format);     // "JPEG", "PNG", "WebP"

struct ImageLimits {
  std::size_t max_bytes = 5 * 1024 * 1024;
  int min_side = 32;
  int max_side = 10000;
  // Decompression-bomb guard: a small file may declare a huge canvas that costs gigabytes
  // once decoded. 40 megapixels is 120 MB decoded, more than any product photo needs.
  std::int64_t max_pixels = 40'000'000;
};

// What a header reader found.
struct ImageHeader {
  enum class Status { ok, truncated, corrupt, unsupported };
  Status status = Status::corrupt;
  int width = 0;
  int height = 0;
  std::string detail;  // why, for truncated/corrupt/unsupported
};

// The format by magic bytes, or nullopt for anything else.
[[nodiscard]] std::optional<ImageFormat> sniff_format(std::string_view bytes);
// The name of a recognised but unsupported format ("GIF", "BMP", "TIFF"...), or empty.
std::string_view other_format_name(std::string_view bytes);

[[nodiscard]] ImageHeader read_png_header(std::string_view bytes);
// Walks the marker segments to the frame header (SOFn), then checks that the file still has
// its end-of-image marker after the first scan: a JPEG cut short decodes "successfully" as a
// partly grey picture, so truncation must be caught here.
[[nodiscard]] ImageHeader read_jpeg_header(std::string_view bytes);
[[nodiscard]] ImageHeader read_webp_header(std::string_view bytes);

struct ImageCheck {
  enum class Problem {
    none,
    too_many_bytes,     // 413
    unsupported,        // 415
    undecodable,        // 400: truncated or corrupt
    too_small,          // 400
    too_large,          // 413: a side over max_side
    too_many_pixels,    // 413: decompression bomb
  };
  Problem problem = Problem::none;
  ImageFormat format = ImageFormat::jpeg;  // when the format is supported
  int width = 0;
  int height = 0;
  std::string message;  // for the client, when problem != none
};

[[nodiscard]] ImageCheck check_image(std::string_view bytes, const ImageLimits& limits);

}  // namespace orderflow::functions
