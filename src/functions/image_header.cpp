#include "functions/image_header.hpp"

#include <algorithm>
#include <cstdio>

namespace orderflow::functions {
namespace {

using Status = ImageHeader::Status;

std::uint8_t byte_at(std::string_view b, std::size_t i) { return static_cast<std::uint8_t>(b[i]); }

std::uint32_t be16(std::string_view b, std::size_t i) {
  return (std::uint32_t{byte_at(b, i)} << 8) | byte_at(b, i + 1);
}
std::uint32_t be32(std::string_view b, std::size_t i) {
  return (be16(b, i) << 16) | be16(b, i + 2);
}
std::uint32_t le16(std::string_view b, std::size_t i) {
  return std::uint32_t{byte_at(b, i)} | (std::uint32_t{byte_at(b, i + 1)} << 8);
}
std::uint32_t le24(std::string_view b, std::size_t i) {
  return le16(b, i) | (std::uint32_t{byte_at(b, i + 2)} << 16);
}
std::uint32_t le32(std::string_view b, std::size_t i) {
  return le16(b, i) | (le16(b, i + 2) << 16);
}

bool starts_with(std::string_view b, std::string_view prefix) {
  return b.substr(0, prefix.size()) == prefix;
}

ImageHeader fail(Status status, std::string detail) {
  ImageHeader h;
  h.status = status;
  h.detail = std::move(detail);
  return h;
}

ImageHeader ok(std::uint32_t width, std::uint32_t height) {
  ImageHeader h;
  if (width == 0 || height == 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF)
    return fail(Status::corrupt, "the header gives an invalid size");
  h.status = Status::ok;
  h.width = static_cast<int>(width);
  h.height = static_cast<int>(height);
  return h;
}

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);

// SOF0-SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
bool is_start_of_frame(std::uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

std::string pixels_text(int width, int height) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%dx%d pixels", width, height);
  return buf;
}

}  // namespace

std::string_view file_extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg: return "jpg";
    case ImageFormat::png: return "png";
    case ImageFormat::webp: return "webp";
  }
  return "bin";
}

std::string_view image_content_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg: return "image/jpeg";
    case ImageFormat::png: return "image/png";
    case ImageFormat::webp: return "image/webp";
  }
  return "application/octet-stream";
}

std::string_view format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg: return "JPEG";
    case ImageFormat::png: return "PNG";
    case ImageFormat::webp: return "WebP";
  }
  return "unknown";
}

std::optional<ImageFormat> sniff_format(std::string_view b) {
  if (b.size() >= 3 && byte_at(b, 0) == 0xFF && byte_at(b, 1) == 0xD8 && byte_at(b, 2) == 0xFF)
    return ImageFormat::jpeg;
  if (starts_with(b, kPngSignature)) return ImageFormat::png;
  if (b.size() >= 12 && starts_with(b, "RIFF") && b.substr(8, 4) == "WEBP") return ImageFormat::webp;
  return std::nullopt;
}

std::string_view other_format_name(std::string_view b) {
  if (starts_with(b, "GIF87a") || starts_with(b, "GIF89a")) return "GIF";
  if (starts_with(b, "BM")) return "BMP";
  if (starts_with(b, std::string_view("II*\0", 4)) || starts_with(b, std::string_view("MM\0*", 4)))
    return "TIFF";
  if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
    const auto brand = b.substr(8, 4);
    if (brand == "avif" || brand == "avis") return "AVIF";
    if (brand == "heic" || brand == "heix" || brand == "mif1" || brand == "msf1") return "HEIC";
  }
  if (starts_with(b, std::string_view("\0\0\1\0", 4))) return "ICO";
  if (starts_with(b, "%PDF")) return "PDF";
  if (starts_with(b, "<svg") || starts_with(b, "<?xml")) return "SVG";
  if (starts_with(b, std::string_view("\xFF\x0A", 2)) ||
      starts_with(b, std::string_view("\0\0\0\x0CJXL ", 8)))
    return "JPEG XL";
  if (starts_with(b, std::string_view("\0\0\0\x0CjP  ", 8))) return "JPEG 2000";
  return {};
}

ImageHeader read_png_header(std::string_view b) {
  if (!starts_with(b, kPngSignature)) return fail(Status::corrupt, "not a PNG file");
  // Signature (8), then the IHDR chunk: length (4) "IHDR" (4) width (4) height (4) + 5 bytes + CRC.
  if (b.size() < 33) return fail(Status::truncated, "the PNG file ends inside its header");
  if (be32(b, 8) != 13 || b.substr(12, 4) != "IHDR")
    return fail(Status::corrupt, "the PNG file does not start with an IHDR chunk");
  return ok(be32(b, 16), be32(b, 20));
}

ImageHeader read_jpeg_header(std::string_view b) {
  if (b.size() < 2 || byte_at(b, 0) != 0xFF || byte_at(b, 1) != 0xD8)
    return fail(Status::corrupt, "not a JPEG file");
  const auto truncated = [] { return fail(Status::truncated, "the JPEG file is truncated"); };
  std::optional<ImageHeader> frame;
  std::size_t pos = 2;
  for (;;) {
    // Decoders skip stray bytes between segments (with a warning); so do we.
    while (pos < b.size() && byte_at(b, pos) != 0xFF) ++pos;
    while (pos < b.size() && byte_at(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return truncated();
    const std::uint8_t marker = byte_at(b, pos++);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no payload
    if (marker == 0x00 || marker == 0xD8)
      return fail(Status::corrupt, "the JPEG file has a misplaced marker");
    if (marker == 0xD9) return fail(Status::corrupt, "the JPEG file has no image frame");
    if (pos + 2 > b.size()) return truncated();
    const std::size_t length = be16(b, pos);
    if (length < 2) return fail(Status::corrupt, "the JPEG file has a malformed segment");
    if (pos + length > b.size()) return truncated();
    if (is_start_of_frame(marker) && !frame) {
      // length (2), precision (1), height (2), width (2), components (1)
      if (length < 8) return fail(Status::corrupt, "the JPEG frame header is malformed");
      const std::uint32_t height = be16(b, pos + 3);
      const std::uint32_t width = be16(b, pos + 5);
      if (height == 0)  // the height would come later, in a DNL segment; no decoder we use reads it
        return fail(Status::unsupported, "JPEG files that define their height after the scan are not supported");
      frame = ok(width, height);
      if (frame->status != Status::ok) return *frame;
    }
    if (marker == 0xDA) {  // start of scan: entropy-coded data follows
      if (!frame) return fail(Status::corrupt, "the JPEG file has a scan before its frame header");
      // Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so the
      // first FF D9 after the scan starts is the real end of the image.
      if (b.find("\xFF\xD9", pos + length) == std::string_view::npos) return truncated();
      return *frame;
    }
    pos += length;
  }
}

ImageHeader read_webp_header(std::string_view b) {
  if (b.size() < 12 || !starts_with(b, "RIFF") || b.substr(8, 4) != "WEBP")
    return fail(Status::corrupt, "not a WebP file");
  const std::uint64_t riff_end = std::uint64_t{le32(b, 4)} + 8;
  if (riff_end > b.size()) return fail(Status::truncated, "the WebP file is truncated");
  if (riff_end < 20) return fail(Status::corrupt, "the WebP file has no image chunk");
  const std::string_view chunk = b.substr(12, 4);
  const std::uint64_t chunk_size = le32(b, 16);
  if (20 + chunk_size > riff_end) return fail(Status::truncated, "the WebP file is truncated");
  if (chunk == "VP8 ") {
    // Frame tag (3 bytes; bit 0 clear on a key frame), start code 9D 01 2A, then 14-bit
    // width and height, each with 2 scaling bits on top.
    if (chunk_size < 10) return fail(Status::corrupt, "the WebP VP8 header is malformed");
    if ((byte_at(b, 20) & 0x01) != 0 || byte_at(b, 23) != 0x9D || byte_at(b, 24) != 0x01 ||
        byte_at(b, 25) != 0x2A)
      return fail(Status::corrupt, "the WebP VP8 header is malformed");
    return ok(le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF);
  }
  if (chunk == "VP8L") {
    // Signature 0x2F, then width-1 (14 bits), height-1 (14 bits), alpha (1), version (3) = 0.
    if (chunk_size < 5 || byte_at(b, 20) != 0x2F)
      return fail(Status::corrupt, "the WebP VP8L header is malformed");
    const std::uint32_t bits = le32(b, 21);
    if ((bits >> 29) != 0) return fail(Status::corrupt, "the WebP VP8L header is malformed");
    return ok((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (chunk == "VP8X") {
    // Flags (1), reserved (3), canvas width-1 (24 bits), canvas height-1 (24 bits).
    if (chunk_size < 10) return fail(Status::corrupt, "the WebP VP8X header is malformed");
    if ((byte_at(b, 20) & 0x02) != 0)
      return fail(Status::unsupported, "animated WebP images are not supported");
    return ok(le24(b, 24) + 1, le24(b, 27) + 1);
  }
  return fail(Status::corrupt, "the WebP file has an unknown image chunk");
}

ImageCheck check_image(std::string_view bytes, const ImageLimits& limits) {
  ImageCheck check;
  using Problem = ImageCheck::Problem;
  if (bytes.size() > limits.max_bytes) {
    check.problem = Problem::too_many_bytes;
    check.message = "the image is larger than " + std::to_string(limits.max_bytes / (1024 * 1024)) + " MB";
    return check;
  }
  const auto format = sniff_format(bytes);
  if (!format) {
    check.problem = Problem::unsupported;
    const auto other = other_format_name(bytes);
    check.message = other.empty()
                        ? "unsupported image format: the data is not a JPEG, PNG or WebP image"
                        : "unsupported image format (" + std::string(other) + "); send JPEG, PNG or WebP";
    return check;
  }
  check.format = *format;
  const ImageHeader header = *format == ImageFormat::png    ? read_png_header(bytes)
                             : *format == ImageFormat::jpeg ? read_jpeg_header(bytes)
                                                            : read_webp_header(bytes);
  switch (header.status) {
    case Status::ok: break;
    case Status::unsupported:
      check.problem = Problem::unsupported;
      check.message = "unsupported image format: " + header.detail;
      return check;
    case Status::truncated:
    case Status::corrupt:
      check.problem = Problem::undecodable;
      check.message = "the image could not be decoded: " + header.detail;
      return check;
  }
  check.width = header.width;
  check.height = header.height;
  const std::string size = pixels_text(header.width, header.height);
  if (std::min(header.width, header.height) < limits.min_side) {
    check.problem = Problem::too_small;
    check.message = "the image is " + size + "; it must be at least " +
                    std::to_string(limits.min_side) + " pixels on each side";
  } else if (std::max(header.width, header.height) > limits.max_side) {
    check.problem = Problem::too_large;
    check.message = "the image is " + size + "; it may be at most " +
                    std::to_string(limits.max_side) + " pixels on each side";
  } else if (std::int64_t{header.width} * header.height > limits.max_pixels) {
    check.problem = Problem::too_many_pixels;
    check.message = "the image is " + size + "; it may have at most " +
                    std::to_string(limits.max_pixels / 1'000'000) + " megapixels";
  }
  return check;
}

}  // namespace orderflow::functions
