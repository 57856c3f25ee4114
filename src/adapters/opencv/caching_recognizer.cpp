#include "adapters/opencv/caching_recognizer.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

#include "ports/errors.hpp"

namespace orderflow::adapters {

CachingRecognizer::CachingRecognizer(std::unique_ptr<ports::ImageRecognizer> inner,
                                     std::size_t capacity)
    : inner_(std::move(inner)), capacity_(capacity) {
  if (!inner_) throw std::invalid_argument("CachingRecognizer needs a recognizer");
}

CachingRecognizer::Digest CachingRecognizer::sha256(std::string_view bytes) {
  Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size())
    throw ports::InfraError(ports::InfraError::Kind::permanent, "SHA-256 failed");
  return digest;
}

std::size_t CachingRecognizer::KeyHash::operator()(const Key& k) const {
  std::size_t h = 0;
  std::memcpy(&h, k.digest.data(), sizeof h);  // a digest's bytes are already uniform
  return h ^ static_cast<std::size_t>(k.top_k);
}

ports::Recognition CachingRecognizer::recognize(std::string_view encoded, int top_k) {
  const Key key{sha256(encoded), top_k};
  {
    std::lock_guard lock(mutex_);
    if (const auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++hits_;
      return it->second->second;
    }
  }
  ++misses_;
  auto result = inner_->recognize(encoded, top_k);
  using Status = ports::Recognition::Status;
  if (capacity_ == 0 || (result.status != Status::ok && result.status != Status::undecodable))
    return result;

  std::lock_guard lock(mutex_);
  if (index_.count(key) == 0) {
    lru_.emplace_front(key, result);
    index_.emplace(key, lru_.begin());
    if (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }
  return result;
}

}  // namespace orderflow::adapters
