// The DeliveryAdmin port: what an operator (the admin API, the CLI, /metrics) sees of the
// delivery state that DeliveryQueue keeps: listing, dead letters and their redrive, counts.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ports/delivery_queue.hpp"

namespace orderflow::ports {

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

// Contract: as DeliveryQueue's (atomic, durable, thread-safe, InfraError on failure). A redrive
// wakes the workers of every process that shares the database.
class DeliveryAdmin {
 public:
  virtual ~DeliveryAdmin() = default;

  virtual std::optional<Delivery> get(std::int64_t id) = 0;
  virtual DeliveryPage list(DeliveryState state, std::int64_t after_id, int limit) = 0;
  // Dead -> pending, attempts reset, due at `now`. False when the delivery is not dead.
  virtual bool redrive(std::int64_t id, domain::Timestamp now) = 0;
  // Every dead delivery -> pending. Returns how many.
  virtual std::int64_t redrive_all_dead(domain::Timestamp now) = 0;

  virtual DeliveryStats delivery_stats() = 0;
};

}  // namespace orderflow::ports
