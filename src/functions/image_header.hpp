// Checks an uploaded image before anything decodes it: size, format by magic bytes, and what the
// header alone tells (PNG IHDR, JPEG SOFn and every SOS, WebP VP8/VP8L/VP8X): width and height,
// bit depth and channels, and for a JPEG how many scans the decoder would run. A bad or hostile
// file gets a clear 4xx and never reaches the decoder, whichever decoder that is. No image
// library offers header-only reads for all three formats, so these small readers are our own;
// every read is bounds-checked, and any truncation of a valid file is reported, never crashes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orderflow::functions {

enum class ImageFormat { jpeg, png, webp };

std::string_view file_extension(ImageFormat format);      // "jpg", "png", "webp"
std::string_view image_content_type(ImageFormat format);  // "image/jpeg", ...
std::string_view format_name(ImageFormat format);         // "JPEG", "PNG", "WebP"

// What an upload may cost to decode. A file within max_bytes can still declare work and memory
// far beyond its size (a flat 40-megapixel 16-bit PNG compresses to 311 KB and decodes to
// 240 MB; a progressive JPEG may repeat a scan 100,000 times), so the header is held to these
// before any decoder runs.
struct ImageLimits {
  std::size_t max_bytes = std::size_t{5} * 1024 * 1024;
  int min_side = 32;
  int max_side = 10000;
  // 24 megapixels: a full-frame camera photo, twice a phone's; the model sees 224x224 anyway.
  std::int64_t max_pixels = 24'000'000;
  // Memory of the decoded picture: pixels x channels x bytes per sample. 96 MB is 24 megapixels
  // of 8-bit RGBA; a 16-bit RGB image may have 16 megapixels.
  std::int64_t max_decoded_bytes = 96'000'000;
  // Scans (SOS markers) of one JPEG. Encoders write 1 (baseline), one per component, or about
  // 10 for a progressive file (libjpeg's standard script); the decoder walks the whole image
  // once per scan, so a scan of a few bytes repeated 100,000 times costs minutes. 100 leaves
  // ample room for any encoder's script.
  int max_jpeg_scans = 100;
  // Decode work of one JPEG: the samples its scans cover, added up over the scans (a scan of
  // all three components of a 24-megapixel 4:4:4 image covers 72 million). 480 million is 20
  // full passes over a 24-megapixel image: libjpeg's progressive script at 4:4:4 takes 14, and
  // the decoder's entropy decoding stays around a second here.
  std::int64_t max_jpeg_scan_samples = 480'000'000;
};

// What a header reader found.
struct ImageHeader {
  enum class Status { ok, truncated, corrupt, unsupported };
  Status status = Status::corrupt;
  int width = 0;
  int height = 0;
  int bits_per_sample = 8;        // PNG: the IHDR bit depth; JPEG: the frame's precision; WebP: 8
  int channels = 3;               // of the decoded picture (JPEG decodes to BGR, a palette to BGRA)
  int scans = 1;                  // JPEG: the SOS markers in the stream
  std::int64_t scan_samples = 0;  // JPEG: the samples all scans cover together (decode work)
  std::string detail;             // why, for truncated/corrupt/unsupported
};

// The format by magic bytes, or nullopt for anything else.
[[nodiscard]] std::optional<ImageFormat> sniff_format(std::string_view bytes);
// The name of a recognised but unsupported format ("GIF", "BMP", "TIFF"...), or empty.
std::string_view other_format_name(std::string_view bytes);

[[nodiscard]] ImageHeader read_png_header(std::string_view bytes);
// Walks every marker segment and scan to the end-of-image marker, reading the frame header
// (SOFn) and counting the scans and the samples they cover. A JPEG cut short decodes
// "successfully" as a partly grey picture, so truncation must be caught here.
[[nodiscard]] ImageHeader read_jpeg_header(std::string_view bytes);
[[nodiscard]] ImageHeader read_webp_header(std::string_view bytes);

struct ImageCheck {
  enum class Problem {
    none,
    too_many_bytes,   // 413
    unsupported,      // 415
    undecodable,      // 400: truncated or corrupt
    too_small,        // 400
    too_large,        // 413: a side over max_side
    too_many_pixels,  // 413: decompression bomb
    too_much_memory,  // 413: over max_decoded_bytes (16 bits per sample)
    too_costly,       // 422: a JPEG over max_jpeg_scans or max_jpeg_scan_samples
  };
  Problem problem = Problem::none;
  ImageFormat format = ImageFormat::jpeg;  // when the format is supported
  int width = 0;
  int height = 0;
  std::string message;  // for the client, when problem != none
};

[[nodiscard]] ImageCheck check_image(std::string_view bytes, const ImageLimits& limits);

}  // namespace orderflow::functions
