// orderflow-vision.so's one exported symbol (see vision_module.hpp).
#include "modules/vision_module.hpp"

#include <exception>

#include "adapters/opencv/caching_recognizer.hpp"
#include "adapters/opencv/opencv_recognizer.hpp"

namespace vision = orderflow::modules::vision;

extern "C" __attribute__((visibility("default"))) void orderflow_vision_open(
    const vision::Request& request, vision::Result& result) noexcept {
  if (request.abi_version != vision::kAbiVersion) {
    result.error = "orderflow-vision.so is from another build (interface " +
                   std::to_string(vision::kAbiVersion) + ", the binary wants " +
                   std::to_string(request.abi_version) + ")";
    return;
  }
  try {
    std::unique_ptr<orderflow::ports::ImageRecognizer> recognizer =
        std::make_unique<orderflow::adapters::OpenCvRecognizer>(
            orderflow::adapters::OpenCvRecognizerOptions{.model_dir = request.model_dir,
                                                         .workers = request.workers,
                                                         .max_pixels = request.max_pixels});
    if (request.cache_entries > 0)
      recognizer = std::make_unique<orderflow::adapters::CachingRecognizer>(std::move(recognizer),
                                                                            request.cache_entries);
    result.recognizer = std::move(recognizer);
  } catch (const std::exception& e) {
    result.error = e.what();
  } catch (...) {
    result.error = "the image model failed to load";
  }
}
