// A recognizer in front of another that remembers the last results by the image's SHA-256, so
// an image is classified once: the "confirm" upload that follows a "validation only" upload of
// the same photo costs a hash, not a forward pass. Independent of the recognizer behind it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "ports/image_recognizer.hpp"

namespace orderflow::adapters {

// Thread-safe. Only definite answers (ok, undecodable) are kept; busy and unavailable are
// passed through. Two concurrent first requests for one image may both reach the inner
// recognizer (no single-flight): rare, and only costs the work the cache would have saved.
class CachingRecognizer final : public ports::ImageRecognizer {
 public:
  using Digest = std::array<unsigned char, 32>;

  CachingRecognizer(std::unique_ptr<ports::ImageRecognizer> inner, std::size_t capacity);

  const std::vector<ports::ImageClass>& classes() const override { return inner_->classes(); }
  ports::Recognition recognize(std::string_view encoded, int top_k) override;

  std::uint64_t hits() const { return hits_.load(); }
  std::uint64_t misses() const { return misses_.load(); }

  static Digest sha256(std::string_view bytes);

 private:
  struct Key {
    Digest digest;
    int top_k;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  using Entry = std::pair<Key, ports::Recognition>;

  std::unique_ptr<ports::ImageRecognizer> inner_;
  std::size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> lru_;  // GUARDED_BY(mutex_); most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;  // GUARDED_BY(mutex_)
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace orderflow::adapters
