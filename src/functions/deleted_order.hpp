// A deleted order as the archive keeps it: read from an order.deleted event, written as the
// JSON object stored at deleted_orders/{orderId}.json, and read back by the report.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/event.hpp"
#include "domain/order.hpp"
#include "ports/archive_index.hpp"

namespace orderflow::functions {

struct DeletedOrder {
  domain::Order order;
  domain::Timestamp deleted_at;
  std::string event_id;
};

std::optional<DeletedOrder> read_deleted_event(const domain::Event& event);

// {"orderId","description","price","creationDate","lastModifiedDate",...,"deletedAt","eventId"}
// with the price written from its exact decimal.
std::string archive_json(const DeletedOrder& deleted);
std::optional<DeletedOrder> read_archive_json(std::string_view json);

std::string archive_key(std::string_view order_id);  // "deleted_orders/{orderId}.json"

// What the archive index keeps of it (the report's row).
ports::ArchivedOrder index_entry(const DeletedOrder& deleted);

}  // namespace orderflow::functions
