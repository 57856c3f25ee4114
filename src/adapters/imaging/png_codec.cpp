// libpng reports errors by longjmp to png_jmpbuf. The functions that call it (read_header,
// read_pixels) hold only trivially destructible locals, so the jump skips no destructor; the
// read struct and the pixels live in their callers.
#include <png.h>

#include <csetjmp>
#include <cstring>
#include <vector>

#include "adapters/imaging/codecs.hpp"

namespace orderflow::adapters::imaging {

namespace {

struct Source {
  std::string_view bytes;
  std::size_t at = 0;
};

void read_source(png_structp png, png_bytep out, png_size_t size) {
  auto* source = static_cast<Source*>(png_get_io_ptr(png));
  if (size > source->bytes.size() - source->at) png_error(png, "truncated");
  std::memcpy(out, source->bytes.data() + source->at, size);
  source->at += size;
}

[[noreturn]] void on_error(png_structp png, png_const_charp /*message*/) { png_longjmp(png, 1); }
void on_warning(png_structp /*png*/, png_const_charp /*message*/) {}  // imdecode went on too

struct Reader {
  Reader()
      : png(png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, on_error, on_warning)),
        info(png != nullptr ? png_create_info_struct(png) : nullptr) {}
  ~Reader() { png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  png_structp png;
  png_infop info;
};

struct Header {
  int width = 0;
  int height = 0;
  int type = 0;  // CV_8UC1 ... CV_16UC4
};

// The picture imdecode(IMREAD_UNCHANGED) made of a PNG, and the libpng transforms it asked for,
// in its order: 16 bits kept (little-endian) or 8; alpha kept for an alpha channel or a tRNS
// chunk on a colour or palette image (4 channels), else stripped; palettes and grey below 8
// bits expanded; colour as BGR, grey with alpha as grey-grey-grey-alpha.
bool read_header(Reader& r, Source& source, Header& header) {
  if (setjmp(png_jmpbuf(r.png)) != 0) return false;
  png_set_read_fn(r.png, &source, read_source);
  png_read_info(r.png, r.info);
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;
  int color_type = 0;
  png_get_IHDR(r.png, r.info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  header.width = static_cast<int>(width);
  header.height = static_cast<int>(height);

  int channels = 1;
  if (color_type == PNG_COLOR_TYPE_RGB || color_type == PNG_COLOR_TYPE_PALETTE) {
    channels = png_get_valid(r.png, r.info, PNG_INFO_tRNS) != 0 ? 4 : 3;
  } else if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA || color_type == PNG_COLOR_TYPE_RGB_ALPHA) {
    channels = 4;
  }
  const bool sixteen = bit_depth == 16;
  header.type = CV_MAKETYPE(sixteen ? CV_16U : CV_8U, channels);

  if (sixteen) png_set_swap(r.png);
  if (channels < 4) {
    png_set_strip_alpha(r.png);
  } else {
    png_set_tRNS_to_alpha(r.png);
  }
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8)
    png_set_expand_gray_1_2_4_to_8(r.png);
  if ((color_type & PNG_COLOR_MASK_COLOR) != 0) {
    png_set_bgr(r.png);
  } else if (channels > 1) {
    png_set_gray_to_rgb(r.png);
  }
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  return png_get_channels(r.png, r.info) == channels &&
         png_get_bit_depth(r.png, r.info) == (sixteen ? 16 : 8);
}

bool read_pixels(Reader& r, png_bytepp rows) {
  if (setjmp(png_jmpbuf(r.png)) != 0) return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);  // a file cut before IEND, or a bad CRC after the pixels, fails
  return true;
}

}  // namespace

cv::Mat decode_png(std::string_view encoded, std::int64_t max_pixels) {
  Reader r;
  if (r.png == nullptr || r.info == nullptr) return {};
  Source source{encoded};
  Header header;
  if (!read_header(r, source, header)) return {};
  if (!within_pixel_limit(header.width, header.height, max_pixels)) return {};
  cv::Mat image(header.height, header.width, header.type);
  if (png_get_rowbytes(r.png, r.info) != image.cols * image.elemSize()) return {};
  std::vector<png_bytep> rows(static_cast<std::size_t>(image.rows));
  for (int y = 0; y < image.rows; ++y) rows[static_cast<std::size_t>(y)] = image.ptr(y);
  if (!read_pixels(r, rows.data())) return {};
  return image;
}

}  // namespace orderflow::adapters::imaging
