// The one shape of an outcome that can fail with a reason a person reads: a value, or why there
// is none. std::expected<T, std::string> in spirit (C++23; this project is C++20): functions
// that parse or validate input return it, and nothing returns an optional beside an
// out-parameter. [[nodiscard]]: an outcome that is dropped is a bug.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace orderflow::domain {

// Why a Result holds no value. Built with fail("...").
struct Failure {
  std::string why;
};
inline Failure fail(std::string why) { return Failure{std::move(why)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Failure failure) : state_(std::in_place_index<1>, std::move(failure.why)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  bool has_value() const { return ok(); }
  explicit operator bool() const { return ok(); }

  // The value; only when ok().
  T& operator*() & { return std::get<0>(state_); }
  const T& operator*() const& { return std::get<0>(state_); }
  T&& operator*() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }

  // Why there is no value; "" when there is one.
  const std::string& why() const {
    static const std::string kNone;
    return ok() ? kNone : std::get<1>(state_);
  }

 private:
  std::variant<T, std::string> state_;
};

}  // namespace orderflow::domain
