#include "adapters/system/system_clock.hpp"

namespace orderflow::adapters {

domain::Timestamp SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace orderflow::adapters
