#include "functions/event_functions.hpp"
#include "ports/errors.hpp"

namespace orderflow::functions {

FailedAttempt classify_failure(std::exception_ptr failure) noexcept {
  using Kind = FailedAttempt::Kind;
  try {
    std::rethrow_exception(std::move(failure));
  } catch (const PermanentFailure& e) {
    return {Kind::dead_now, false, e.what()};
  } catch (const RetryLater& e) {
    return {Kind::later, false, e.what()};
  } catch (const ports::InfraError& e) {
    return {Kind::retry, e.kind() == ports::InfraError::Kind::permanent, e.what()};
  } catch (const std::exception& e) {
    return {Kind::retry, false, e.what()};
  } catch (...) {
    // Whatever a handler throws is a failed attempt; escaping a lane would terminate.
    return {Kind::retry, false, "unknown exception"};
  }
}

}  // namespace orderflow::functions
