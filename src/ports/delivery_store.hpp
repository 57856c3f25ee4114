// The DeliveryStore port: per (event, subscription) delivery state for the dispatcher.
// An event of the outbox is "fanned out" into one pending delivery per subscription of its type;
// each delivery is then attempted until it is done or, after too many failures, dead.
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

struct Delivery {
  std::int64_t id = 0;
  std::int64_t event_seq = 0;
  std::string subscription;  // the subscribed function's name
  DeliveryState state = DeliveryState::pending;
  int attempts = 0;
  domain::Timestamp next_attempt;
  std::string last_error;
  domain::Timestamp updated;
  domain::Event event;
};

struct DeliveryPage {
  std::vector<Delivery> deliveries;  // ascending by id
  bool has_more = false;
};

struct DeliveryStats {
  std::int64_t pending = 0;
  std::int64_t dead = 0;
  std::int64_t done = 0;
  std::optional<domain::Timestamp> oldest_pending_event;  // time of the oldest pending event
  std::int64_t fanned_out_seq = 0;  // outbox seq up to which events have deliveries
};

// Contract: every method is atomic and durable when it returns; infrastructure failures throw
// InfraError; thread-safe. A crash between claiming a delivery and marking it leaves it pending,
// so it is attempted again (at-least-once).
class DeliveryStore {
 public:
  virtual ~DeliveryStore() = default;

  // For up to `limit` outbox events after the fan-out cursor, creates one pending delivery per
  // name `subscribers(event_type)` returns (due at `now`), and advances the cursor, in one
  // transaction. Returns how many events were fanned out (0: nothing new).
  virtual int fan_out(const std::function<std::vector<std::string>(std::string_view)>& subscribers,
                      domain::Timestamp now, int limit) = 0;

  // Pending deliveries of `subscription` due at `now` (next_attempt <= now), oldest first.
  virtual std::vector<Delivery> due(std::string_view subscription, domain::Timestamp now,
                                    int limit) = 0;
  // Earliest next_attempt of the subscription's pending deliveries, if any.
  virtual std::optional<domain::Timestamp> next_due(std::string_view subscription) = 0;

  // Marks deliveries done, in one transaction (a lane marks a whole run of successes at once).
  virtual void mark_done(const std::vector<std::int64_t>& ids, domain::Timestamp at) = 0;
  // Records a failed attempt (attempts + 1, last_error). With `retry_at` the delivery stays
  // pending until then; without it becomes dead.
  virtual void mark_failed(std::int64_t id, std::string_view error,
                           std::optional<domain::Timestamp> retry_at, domain::Timestamp at) = 0;

  virtual std::optional<Delivery> get(std::int64_t id) = 0;
  virtual DeliveryPage list(DeliveryState state, std::int64_t after_id, int limit) = 0;
  // Dead -> pending, attempts reset, due at `now`. False when the delivery is not dead.
  virtual bool redrive(std::int64_t id, domain::Timestamp now) = 0;
  // Every dead delivery -> pending. Returns how many.
  virtual std::int64_t redrive_all_dead(domain::Timestamp now) = 0;

  virtual DeliveryStats delivery_stats() = 0;
};

}  // namespace orderflow::ports
