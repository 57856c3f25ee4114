#include "domain/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace orderflow::domain {
namespace {

std::chrono::seconds whole_seconds_up(double seconds) {
  return std::chrono::seconds(static_cast<std::int64_t>(std::ceil(std::max(seconds, 0.0))));
}

}  // namespace

TokenBuckets::TokenBuckets(BucketPolicy policy, std::size_t max_callers)
    : policy_(policy), max_callers_(std::max<std::size_t>(max_callers, 1)) {}

BucketState TokenBuckets::settle(Bucket& bucket, Timestamp now, bool take) const {
  const double elapsed = std::chrono::duration<double>(now - bucket.at).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(policy_.capacity, bucket.tokens + elapsed * policy_.per_second);
    bucket.at = now;
  }
  BucketState state;
  state.allowed = bucket.tokens >= 1.0;
  if (state.allowed && take) bucket.tokens -= 1.0;
  state.remaining = std::floor(state.allowed && !take ? bucket.tokens - 1.0 : bucket.tokens);
  state.retry_after = state.allowed
                          ? std::chrono::seconds(0)
                          : std::max(std::chrono::seconds(1),
                                     whole_seconds_up((1.0 - bucket.tokens) / policy_.per_second));
  state.full_in = whole_seconds_up((policy_.capacity - bucket.tokens) / policy_.per_second);
  return state;
}

BucketState TokenBuckets::take(std::string_view caller, Timestamp now) {
  if (!policy_.limits()) return {};
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(caller));
  if (it == buckets_.end()) {
    make_room(now);
    it = buckets_.emplace(std::string(caller), Bucket{policy_.capacity, now}).first;
  }
  return settle(it->second, now, true);
}

BucketState TokenBuckets::peek(std::string_view caller, Timestamp now) {
  if (!policy_.limits()) return {};
  std::lock_guard lock(mu_);
  Bucket bucket{policy_.capacity, now};
  if (auto it = buckets_.find(std::string(caller)); it != buckets_.end()) bucket = it->second;
  return settle(bucket, now, false);
}

void TokenBuckets::make_room(Timestamp now) {
  if (buckets_.size() < max_callers_) return;
  std::erase_if(buckets_, [&](auto& entry) {
    Bucket copy = entry.second;
    return settle(copy, now, false).full_in.count() == 0;
  });
  if (buckets_.size() >= max_callers_) buckets_.clear();
}

}  // namespace orderflow::domain
