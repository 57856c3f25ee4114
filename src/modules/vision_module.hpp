// The product-image check as a loadable module, orderflow-vision.so: OpenCV (DNN, imgproc,
// core, with protobuf, TBB and BLAS behind them) and the JPEG, PNG and WebP decoders are linked
// into it rather than into the binary, which loads it only when `recognizer` names a model.
// A process with `recognizer = none` (and `orderflow --version`, `migrate`, `worker`) maps none
// of those libraries: it starts faster and stays smaller.
//
// The module is built from the same tree as the binary and loaded with the same libstdc++, so
// the entry point passes C++ types; kAbiVersion changes whenever Request or Result does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "ports/image_recognizer.hpp"

namespace orderflow::modules::vision {

inline constexpr int kAbiVersion = 1;
inline constexpr const char* kFileName = "orderflow-vision.so";
inline constexpr const char* kEntryPoint = "orderflow_vision_open";

struct Request {
  int abi_version = kAbiVersion;
  std::filesystem::path model_dir;
  std::int64_t max_pixels = 0;    // the decode limit (functions::ImageLimits::max_pixels)
  int workers = 1;                // networks, each with its own thread
  std::size_t cache_entries = 0;  // results kept by photo digest; 0: no cache
};

struct Result {
  std::unique_ptr<ports::ImageRecognizer> recognizer;  // set on success
  std::string error;                                   // else what went wrong
};

// extern "C" void orderflow_vision_open(const Request&, Result&) noexcept
using EntryPoint = void (*)(const Request&, Result&) noexcept;

}  // namespace orderflow::modules::vision
