#pragma once

#include "domain/time.hpp"

namespace orderflow::ports {

// The time source. Injected so expiry and retry logic is tested without sleeping.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual domain::Timestamp now() const = 0;
};

}  // namespace orderflow::ports
