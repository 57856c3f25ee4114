// The loadable modules: found from a test binary (through the build tree), and the vision module
// makes a working recognizer whose result type and errors cross the module boundary.
#include "runtime/modules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "functions/image_header.hpp"
#include "runtime/config.hpp"

namespace orderflow::runtime {
namespace {

using ::testing::HasSubstr;

std::filesystem::path model_dir() {
  for (const auto& dir : default_model_dir_candidates())
    if (std::filesystem::exists(std::filesystem::path(dir) / "mobilenetv2-12-int8.onnx"))
      return dir;
  return {};
}

TEST(Modules, TheVisionModuleIsFoundAndAMissingOneIsNot) {
  const auto found = find_module(modules::vision::kFileName);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->filename(), "orderflow-vision.so");
  EXPECT_FALSE(find_module("orderflow-no-such-module.so"));
}

TEST(Modules, TheVisionModuleClassifiesARealPhoto) {
  const auto dir = model_dir();
  if (dir.empty()) GTEST_SKIP() << "no model directory";
  const auto recognizer = open_vision_module(
      {.model_dir = dir, .max_pixels = functions::ImageLimits{}.max_pixels, .cache_entries = 4});
  ASSERT_EQ(recognizer->classes().size(), 1000u);
  std::ifstream in("/usr/share/darknet/data/dog.jpg", std::ios::binary);
  if (!in) GTEST_SKIP() << "darknet's photos are not installed";
  const std::string photo{std::istreambuf_iterator<char>(in), {}};
  const auto r = recognizer->recognize(photo, 5);
  ASSERT_EQ(r.status, ports::Recognition::Status::ok);
  ASSERT_FALSE(r.top.empty());
  EXPECT_THAT(recognizer->classes()[r.top[0].index].label, HasSubstr("malamute"));
  EXPECT_EQ(recognizer->recognize("not an image", 5).status,
            ports::Recognition::Status::undecodable);
}

TEST(Modules, AModelDirectoryWithoutTheModelIsAnErrorThatNamesTheFile) {
  const auto empty =
      std::filesystem::temp_directory_path() / ("orderflow-no-model-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  try {
    (void)open_vision_module({.model_dir = empty, .max_pixels = 1000});
    FAIL() << "loaded a model from an empty directory";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("imagenet1k_labels.tsv"));
  }
  std::filesystem::remove_all(empty);
}

}  // namespace
}  // namespace orderflow::runtime
