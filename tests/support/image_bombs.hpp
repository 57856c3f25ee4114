// Decompression bombs made in code (no binary test files): valid images whose few bytes cost a
// decoder minutes of CPU or hundreds of megabytes. Shared by the image and end-to-end tests.
#pragma once

#include <cstdint>
#include <string>

namespace orderflow::test_support {

// A flat progressive JPEG of width x height (4:2:0, libjpeg's standard script of 10 scans) with its
// last scan repeated `extra_scans` more times before the end-of-image marker. Decoders accept
// the repeats (with a warning) and walk the whole image once for each.
std::string repeated_scan_jpeg(int width, int height, int extra_scans);

// The SOS markers in a JPEG without embedded thumbnails (scan data never contains FF DA).
int count_jpeg_scans(const std::string& jpeg);

// A valid, flat (all zero) PNG of any size: IHDR, one IDAT deflated as it is generated (so a
// 40-megapixel image costs megabytes of memory, not hundreds), IEND, every CRC right.
// `colour_type`: 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA; `bit_depth` 8 or 16.
std::string flat_png(std::uint32_t width, std::uint32_t height, int bit_depth, int colour_type);

}  // namespace orderflow::test_support
