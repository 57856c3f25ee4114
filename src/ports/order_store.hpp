// The OrderStore port: orders plus the transactional outbox.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/event.hpp"
#include "domain/order.hpp"

namespace orderflow::ports {

struct OrderPage {
  std::vector<domain::Order> orders;  // ascending by id (= creation order for UUIDv7 ids)
  bool has_more = false;              // true when orders after the last one exist
};

// An Idempotency-Key on create. `fingerprint` identifies the request's content: the same key
// with another fingerprint is a conflict. Claims older than `not_before` are treated as gone.
struct IdempotencyClaim {
  std::string key;
  std::string fingerprint;
  domain::Timestamp not_before;
};

struct CreateResult {
  enum class Kind { created, replayed, key_conflict };
  Kind kind;
  domain::Order order;  // created: the new order; replayed: the order the key first created
};

struct OrderPatch {
  std::optional<std::string> description;
  std::optional<domain::Money> price;
};

// The contract's rules for update and remove, shared by every adapter: `expected` (If-Match)
// unset or 0 matches any version; a patch replaces the fields it sets, bumps the version and
// sets last_modified = `at`.
inline bool version_matches(std::optional<std::int64_t> expected, std::int64_t actual) {
  return !expected || *expected == 0 || *expected == actual;  // 0 is If-Match: *
}
inline domain::Order patched(domain::Order order, const OrderPatch& patch, domain::Timestamp at) {
  if (patch.description) order.description = *patch.description;
  if (patch.price) order.price = *patch.price;
  order.version += 1;
  order.last_modified = at;
  return order;
}

struct ChangeResult {
  enum class Kind { done, not_found, version_mismatch };
  Kind kind;
  domain::Order order;  // done: the order after the change (for delete: as it was deleted)
};

struct OutboxRecord {
  std::int64_t seq;  // commit order, strictly increasing
  domain::Event event;
};

struct StoreStats {
  std::int64_t orders = 0;
  std::int64_t outbox_events = 0;
  std::int64_t outbox_last_seq = 0;
};

// Contract:
// - Every write method commits the change and its event (built with the domain's
//   order_*_event functions) in one transaction; when it returns, both are durable.
// - Expected outcomes are values; infrastructure failures throw ports::InfraError.
// - All methods are thread-safe. Reads never wait for writes.
class OrderStore {
 public:
  virtual ~OrderStore() = default;

  // Inserts `order` and appends `created_event`. With a claim: a claim with the same key and
  // fingerprint returns `replayed` and the first order (nothing is written); the same key with
  // another fingerprint returns `key_conflict`.
  virtual CreateResult create(const domain::Order& order, const domain::Event& created_event,
                              const std::optional<IdempotencyClaim>& claim) = 0;

  // create() completing through `done` instead of returning: `done` runs exactly once, with the
  // result (and a null exception) or with the exception create() would have thrown, on a store
  // thread once the commit is durable, or on the calling thread. It must be quick and must not
  // call the store. The arguments are copied. When commits_in_background() is true, this
  // returns without waiting for the commit, so an event loop may call it; the default runs
  // create() on the calling thread.
  using CreateDone = std::function<void(CreateResult, std::exception_ptr)>;
  // What an adapter's create_async keeps while the write waits for its batch: the arguments,
  // copied, the result once the write ran, and whom to tell.
  struct PendingCreate {
    domain::Order order;
    domain::Event event;
    std::optional<IdempotencyClaim> claim;
    CreateDone done;
    CreateResult result{CreateResult::Kind::created, {}};
    void finish(std::exception_ptr error) { done(std::move(result), std::move(error)); }
  };
  virtual void create_async(
      const domain::Order& order, const domain::Event& created_event,
      // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep `done`
      const std::optional<IdempotencyClaim>& claim, CreateDone done) {
    CreateResult result{CreateResult::Kind::created, {}};
    std::exception_ptr error;
    try {
      result = create(order, created_event, claim);
    } catch (...) {
      error = std::current_exception();
    }
    done(std::move(result), error);
  }
  virtual bool commits_in_background() const { return false; }

  virtual std::optional<domain::Order> get(std::string_view order_id) = 0;

  // Up to `limit` orders with id > `after_id` (all when empty), ascending by id.
  virtual OrderPage list(std::string_view after_id, int limit) = 0;

  // Applies `patch`, bumps the version, sets last_modified = `at`, appends order.updated.
  // `expected_version` (when set and non-zero) must equal the current version.
  virtual ChangeResult update(std::string_view order_id, const OrderPatch& patch,
                              std::optional<std::int64_t> expected_version, domain::Timestamp at,
                              std::string event_id) = 0;

  // Removes the order and appends order.deleted (deletedAt = `at`) atomically.
  virtual ChangeResult remove(std::string_view order_id,
                              std::optional<std::int64_t> expected_version, domain::Timestamp at,
                              std::string event_id) = 0;

  // Outbox events with seq > after_seq, ascending, at most `limit`.
  virtual std::vector<OutboxRecord> read_outbox(std::int64_t after_seq, int limit) = 0;

  // Called after every commit that appended events, fanned out events or redrove deliveries;
  // over a database shared by several processes (PostgreSQL), also for those commits of every
  // other process (within milliseconds, through LISTEN/NOTIFY), and once after the connection
  // to the database was lost and is back (something may have been missed meanwhile).
  // Set once before use; the callback must be quick and must not call back into the store.
  virtual void on_commit(std::function<void()> callback) = 0;

  // True when the store answers a trivial query.
  virtual bool ping() = 0;
  // For readiness: false while writes fail (say, on a full disk), as far as the store knows
  // from its latest writes; an adapter may try a small write of its own to learn whether a
  // failure has passed. Never throws; blocks for at most one write.
  virtual bool writable() = 0;
  virtual StoreStats stats() = 0;
};

}  // namespace orderflow::ports
