#pragma once

#include "ports/clock.hpp"

namespace orderflow::adapters {

// The real wall clock (UTC, microseconds).
class SystemClock final : public ports::Clock {
 public:
  domain::Timestamp now() const override;
};

}  // namespace orderflow::adapters
