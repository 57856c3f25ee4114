// Loading orderflow's optional modules (see modules/vision_module.hpp). A module is looked for
// beside the binary, then in ../lib/orderflow (the installed layout), then in the build tree the
// binary was built in (so test binaries in a subdirectory find it). A loaded module stays
// loaded for the life of the process: objects it made may still run at exit.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "modules/vision_module.hpp"
#include "ports/image_recognizer.hpp"

namespace orderflow::runtime {

// Where `file` is, or nullopt when none of the places has it.
std::optional<std::filesystem::path> find_module(std::string_view file);

// The recognizer orderflow-vision.so makes. Throws std::runtime_error saying what is missing or
// why the module or the model could not be loaded.
std::unique_ptr<ports::ImageRecognizer> open_vision_module(const modules::vision::Request& request);

}  // namespace orderflow::runtime
