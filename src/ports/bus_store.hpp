// The BusStore port: what the NATS event bus needs from the store. The outbox relay publishes
// the outbox in seq order from a shared cursor (one relay at a time holds it; the others stand
// by), and deliveries that exhausted their attempts on the bus become dead deliveries that the
// DeliveryAdmin port lists and redrives like the local dispatcher's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "domain/time.hpp"
#include "ports/order_store.hpp"

namespace orderflow::ports {

// Contract: thread-safe and safe to share between processes over one database; infrastructure
// failures throw InfraError.
class BusStore {
 public:
  virtual ~BusStore() = default;

  // Holds the relay cursor, hands `publish` up to `limit` outbox events after it (seq order),
  // and moves the cursor past the first n of them, n being what `publish` returns (it publishes
  // a prefix; an exception from it moves nothing and is rethrown). The cursor starts where the
  // local fan-out stood when the relay first ran, so switching a store from bus = local hands
  // on without a gap. Returns the number of events relayed, or nullopt when another relay holds
  // the cursor right now. A crash after publishing and before the cursor moved publishes those
  // events again: the bus drops them by event id.
  using Publish = std::function<std::size_t(std::span<const OutboxRecord>)>;
  virtual std::optional<int> relay(int limit, const Publish& publish) = 0;
  // Outbox events after the relay cursor.
  virtual std::int64_t relay_backlog() = 0;

  // Records that `subscription` failed `event_seq` for the last time: a dead delivery (one per
  // event and subscription; recording it again updates it). Returns its delivery id.
  virtual std::int64_t record_dead(std::int64_t event_seq, std::string_view subscription,
                                   int attempts, std::string_view error, domain::Timestamp at) = 0;
};

}  // namespace orderflow::ports
