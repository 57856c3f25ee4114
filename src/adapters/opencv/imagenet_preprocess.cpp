#include "adapters/opencv/imagenet_preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace orderflow::adapters::imagenet {
namespace {

constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};  // R, G, B
constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};

// Images more elongated than this are cut to the region the crop can reach (plus a margin for
// the resampling filter) before resizing, so a 10000x32 strip does not become 80000x256.
constexpr long kMaxResizeAspect = 4;

int interpolation(int from_shorter, int to_shorter) {
  return to_shorter < from_shorter ? cv::INTER_AREA : cv::INTER_LINEAR;
}

}  // namespace

cv::Mat center_crop(const cv::Mat& bgr) {
  cv::Mat source = bgr;
  long w = source.cols, h = source.rows;
  const bool wide = w >= h;
  long shorter = wide ? h : w, longer = wide ? w : h;
  if (longer > kMaxResizeAspect * shorter) {
    // The crop keeps 224/256 of the shorter side's length along the longer axis as well.
    const long keep = std::min(longer, shorter * 2);
    const long start = (longer - keep) / 2;
    source =
        wide
            ? bgr(cv::Rect(static_cast<int>(start), 0, static_cast<int>(keep), static_cast<int>(h)))
            : bgr(cv::Rect(0, static_cast<int>(start), static_cast<int>(w),
                           static_cast<int>(keep)));
    w = source.cols;
    h = source.rows;
    longer = keep;
  }
  // torchvision's rule: the longer side is floor(256 * long / short).
  const long resized_longer = kResizeShorter * longer / shorter;
  const cv::Size size = wide ? cv::Size(static_cast<int>(resized_longer), kResizeShorter)
                             : cv::Size(kResizeShorter, static_cast<int>(resized_longer));
  cv::Mat resized;
  cv::resize(source, resized, size, 0, 0, interpolation(static_cast<int>(shorter), kResizeShorter));
  const int x = (resized.cols - kInputSize) / 2;
  const int y = (resized.rows - kInputSize) / 2;
  return resized(cv::Rect(x, y, kInputSize, kInputSize)).clone();
}

cv::Mat padded_square(const cv::Mat& bgr) {
  const int longer = std::max(bgr.cols, bgr.rows);
  const int w = std::max(1, static_cast<int>(std::lround(double(bgr.cols) * kInputSize / longer)));
  const int h = std::max(1, static_cast<int>(std::lround(double(bgr.rows) * kInputSize / longer)));
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(w, h), 0, 0, interpolation(longer, kInputSize));
  const cv::Scalar mean_bgr(kMean[2] * 255.0, kMean[1] * 255.0, kMean[0] * 255.0);
  cv::Mat square(kInputSize, kInputSize, CV_8UC3, mean_bgr);
  resized.copyTo(square(cv::Rect((kInputSize - w) / 2, (kInputSize - h) / 2, w, h)));
  return square;
}

cv::Mat to_blob(const std::vector<cv::Mat>& views) {
  // blobFromImages scales and swaps BGR -> RGB; OpenCV 4.6 has no per-channel std, so each
  // channel plane is normalised in place.
  cv::Mat blob = cv::dnn::blobFromImages(views, 1.0 / 255.0, cv::Size(kInputSize, kInputSize),
                                         cv::Scalar(), /*swapRB=*/true, /*crop=*/false);
  for (int n = 0; n < blob.size[0]; ++n) {
    for (int c = 0; c < 3; ++c) {
      cv::Mat plane(kInputSize, kInputSize, CV_32F, blob.ptr<float>(n, c));
      plane = (plane - kMean[c]) / kStd[c];
    }
  }
  return blob;
}

std::vector<double> softmax(const cv::Mat& logits_row) {
  const int n = static_cast<int>(logits_row.total());
  const float* logits = logits_row.ptr<float>(0);
  const double top = *std::max_element(logits, logits + n);
  std::vector<double> p(static_cast<std::size_t>(n));
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    p[static_cast<std::size_t>(i)] = std::exp(double(logits[i]) - top);
    sum += p[static_cast<std::size_t>(i)];
  }
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace orderflow::adapters::imagenet
