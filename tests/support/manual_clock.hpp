// A Clock that stands still until the test moves it. Thread-safe. Shared by the test binaries.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "ports/clock.hpp"

namespace orderflow::test_support {

class ManualClock final : public ports::Clock {
 public:
  explicit ManualClock(domain::Timestamp start) : us_(start.time_since_epoch().count()) {}
  domain::Timestamp now() const override {
    return domain::Timestamp{std::chrono::microseconds{us_.load()}};
  }
  void set(domain::Timestamp t) { us_ = t.time_since_epoch().count(); }
  void advance(std::chrono::microseconds d) { us_ += d.count(); }

 private:
  std::atomic<std::int64_t> us_;
};

}  // namespace orderflow::test_support
