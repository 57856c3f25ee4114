#include "functions/image_header.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <vector>

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

// "96 MB", "2.4 million": the budgets in the messages, rounded up so that a value just over a
// limit never reads as equal to it.
std::string megabytes_text(std::int64_t bytes) {
  return std::to_string((bytes + 999'999) / 1'000'000) + " MB";
}
std::string millions_text(std::int64_t n) {
  return std::to_string((n + 999'999) / 1'000'000) + " million";
}

// PNG: the bit depths each colour type allows (PNG 1.2, table 11.1), and the channels OpenCV
// decodes it to (grey stays one channel; grey with alpha and a palette become BGRA).
struct PngColour {
  std::uint8_t type;
  std::string_view depths;  // the allowed bit depths, as bytes
  int channels;
};
constexpr std::array<PngColour, 5> kPngColours{{
    {0, std::string_view("\x01\x02\x04\x08\x10", 5), 1},
    {2, std::string_view("\x08\x10", 2), 3},
    {3, std::string_view("\x01\x02\x04\x08", 4), 4},
    {4, std::string_view("\x08\x10", 2), 4},
    {6, std::string_view("\x08\x10", 2), 4},
}};

// JPEG frame types libjpeg decodes: baseline, extended and progressive, Huffman or arithmetic.
// Lossless (SOF3, SOF11) and hierarchical (SOF5-7, SOF13-15) frames it refuses.
bool is_decodable_frame(std::uint8_t marker) {
  return marker == 0xC0 || marker == 0xC1 || marker == 0xC2 || marker == 0xC9 || marker == 0xCA;
}

// One component of a JPEG frame: its id and how many samples the decoder keeps of it (whole
// 8x8 blocks of its subsampled plane).
struct JpegComponent {
  std::uint8_t id = 0;
  std::int64_t samples = 0;
};

// From `pos` inside entropy-coded data, the position of the marker that ends it, or npos when
// the file ends first. In the data, 0xFF is followed by 0x00 (a stuffed byte), a restart
// marker, or more 0xFF fill bytes before a marker.
std::size_t end_of_entropy_data(std::string_view b, std::size_t pos) {
  while (pos < b.size()) {
    const void* ff = std::memchr(b.data() + pos, 0xFF, b.size() - pos);
    if (ff == nullptr) return std::string_view::npos;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(ff) - b.data());
    std::size_t next = at + 1;
    while (next < b.size() && byte_at(b, next) == 0xFF) ++next;
    if (next >= b.size()) return std::string_view::npos;
    const std::uint8_t m = byte_at(b, next);
    if (m != 0x00 && (m < 0xD0 || m > 0xD7)) return at;
    pos = next + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view file_extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "jpg";
    case ImageFormat::png:
      return "png";
    case ImageFormat::webp:
      return "webp";
  }
  return "bin";
}

std::string_view image_content_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "image/jpeg";
    case ImageFormat::png:
      return "image/png";
    case ImageFormat::webp:
      return "image/webp";
  }
  return "application/octet-stream";
}

std::string_view format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "JPEG";
    case ImageFormat::png:
      return "PNG";
    case ImageFormat::webp:
      return "WebP";
  }
  return "unknown";
}

std::optional<ImageFormat> sniff_format(std::string_view b) {
  if (b.size() >= 3 && byte_at(b, 0) == 0xFF && byte_at(b, 1) == 0xD8 && byte_at(b, 2) == 0xFF)
    return ImageFormat::jpeg;
  if (starts_with(b, kPngSignature)) return ImageFormat::png;
  if (b.size() >= 12 && starts_with(b, "RIFF") && b.substr(8, 4) == "WEBP")
    return ImageFormat::webp;
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
  // Signature (8), then the IHDR chunk: length (4) "IHDR" (4) width (4) height (4), bit depth,
  // colour type, compression, filter and interlace method (1 each), CRC (4).
  if (b.size() < 33) return fail(Status::truncated, "the PNG file ends inside its header");
  if (be32(b, 8) != 13 || b.substr(12, 4) != "IHDR")
    return fail(Status::corrupt, "the PNG file does not start with an IHDR chunk");
  const std::uint8_t depth = byte_at(b, 24);
  const std::uint8_t type = byte_at(b, 25);
  const auto colour = std::find_if(kPngColours.begin(), kPngColours.end(),
                                   [&](const PngColour& c) { return c.type == type; });
  if (colour == kPngColours.end())
    return fail(Status::corrupt, "the PNG header gives an invalid colour type");
  if (colour->depths.find(static_cast<char>(depth)) == std::string_view::npos)
    return fail(Status::corrupt, "the PNG header gives an invalid bit depth for its colour type");
  if (byte_at(b, 26) != 0 || byte_at(b, 27) != 0 || byte_at(b, 28) > 1)
    return fail(Status::corrupt,
                "the PNG header gives an unknown compression, filter or interlace method");
  ImageHeader h = ok(be32(b, 16), be32(b, 20));
  h.bits_per_sample = depth;
  h.channels = colour->channels;
  return h;
}

ImageHeader read_jpeg_header(std::string_view b) {
  if (b.size() < 2 || byte_at(b, 0) != 0xFF || byte_at(b, 1) != 0xD8)
    return fail(Status::corrupt, "not a JPEG file");
  const auto truncated = [] { return fail(Status::truncated, "the JPEG file is truncated"); };
  std::optional<ImageHeader> frame;
  std::vector<JpegComponent> components;
  int scans = 0;
  std::int64_t scan_samples = 0;
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
    if (marker == 0xD9) {  // end of image
      if (!frame) return fail(Status::corrupt, "the JPEG file has no image frame");
      if (scans == 0) return fail(Status::corrupt, "the JPEG file has no image data");
      frame->scans = scans;
      frame->scan_samples = scan_samples;
      return *frame;
    }
    if (pos + 2 > b.size()) return truncated();
    const std::size_t length = be16(b, pos);
    if (length < 2) return fail(Status::corrupt, "the JPEG file has a malformed segment");
    if (pos + length > b.size()) return truncated();
    if (is_start_of_frame(marker) && !frame) {
      // length (2), precision (1), height (2), width (2), components (1), then per component
      // id (1), sampling factors (1: horizontal << 4 | vertical), quantisation table (1).
      if (length < 8) return fail(Status::corrupt, "the JPEG frame header is malformed");
      if (!is_decodable_frame(marker))
        return fail(Status::unsupported, "lossless and hierarchical JPEG files are not supported");
      const std::uint32_t precision = byte_at(b, pos + 2);
      const std::uint32_t height = be16(b, pos + 3);
      const std::uint32_t width = be16(b, pos + 5);
      const std::size_t count = byte_at(b, pos + 7);
      if (height == 0)  // the height would come later, in a DNL segment; no decoder we use reads it
        return fail(Status::unsupported,
                    "JPEG files that define their height after the scan are not supported");
      if (count == 0 || length != 8 + 3 * count)
        return fail(Status::corrupt, "the JPEG frame header is malformed");
      if (precision != 8)
        return fail(Status::unsupported,
                    std::to_string(precision) +
                        "-bit JPEG files are not supported; send 8 bits per channel");
      frame = ok(width, height);
      if (frame->status != Status::ok) return *frame;
      frame->bits_per_sample = 8;
      frame->channels = 3;  // decoded to BGR, whatever the components
      std::uint32_t h_max = 1, v_max = 1;
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t factors = byte_at(b, pos + 9 + 3 * i);
        const std::uint32_t h = factors >> 4, v = factors & 0x0F;
        if (h < 1 || h > 4 || v < 1 || v > 4)
          return fail(Status::corrupt, "the JPEG frame header gives invalid sampling factors");
        h_max = std::max(h_max, h);
        v_max = std::max(v_max, v);
      }
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t factors = byte_at(b, pos + 9 + 3 * i);
        // A plane of ceil(size * factor / max) samples, in whole 8x8 blocks.
        const auto blocks = [](std::uint64_t size, std::uint32_t factor, std::uint32_t most) {
          return static_cast<std::int64_t>(((size * factor + most - 1) / most + 7) / 8);
        };
        components.push_back(
            {byte_at(b, pos + 8 + 3 * i),
             blocks(width, factors >> 4, h_max) * blocks(height, factors & 0x0F, v_max) * 64});
      }
    }
    if (marker == 0xDA) {  // start of scan: entropy-coded data follows
      if (!frame) return fail(Status::corrupt, "the JPEG file has a scan before its frame header");
      // length (2), components (1), then per component id (1) and tables (1), then 3 bytes.
      const std::size_t count = length >= 3 ? byte_at(b, pos + 2) : 0;
      if (count == 0 || count > 4 || length != 6 + 2 * count)
        return fail(Status::corrupt, "the JPEG scan header is malformed");
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t id = byte_at(b, pos + 3 + 2 * i);
        const auto c = std::find_if(components.begin(), components.end(),
                                    [&](const JpegComponent& k) { return k.id == id; });
        if (c == components.end())
          return fail(Status::corrupt, "a JPEG scan names a component the frame does not have");
        scan_samples += c->samples;
      }
      ++scans;
      pos = end_of_entropy_data(b, pos + length);
      if (pos == std::string_view::npos) return truncated();
      continue;
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
    return ok(le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF);  // 3 channels, no alpha
  }
  if (chunk == "VP8L") {
    // Signature 0x2F, then width-1 (14 bits), height-1 (14 bits), alpha (1), version (3) = 0.
    if (chunk_size < 5 || byte_at(b, 20) != 0x2F)
      return fail(Status::corrupt, "the WebP VP8L header is malformed");
    const std::uint32_t bits = le32(b, 21);
    if ((bits >> 29) != 0) return fail(Status::corrupt, "the WebP VP8L header is malformed");
    ImageHeader h = ok((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    if ((bits >> 28) & 1) h.channels = 4;  // alpha is used
    return h;
  }
  if (chunk == "VP8X") {
    // Flags (1), reserved (3), canvas width-1 (24 bits), canvas height-1 (24 bits).
    if (chunk_size < 10) return fail(Status::corrupt, "the WebP VP8X header is malformed");
    if ((byte_at(b, 20) & 0x02) != 0)
      return fail(Status::unsupported, "animated WebP images are not supported");
    ImageHeader h = ok(le24(b, 24) + 1, le24(b, 27) + 1);
    if ((byte_at(b, 20) & 0x10) != 0) h.channels = 4;  // has alpha
    return h;
  }
  return fail(Status::corrupt, "the WebP file has an unknown image chunk");
}

ImageCheck check_image(std::string_view bytes, const ImageLimits& limits) {
  ImageCheck check;
  using Problem = ImageCheck::Problem;
  if (bytes.size() > limits.max_bytes) {
    check.problem = Problem::too_many_bytes;
    check.message = "the image is larger than " +
                    std::to_string(limits.max_bytes / (std::size_t{1024} * 1024)) + " MB";
    return check;
  }
  const auto format = sniff_format(bytes);
  if (!format) {
    check.problem = Problem::unsupported;
    const auto other = other_format_name(bytes);
    check.message =
        other.empty()
            ? "unsupported image format: the data is not a JPEG, PNG or WebP image"
            : "unsupported image format (" + std::string(other) + "); send JPEG, PNG or WebP";
    return check;
  }
  check.format = *format;
  const ImageHeader header = *format == ImageFormat::png    ? read_png_header(bytes)
                             : *format == ImageFormat::jpeg ? read_jpeg_header(bytes)
                                                            : read_webp_header(bytes);
  switch (header.status) {
    case Status::ok:
      break;
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
  } else if (const std::int64_t pixels = std::int64_t{header.width} * header.height;
             pixels > limits.max_pixels) {
    check.problem = Problem::too_many_pixels;
    check.message = "the image is " + size + "; it may have at most " +
                    std::to_string(limits.max_pixels / 1'000'000) + " megapixels";
  } else if (const std::int64_t decoded =
                 pixels * header.channels * (header.bits_per_sample > 8 ? 2 : 1);
             decoded > limits.max_decoded_bytes) {
    check.problem = Problem::too_much_memory;
    check.message = "the image is " + size + " at " + std::to_string(header.bits_per_sample) +
                    " bits per channel, " + megabytes_text(decoded) +
                    " once decoded; it may take at most " +
                    megabytes_text(limits.max_decoded_bytes) +
                    " (send it with 8 bits per channel or fewer pixels)";
  } else if (header.scans > limits.max_jpeg_scans) {
    check.problem = Problem::too_costly;
    check.message = "the JPEG image has " + std::to_string(header.scans) +
                    " scans; it may have at most " + std::to_string(limits.max_jpeg_scans) +
                    " (save it as a baseline JPEG)";
  } else if (header.scan_samples > limits.max_jpeg_scan_samples) {
    check.problem = Problem::too_costly;
    check.message = "the JPEG image would take too long to decode: its " +
                    std::to_string(header.scans) + " scans of " + size + " cover " +
                    millions_text(header.scan_samples) + " samples, at most " +
                    millions_text(limits.max_jpeg_scan_samples) +
                    " are accepted (save it as a baseline JPEG or with fewer pixels)";
  }
  return check;
}

}  // namespace orderflow::functions
