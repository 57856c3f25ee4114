// The image tests' world: the real model (../shared/models), Debian's WordNet and darknet
// photos, images made with OpenCV, and a temp dir per test. Heavy things (the recognizer, the
// WordNet matcher) are built once per test binary and shared; both are read-only after start.
#pragma once

#include "support/temp_dir.hpp"
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>

#include "adapters/opencv/opencv_recognizer.hpp"
#include "domain/wordnet_matcher.hpp"

namespace orderflow::image_test {

std::filesystem::path model_dir();
std::filesystem::path darknet_dir();  // /usr/share/darknet/data
bool have_model();                    // the model files and darknet photos are there

// Shared, built on first use (2 workers, the default view policy).
adapters::OpenCvRecognizer& shared_recognizer();
const domain::DescriptionMatcher& shared_matcher();

std::string read_file(const std::filesystem::path& path);
std::string darknet_photo(std::string_view name);  // "dog.jpg" -> its bytes

// An image of `width` x `height` with some structure (not flat), encoded as ".png", ".jpg"
// or ".webp".
std::string make_image(int width, int height, const std::string& extension);
std::string encode(const cv::Mat& image, const std::string& extension);

// Hand-made headers declaring any size (the pixels are not there): for the size checks.
std::string png_header(std::uint32_t width, std::uint32_t height);
std::string jpeg_header(std::uint16_t width, std::uint16_t height);
std::string webp_vp8x_header(std::uint32_t width, std::uint32_t height, bool animated = false);

std::string base64(std::string_view bytes);

using TempDir = test_support::TempDir;

#define SKIP_WITHOUT_MODEL()                                                          \
  do {                                                                                \
    if (!::orderflow::image_test::have_model())                                       \
      GTEST_SKIP() << "model files or darknet photos missing (see ../shared/models)"; \
  } while (0)

}  // namespace orderflow::image_test
