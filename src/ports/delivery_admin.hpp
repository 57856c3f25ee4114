// The DeliveryAdmin port: what an operator (the admin API, the CLI, /metrics) sees of the
// delivery state that DeliveryQueue keeps: listing, dead letters and their redrive, counts, and
// the pruning of finished records once their retention has passed.
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

// What prune() may remove: records older than their cutoff whose work is finished. Dead
// deliveries (and the events they need) stay until an operator redrives them.
struct RetentionCutoffs {
  domain::Timestamp idempotency_keys;  // keys created before this
  domain::Timestamp records;  // done deliveries, sent notices, outbox rows every lane is past
  int batch = 1000;           // most rows deleted in one transaction
};

struct PruneCounts {
  std::int64_t idempotency_keys = 0;
  std::int64_t outbox = 0;
  std::int64_t deliveries = 0;
  std::int64_t notifications = 0;
  std::int64_t total() const { return idempotency_keys + outbox + deliveries + notifications; }
};

// The order and batching every adapter prunes in, so that they cannot drift apart:
// delete_batch(step, before, batch) deletes at most `batch` rows of that step older than
// `before`, in one transaction, and returns how many it deleted; each step repeats until a batch
// comes back short. Deliveries go first: an outbox row goes only once no delivery refers to it.
enum class PruneStep { deliveries, notifications, outbox, idempotency_keys };

template <class DeleteBatch>
PruneCounts prune_in_batches(const RetentionCutoffs& cutoffs, DeleteBatch&& delete_batch) {
  const std::int64_t batch = cutoffs.batch < 1 ? 1 : cutoffs.batch;
  auto all = [&](PruneStep step, domain::Timestamp before) {
    std::int64_t total = 0;
    for (std::int64_t deleted = batch; deleted == batch; total += deleted)
      deleted = delete_batch(step, before, batch);
    return total;
  };
  PruneCounts counts;
  counts.deliveries = all(PruneStep::deliveries, cutoffs.records);
  counts.notifications = all(PruneStep::notifications, cutoffs.records);
  counts.outbox = all(PruneStep::outbox, cutoffs.records);
  counts.idempotency_keys = all(PruneStep::idempotency_keys, cutoffs.idempotency_keys);
  return counts;
}

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

  // Deletes what `cutoffs` allows, `batch` rows per transaction so that other writes are never
  // held up for long. A notice record stays while its event still has a delivery that is not
  // done (a redriven event must not mail anyone twice); an outbox row stays while any delivery
  // refers to it or while the fan-out (or the bus relay) has not passed it.
  virtual PruneCounts prune(const RetentionCutoffs& cutoffs) = 0;
};

}  // namespace orderflow::ports
