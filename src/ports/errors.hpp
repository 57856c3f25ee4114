#pragma once

#include <stdexcept>
#include <string>

namespace orderflow::ports {

// An infrastructure failure, raised by adapters. Expected outcomes (not found, conflict,
// invalid input) are never exceptions: they are values in each port's result types.
// The HTTP layer maps these to 503 (transient) or 500 (permanent) in one place.
class InfraError : public std::runtime_error {
 public:
  enum class Kind { transient, permanent };
  InfraError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace orderflow::ports
