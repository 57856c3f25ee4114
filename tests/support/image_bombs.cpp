#include "support/image_bombs.hpp"

#include <zlib.h>

#include <opencv2/imgcodecs.hpp>
#include <stdexcept>
#include <vector>

namespace orderflow::test_support {
namespace {

void put_be32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xFF);
}

void put_chunk(std::string& png, std::string_view type, std::string_view data) {
  put_be32(png, static_cast<std::uint32_t>(data.size()));
  std::string body(type);
  body += data;
  png += body;
  put_be32(png, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                                 static_cast<uInt>(body.size()))));
}

}  // namespace

std::string repeated_scan_jpeg(int width, int height, int extra_scans) {
  // One flat colour: each scan takes a few bytes, as a bomb wants them.
  const cv::Mat image(height, width, CV_8UC3, cv::Scalar(90, 140, 200));
  std::vector<unsigned char> out;
  if (!cv::imencode(".jpg", image, out, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}))
    throw std::runtime_error("imencode failed");
  const std::string jpeg(out.begin(), out.end());
  const std::size_t eoi = jpeg.size() - 2;
  const std::size_t last_scan = jpeg.rfind("\xFF\xDA");
  if (jpeg.substr(eoi) != "\xFF\xD9" || last_scan == std::string::npos)
    throw std::runtime_error("unexpected JPEG layout");
  const std::string scan = jpeg.substr(last_scan, eoi - last_scan);
  std::string bomb = jpeg.substr(0, eoi);
  bomb.reserve(bomb.size() + scan.size() * static_cast<std::size_t>(extra_scans) + 2);
  for (int i = 0; i < extra_scans; ++i) bomb += scan;
  bomb += "\xFF\xD9";
  return bomb;
}

int count_jpeg_scans(const std::string& jpeg) {
  int scans = 0;
  for (std::size_t at = jpeg.find("\xFF\xDA"); at != std::string::npos;
       at = jpeg.find("\xFF\xDA", at + 2))
    ++scans;
  return scans;
}

std::string flat_png(std::uint32_t width, std::uint32_t height, int bit_depth, int colour_type) {
  const int samples = colour_type == 0 ? 1 : colour_type == 2 ? 3 : colour_type == 4 ? 2 : 4;
  const std::size_t row = 1 + static_cast<std::size_t>(width) * samples * bit_depth / 8;
  const std::vector<unsigned char> zeros(row, 0);  // filter type 0, then black samples

  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15, 9, Z_RLE) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string idat;
  std::vector<unsigned char> buffer(1 << 16);
  const auto drain = [&](int flush) {
    int rc = Z_OK;
    do {
      z.next_out = buffer.data();
      z.avail_out = static_cast<uInt>(buffer.size());
      rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
      idat.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - z.avail_out);
    } while (z.avail_out == 0);
    return rc;
  };
  for (std::uint32_t y = 0; y < height; ++y) {
    z.next_in = const_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(zeros.size());
    drain(Z_NO_FLUSH);
  }
  while (drain(Z_FINISH) != Z_STREAM_END) {
  }
  deflateEnd(&z);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr += static_cast<char>(bit_depth);
  ihdr += static_cast<char>(colour_type);
  ihdr += std::string(3, '\0');  // deflate, adaptive filtering, not interlaced
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", idat);
  put_chunk(png, "IEND", {});
  return png;
}

}  // namespace orderflow::test_support
