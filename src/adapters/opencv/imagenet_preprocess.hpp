// The ImageNet input recipe of the MobileNetV2 model in ../shared/models (see its README),
// frozen here because the int8 model reacts to small pixel changes: shorter side to 256
// (longer side floor(256 * long / short); INTER_AREA shrinking, INTER_LINEAR enlarging),
// centre crop 224x224, BGR -> RGB, x/255, then (x - mean) / std per channel.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

namespace orderflow::adapters::imagenet {

inline constexpr int kInputSize = 224;
inline constexpr int kResizeShorter = 256;

// The standard view: 8-bit BGR image -> 224x224 BGR crop (before normalisation).
cv::Mat center_crop(const cv::Mat& bgr);

// The whole image: longer side to 224, padded to a square with the mean colour (which
// normalises to zero, so the padding carries no signal). Sees the ends of long products.
cv::Mat padded_square(const cv::Mat& bgr);

// 224x224 BGR views -> normalised NCHW float blob [N, 3, 224, 224] in RGB order.
cv::Mat to_blob(const std::vector<cv::Mat>& views);

// Softmax of one row of logits (a 1 x C float Mat), in double precision.
std::vector<double> softmax(const cv::Mat& logits_row);

}  // namespace orderflow::adapters::imagenet
