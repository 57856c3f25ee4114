#include "adapters/opencv/opencv_recognizer.hpp"

#include <algorithm>
#include <fstream>
#include <future>
#include <numeric>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "adapters/imaging/decode_image.hpp"
#include "adapters/opencv/imagenet_preprocess.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters {

struct OpenCvRecognizer::Model {
  cv::dnn::Net net;
};

struct OpenCvRecognizer::Job {
  std::string_view encoded;
  int top_k = 0;
  std::promise<ports::Recognition> done;
};

namespace {

namespace fs = std::filesystem;

cv::dnn::Net load_net(const fs::path& file) {
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(file.string());
  } catch (const cv::Exception& e) {
    throw std::runtime_error("cannot load the image model " + file.string() + ": " + e.what());
  }
  if (net.empty()) throw std::runtime_error("cannot load the image model " + file.string());
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

// Decodes, builds the views and runs the model; returns the averaged class probabilities,
// or an empty vector when the bytes do not decode.
std::vector<double> classify(cv::dnn::Net& net, std::string_view encoded,
                             const OpenCvRecognizerOptions& options) {
  const cv::Mat image = imaging::decode_bgr(encoded, options.max_pixels);
  if (image.empty()) return {};

  std::vector<cv::Mat> views{imagenet::center_crop(image)};
  const double aspect = double(std::max(image.cols, image.rows)) / std::min(image.cols, image.rows);
  if (options.padded_view_min_aspect > 0 && aspect >= options.padded_view_min_aspect)
    views.push_back(imagenet::padded_square(image));

  // One forward pass per view: this int8 graph's flatten/MatMul step only runs with batch 1 in
  // OpenCV 4.6.
  std::vector<double> probabilities;
  for (const auto& view : views) {
    net.setInput(imagenet::to_blob({view}));
    const auto p = imagenet::softmax(net.forward());  // 1 x 1000 logits
    if (probabilities.empty()) {
      probabilities = p;
    } else {
      for (std::size_t i = 0; i < p.size(); ++i) probabilities[i] += p[i];
    }
  }
  for (double& p : probabilities) p /= static_cast<double>(views.size());
  return probabilities;
}

std::vector<ports::ClassScore> top_classes(const std::vector<double>& probabilities, int top_k) {
  std::vector<int> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  const auto k = std::min(order.size(), static_cast<std::size_t>(std::max(top_k, 0)));
  // Ties (the logits are quantized) go to the lower class index, so results are deterministic.
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](int a, int b) {
                      const double pa = probabilities[static_cast<std::size_t>(a)];
                      const double pb = probabilities[static_cast<std::size_t>(b)];
                      return pa != pb ? pa > pb : a < b;
                    });
  std::vector<ports::ClassScore> out;
  out.reserve(k);
  for (std::size_t i = 0; i < k; ++i)
    out.push_back({order[i], probabilities[static_cast<std::size_t>(order[i])]});
  return out;
}

}  // namespace

std::vector<ports::ImageClass> load_imagenet_labels(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read the image labels " + file.string());
  std::vector<ports::ImageClass> classes;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos || tab == 0 || tab + 1 == line.size())
      throw std::runtime_error("malformed line in " + file.string() + ": " + line);
    ports::ImageClass c;
    c.wnid = line.substr(0, tab);
    c.label = line.substr(tab + 1);
    c.name = c.label.substr(0, c.label.find(", "));
    classes.push_back(std::move(c));
  }
  return classes;
}

OpenCvRecognizer::OpenCvRecognizer(OpenCvRecognizerOptions options) : options_(std::move(options)) {
  if (options_.max_pixels <= 0)
    throw std::invalid_argument("OpenCvRecognizerOptions::max_pixels must be positive");
  classes_ = load_imagenet_labels(options_.model_dir / kLabelsFile);
  const int workers = options_.workers > 0
                          ? options_.workers
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  capacity_ =
      static_cast<std::size_t>(options_.queue_capacity > 0 ? options_.queue_capacity : 4 * workers);
  const fs::path model_file = options_.model_dir / kModelFile;
  const cv::Mat warm_up = imagenet::to_blob(
      {cv::Mat(imagenet::kInputSize, imagenet::kInputSize, CV_8UC3, cv::Scalar(128, 128, 128))});
  for (int i = 0; i < workers; ++i) {
    auto model = std::make_unique<Model>(Model{load_net(model_file)});
    // The first pass allocates the layers' buffers; doing it here keeps it off a request.
    model->net.setInput(warm_up);
    const cv::Mat out = model->net.forward();
    if (out.total() != classes_.size())
      throw std::runtime_error("the image model " + model_file.string() + " has " +
                               std::to_string(out.total()) + " outputs but " +
                               (options_.model_dir / kLabelsFile).string() + " has " +
                               std::to_string(classes_.size()) + " labels");
    models_.push_back(std::move(model));
  }
  for (std::size_t i = 0; i < models_.size(); ++i) workers_.emplace_back([this, i] { work(i); });
}

OpenCvRecognizer::~OpenCvRecognizer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

ports::Recognition OpenCvRecognizer::recognize(std::string_view encoded, int top_k) {
  Job job{encoded, top_k, {}};
  auto result = job.done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return ports::Recognition{ports::Recognition::Status::unavailable, {}};
    if (queue_.size() >= capacity_) return ports::Recognition{ports::Recognition::Status::busy, {}};
    queue_.push_back(&job);
  }
  wake_.notify_one();
  return result.get();  // rethrows the worker's InfraError
}

void OpenCvRecognizer::work(std::size_t worker) {
  cv::dnn::Net& net = models_[worker]->net;
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued job is done
      job = queue_.front();
      queue_.pop_front();
    }
    try {
      const auto probabilities = classify(net, job->encoded, options_);
      ports::Recognition r;
      if (probabilities.empty()) {
        r.status = ports::Recognition::Status::undecodable;
      } else {
        r.status = ports::Recognition::Status::ok;
        r.top = top_classes(probabilities, job->top_k);
      }
      job->done.set_value(std::move(r));
    } catch (const cv::Exception& e) {
      job->done.set_exception(std::make_exception_ptr(ports::InfraError(
          ports::InfraError::Kind::permanent, std::string("image model failed: ") + e.what())));
    } catch (...) {
      job->done.set_exception(std::current_exception());
    }
  }
}

}  // namespace orderflow::adapters
