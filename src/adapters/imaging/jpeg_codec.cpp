// libjpeg reports errors through error_exit, which must not return: ours longjmps back into the
// function that called the library. Those functions (read_header, read_pixels) hold only
// trivially destructible locals, so the jump skips no destructor; everything with one (the
// decompressor, the pixels) lives in their callers.
#include <csetjmp>
#include <vector>

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jerror.h>
#include <jpeglib.h>
// clang-format on

#include "adapters/imaging/codecs.hpp"

namespace orderflow::adapters::imaging {

namespace {

struct ErrorManager {
  jpeg_error_mgr library;  // first, so the library's jpeg_error_mgr* is also ours
  std::jmp_buf jump;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<ErrorManager*>(cinfo->err)->jump, 1);
}

// Warnings ("extraneous bytes before marker", ...) are ignored as imdecode ignored them: real
// camera files have them. Running out of data is not: libjpeg would pad the rest with grey.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error(cinfo);
}

struct Decompressor {
  Decompressor() {
    cinfo.err = jpeg_std_error(&errors.library);
    errors.library.error_exit = on_error;
    errors.library.emit_message = on_message;
  }
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }  // a no-op before jpeg_create_decompress
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  ErrorManager errors{};
  jpeg_decompress_struct cinfo{};
};

struct Header {
  int width = 0;
  int height = 0;
  bool cmyk = false;
  int orientation = 1;
};

bool read_header(Decompressor& d, std::string_view encoded, Header& header) {
  if (setjmp(d.errors.jump) != 0) return false;
  jpeg_create_decompress(&d.cinfo);
  jpeg_mem_src(&d.cinfo, reinterpret_cast<const unsigned char*>(encoded.data()),
               static_cast<unsigned long>(encoded.size()));
  jpeg_save_markers(&d.cinfo, JPEG_APP0 + 1, 0xFFFF);
  if (jpeg_read_header(&d.cinfo, TRUE) != JPEG_HEADER_OK) return false;
  // Four components are CMYK or YCCK (libjpeg turns YCCK into CMYK); the rest goes to BGR.
  header.cmyk = d.cinfo.num_components == 4;
  d.cinfo.out_color_space = header.cmyk ? JCS_CMYK : JCS_EXT_BGR;
  header.width = static_cast<int>(d.cinfo.image_width);
  header.height = static_cast<int>(d.cinfo.image_height);
  // The first APP1 segment is where Exif lives (imdecode looked at that one only).
  for (jpeg_saved_marker_ptr m = d.cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    header.orientation =
        exif_orientation(std::string_view(reinterpret_cast<const char*>(m->data), m->data_length));
    break;
  }
  return true;
}

// imdecode's CMYK -> BGR for the inverted CMYK that Adobe's encoders write (and libjpeg hands
// back as stored): each colour scaled by K.
void cmyk_to_bgr(const unsigned char* cmyk, unsigned char* bgr, int width) {
  for (int x = 0; x < width; ++x, cmyk += 4, bgr += 3) {
    const int k = cmyk[3];
    for (int c = 0; c < 3; ++c)
      bgr[2 - c] = static_cast<unsigned char>(k - ((255 - cmyk[c]) * k >> 8));
  }
}

bool read_pixels(Decompressor& d, cv::Mat& bgr, unsigned char* cmyk_row) {
  if (setjmp(d.errors.jump) != 0) return false;
  jpeg_start_decompress(&d.cinfo);
  if (static_cast<int>(d.cinfo.output_width) != bgr.cols ||
      static_cast<int>(d.cinfo.output_height) != bgr.rows ||
      d.cinfo.output_components != (cmyk_row != nullptr ? 4 : 3))
    return false;
  while (d.cinfo.output_scanline < d.cinfo.output_height) {
    const int y = static_cast<int>(d.cinfo.output_scanline);
    JSAMPROW row = cmyk_row != nullptr ? cmyk_row : bgr.ptr<unsigned char>(y);
    if (jpeg_read_scanlines(&d.cinfo, &row, 1) != 1) return false;
    if (cmyk_row != nullptr) cmyk_to_bgr(cmyk_row, bgr.ptr<unsigned char>(y), bgr.cols);
  }
  // Not jpeg_finish_decompress: whatever follows the last row cannot change the picture.
  return true;
}

}  // namespace

cv::Mat decode_jpeg(std::string_view encoded, std::int64_t max_pixels) {
  Decompressor d;
  Header header;
  if (!read_header(d, encoded, header)) return {};
  if (!within_pixel_limit(header.width, header.height, max_pixels)) return {};
  cv::Mat bgr(header.height, header.width, CV_8UC3);
  std::vector<unsigned char> cmyk_row(header.cmyk ? std::size_t{4} * header.width : 0);
  if (!read_pixels(d, bgr, header.cmyk ? cmyk_row.data() : nullptr)) return {};
  return apply_orientation(bgr, header.orientation);
}

}  // namespace orderflow::adapters::imaging
