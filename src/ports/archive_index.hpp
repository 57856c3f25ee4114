// The ArchiveIndex port: what the deleted-orders report needs of every archived order, kept in
// the store beside the archive objects (issue 15), so that a report reads rows from the
// database instead of listing the object store and reading every object twice.
//
// The archive function adds an entry after it writes deleted_orders/{orderId}.json; entries
// are never changed after (an order is deleted once; a redelivery adds nothing). Archives
// written before the index existed are added once by a backfill, after which the index is
// marked backfilled. Every entry gets a sequence number greater than any before it, so the
// index's state (count, newest sequence number) names its contents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.hpp"
#include "domain/time.hpp"

namespace orderflow::ports {

struct ArchivedOrder {
  std::string order_id;
  std::string description;
  domain::Money price;
  domain::Timestamp deleted_at;
};

struct ArchiveIndexState {
  std::uint64_t count = 0;
  std::int64_t newest = 0;                      // the newest entry's sequence number; 0 when empty
  std::optional<domain::Timestamp> backfilled;  // when the backfill finished; none: not yet
  std::uint64_t unreadable = 0;  // archive objects the backfill could not read (left out)
};

// Entries with order id after `after` (empty: from the start) and a sequence number at most
// `newest`, whose deletedAt is in [from, to) (either end optional), ascending by order id.
struct ArchivePageQuery {
  std::string after;
  std::int64_t newest = 0;
  std::optional<domain::Timestamp> from;
  std::optional<domain::Timestamp> to;
  int limit = 1000;
};

// Infrastructure failures throw InfraError; thread-safe.
class ArchiveIndex {
 public:
  virtual ~ArchiveIndex() = default;
  // Adds the orders in one transaction; an order id indexed already keeps its entry.
  virtual void add(const std::vector<ArchivedOrder>& orders) = 0;
  virtual ArchiveIndexState state() = 0;
  virtual std::vector<ArchivedOrder> page(const ArchivePageQuery& query) = 0;
  // Records that every archive object written before the index existed has been added, and
  // how many of them could not be read.
  virtual void mark_backfilled(domain::Timestamp at, std::uint64_t unreadable) = 0;
};

}  // namespace orderflow::ports
