#pragma once

#include "ports/clock.hpp"
#include "ports/id_generator.hpp"

namespace orderflow::adapters {

// RFC 9562 UUIDv7: 48-bit Unix milliseconds, then random bits. Within one millisecond the ids
// of one generator still increase (a 12-bit counter in rand_a), so ids sort in creation order.
class UuidV7Generator final : public ports::IdGenerator {
 public:
  explicit UuidV7Generator(const ports::Clock& clock) : clock_(clock) {}
  std::string new_id() override;

 private:
  const ports::Clock& clock_;
};

}  // namespace orderflow::adapters
