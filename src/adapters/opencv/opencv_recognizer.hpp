// ImageRecognizer on the CPU: MobileNetV2 (ImageNet-1k, int8 ONNX) through OpenCV's DNN
// module. A fixed pool of worker threads, each with its own cv::dnn::Net (a Net is not
// thread-safe), takes jobs from a bounded queue; callers block until their job is done, and
// get `busy` at once when the queue is full.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ports/image_recognizer.hpp"

namespace orderflow::adapters {

struct OpenCvRecognizerOptions {
  std::filesystem::path model_dir;  // holds mobilenetv2-12-int8.onnx and imagenet1k_labels.tsv
  int workers = 0;                  // threads (each with its own Net); 0: one per core
  int queue_capacity = 0;           // jobs waiting for a worker; 0: 4 per worker
  // Also classify the whole image padded to a square, and average the two views'
  // probabilities, when the longer side is at least this many times the shorter (the centre
  // crop cuts the ends off long products). 0 turns the second view off.
  double padded_view_min_aspect = 1.5;
  // The decode limit, width x height: a larger image is undecodable, refused from its header
  // before any pixel memory is allocated. The upload check's figure (functions::ImageLimits),
  // passed in by whoever builds the recognizer; 0 is refused by the constructor.
  std::int64_t max_pixels = 0;
};

class OpenCvRecognizer final : public ports::ImageRecognizer {
 public:
  static constexpr std::string_view kModelFile = "mobilenetv2-12-int8.onnx";
  static constexpr std::string_view kLabelsFile = "imagenet1k_labels.tsv";

  // Loads the labels and one Net per worker, runs one warm-up pass on each, and starts the
  // workers. Throws std::runtime_error naming the file when the model or labels are missing
  // or do not fit together.
  explicit OpenCvRecognizer(OpenCvRecognizerOptions options);
  // Finishes the queued jobs, then stops the workers.
  ~OpenCvRecognizer() override;
  OpenCvRecognizer(const OpenCvRecognizer&) = delete;
  OpenCvRecognizer& operator=(const OpenCvRecognizer&) = delete;

  const std::vector<ports::ImageClass>& classes() const override { return classes_; }
  ports::Recognition recognize(std::string_view encoded, int top_k) override;

  int worker_count() const { return static_cast<int>(workers_.size()); }

 private:
  struct Job;
  void work(std::size_t worker);

  OpenCvRecognizerOptions options_;
  std::vector<ports::ImageClass> classes_;
  struct Model;
  std::vector<std::unique_ptr<Model>> models_;  // one per worker

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job*> queue_;  // GUARDED_BY(mutex_); jobs live on their callers' stacks
  std::size_t capacity_ = 0;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::vector<std::thread> workers_;
};

// The labels file: one "wnid<TAB>synonyms" line per class, in output order.
// Throws std::runtime_error naming the file when it cannot be read or parsed.
std::vector<ports::ImageClass> load_imagenet_labels(const std::filesystem::path& file);

}  // namespace orderflow::adapters
