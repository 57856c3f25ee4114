#include "adapters/opencv/opencv_recognizer.hpp"

#include <algorithm>
#include <fstream>
#include <future>
#include <numeric>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

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

// PNG and WebP may carry transparency (product photos often do); JPEG never does.
bool may_have_alpha(std::string_view encoded) {
  return encoded.substr(0, 4) == "\x89PNG" ||
         (encoded.size() >= 12 && encoded.substr(0, 4) == "RIFF" && encoded.substr(8, 4) == "WEBP");
}

// 8-bit BGR. Transparent pixels are laid on white, as a shop page shows them; IMREAD_COLOR
// would drop the alpha channel and expose whatever colour hides under it (often black).
// JPEGs keep IMREAD_COLOR, which also applies their EXIF orientation.
cv::Mat decode(const cv::Mat& raw, bool alpha) {
  if (!alpha) return cv::imdecode(raw, cv::IMREAD_COLOR);
  cv::Mat image = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  if (image.empty()) return image;
  if (image.depth() != CV_8U) {
    cv::Mat scaled;
    image.convertTo(scaled, CV_8U, image.depth() == CV_16U ? 1.0 / 257.0 : 255.0);
    image = scaled;
  }
  if (image.channels() == 1) {
    cv::cvtColor(image, image, cv::COLOR_GRAY2BGR);
  } else if (image.channels() == 4) {
    cv::Mat bgr(image.size(), CV_8UC3);
    image.forEach<cv::Vec4b>([&](const cv::Vec4b& p, const int* at) {
      const int a = p[3];
      auto& out = bgr.at<cv::Vec3b>(at[0], at[1]);
      for (int c = 0; c < 3; ++c)
        out[c] = static_cast<uchar>((p[c] * a + 255 * (255 - a) + 127) / 255);
    });
    image = bgr;
  } else if (image.channels() != 3) {
    return {};
  }
  return image;
}

// Decodes, builds the views and runs the model; returns the averaged class probabilities,
// or an empty vector when the bytes do not decode.
std::vector<double> classify(cv::dnn::Net& net, std::string_view encoded,
                             double padded_min_aspect) {
  // imdecode only reads the buffer; the Mat header needs a non-const pointer.
  const cv::Mat raw(1, static_cast<int>(encoded.size()), CV_8U, const_cast<char*>(encoded.data()));
  cv::Mat image;
  try {
    image = decode(raw, may_have_alpha(encoded));
  } catch (const cv::Exception&) {
    return {};  // a codec that rejects the data by throwing: still just a bad image
  }
  if (image.empty() || image.rows < 1 || image.cols < 1) return {};

  std::vector<cv::Mat> views{imagenet::center_crop(image)};
  const double aspect = double(std::max(image.cols, image.rows)) / std::min(image.cols, image.rows);
  if (padded_min_aspect > 0 && aspect >= padded_min_aspect)
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
      const auto probabilities = classify(net, job->encoded, options_.padded_view_min_aspect);
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
