// Uploaded photos (JPEG, PNG, WebP) from memory to the 8-bit BGR picture the recognizer sees,
// with libjpeg-turbo, libpng and libwebp directly (OpenCV's imgcodecs would link GDAL, poppler
// and a hundred more libraries for three formats). The picture is what cv::imdecode gave before:
// a JPEG in IMREAD_COLOR (EXIF orientation applied, CMYK and grey to BGR), a PNG or WebP in
// IMREAD_UNCHANGED, then 16 bits scaled to 8, grey to 3 channels and alpha laid on white.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string_view>

namespace orderflow::adapters::imaging {

// The bytes as an 8-bit, 3-channel BGR picture, or an empty Mat when they do not decode: not one
// of the three formats, truncated, corrupt, or over max_pixels (width x height, refused from the
// header before any pixel memory is allocated). A library error never escapes: it is an empty
// Mat. Thread-safe (no shared state).
[[nodiscard]] cv::Mat decode_bgr(std::string_view encoded, std::int64_t max_pixels);

}  // namespace orderflow::adapters::imaging
