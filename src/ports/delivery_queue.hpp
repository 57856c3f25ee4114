// The DeliveryQueue port: what event workers use. An outbox event is "fanned out" into one
// pending delivery per subscription of its type; workers in any number of processes then claim
// due deliveries under a lease, attempt them, and mark them done or failed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/event.hpp"
#include "domain/time.hpp"

namespace orderflow::ports {

enum class DeliveryState { pending, done, dead };

// The state's name, as the stores keep it and the admin API shows it.
constexpr std::string_view delivery_state_name(DeliveryState s) {
  switch (s) {
    case DeliveryState::pending:
      return "pending";
    case DeliveryState::done:
      return "done";
    case DeliveryState::dead:
      return "dead";
  }
  return "pending";
}

struct Delivery {
  std::int64_t id = 0;
  std::int64_t event_seq = 0;
  std::string subscription;  // the subscribed function's name
  DeliveryState state = DeliveryState::pending;
  int attempts = 0;
  domain::Timestamp next_attempt;  // for a claimed delivery: when its lease ends
  std::string last_error;
  domain::Timestamp updated;
  domain::Event event;
};

// Contract: every method is atomic and durable when it returns; infrastructure failures throw
// InfraError; thread-safe, and safe to share between processes over one database.
// At-least-once: a worker that dies while holding a claim loses it when the lease ends, and the
// delivery is claimed again by someone else. A delivery is never handed to two live claims at
// once (a claim skips what another claim holds).
class DeliveryQueue {
 public:
  virtual ~DeliveryQueue() = default;

  // For up to `limit` outbox events after the fan-out cursor, creates one pending delivery per
  // name `subscribers(event_type)` returns (due at `now`), and advances the cursor, in one
  // transaction. Concurrent fan-outs (threads or processes) create each delivery once.
  // Returns how many events were fanned out (0: nothing new).
  virtual int fan_out(const std::function<std::vector<std::string>(std::string_view)>& subscribers,
                      domain::Timestamp now, int limit) = 0;

  // Claims up to `limit` pending deliveries of `subscription` that are due at `now`
  // (next_attempt <= now), oldest event first, for `owner` until `lease_until`: their
  // next_attempt becomes `lease_until`, so nobody else claims them before the lease ends.
  virtual std::vector<Delivery> claim(std::string_view subscription, std::string_view owner,
                                      domain::Timestamp now, domain::Timestamp lease_until,
                                      int limit) = 0;
  // Earliest next_attempt of the subscription's pending deliveries (leases included), if any.
  virtual std::optional<domain::Timestamp> next_due(std::string_view subscription) = 0;

  // Marks deliveries done, in one transaction (a lane marks a whole run of successes at once).
  virtual void mark_done(const std::vector<std::int64_t>& ids, domain::Timestamp at) = 0;
  // Records a failed attempt (attempts + 1, last_error) and ends the claim. With `retry_at` the
  // delivery stays pending until then; without it becomes dead.
  virtual void mark_failed(std::int64_t id, std::string_view error,
                           std::optional<domain::Timestamp> retry_at, domain::Timestamp at) = 0;
  // Ends every claim `owner` still holds: those deliveries are due again at `now` (a clean
  // shutdown hands them on at once instead of after the lease). Returns how many.
  virtual std::int64_t release(std::string_view owner, domain::Timestamp now) = 0;
};

}  // namespace orderflow::ports
