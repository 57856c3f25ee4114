// The ImageRecognizer port: what a product photo shows, as scores over a fixed catalogue of
// classes (ImageNet-1k for the OpenCV adapter). The function that checks uploads decides what
// the scores mean for the user's description; the recognizer only classifies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orderflow::ports {

// One class of the catalogue.
struct ImageClass {
  std::string wnid;   // WordNet 3.0 noun synset id, "n02110063"
  std::string name;   // short display name, "malamute"
  std::string label;  // every synonym, "malamute, malemute, Alaskan malamute"
};

struct ClassScore {
  int index = 0;             // into classes()
  double probability = 0.0;  // softmax probability, 0..1
};

struct Recognition {
  enum class Status {
    ok,           // `top` holds the scores
    undecodable,  // the bytes are not an image the recognizer can decode (a client error)
    busy,         // every worker is taken and the queue is full; try again shortly
    unavailable,  // no recognizer is configured (recognizer = none)
  };
  Status status = Status::unavailable;
  // ok: the `top_k` most probable classes, most probable first; equal probabilities are
  // ordered by the lower class index, so the result is deterministic.
  std::vector<ClassScore> top;
};

// Contract:
// - recognize() takes the encoded file (JPEG, PNG or WebP bytes), not decoded pixels. The
//   caller has already checked the size and the header (see functions/image_header.hpp).
// - recognize() is thread-safe and blocks the calling thread until the result is ready; an
//   adapter that does heavy work runs it on threads of its own, bounded, and answers `busy`
//   at once instead of queueing without limit.
// - Expected outcomes are statuses; an infrastructure failure (the model failed to run)
//   throws InfraError.
// - classes() is fixed for the recognizer's lifetime (empty when unavailable).
class ImageRecognizer {
 public:
  virtual ~ImageRecognizer() = default;
  virtual const std::vector<ImageClass>& classes() const = 0;
  [[nodiscard]] virtual Recognition recognize(std::string_view encoded, int top_k) = 0;
};

// `recognizer = none`: every call answers `unavailable`. Stateless, so thread-safe.
class UnavailableRecognizer final : public ImageRecognizer {
 public:
  const std::vector<ImageClass>& classes() const override { return none_; }
  Recognition recognize(std::string_view, int) override { return {}; }

 private:
  std::vector<ImageClass> none_;
};

}  // namespace orderflow::ports
