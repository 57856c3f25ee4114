#pragma once

#include <string>

namespace orderflow::ports {

// Makes new unique ids: UUIDv7 text (time-ordered, so ids sort in creation order).
// Implementations are thread-safe.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string new_id() = 0;
};

}  // namespace orderflow::ports
