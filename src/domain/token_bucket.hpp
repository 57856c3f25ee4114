// Token buckets keyed by a caller (an API key, a client address, an e-mail address): each
// holds up to `capacity` tokens and gains `per_second` of them a second; a request takes one.
// Time is passed in, so a test can drive it with a manual clock. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/time.hpp"

namespace orderflow::domain {

struct BucketPolicy {
  double capacity = 0;    // the burst; 0: no limit
  double per_second = 0;  // the sustained rate
  bool limits() const { return capacity > 0 && per_second > 0; }
};

struct BucketState {
  bool allowed = true;
  double remaining = 0;              // tokens left after this request (whole ones count)
  std::chrono::seconds retry_after;  // when refused: until a token is back (at least 1 s)
  std::chrono::seconds full_in;      // until the bucket is full again
};

class TokenBuckets {
 public:
  // At most `max_callers` buckets are kept: past it the full ones are dropped (a full bucket is
  // what a new caller gets anyway), and when none is full, all are (a flood of made-up callers
  // must not grow memory; it only forgives the callers that were being limited).
  explicit TokenBuckets(BucketPolicy policy, std::size_t max_callers = 100000);

  // Takes a token for `caller` at `now` when one is there.
  BucketState take(std::string_view caller, Timestamp now);
  // What take() would answer, without taking.
  BucketState peek(std::string_view caller, Timestamp now);

  const BucketPolicy& policy() const { return policy_; }

 private:
  struct Bucket {
    double tokens;
    Timestamp at;
  };
  BucketState settle(Bucket& bucket, Timestamp now, bool take) const;
  void make_room(Timestamp now);

  BucketPolicy policy_;
  std::size_t max_callers_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace orderflow::domain
