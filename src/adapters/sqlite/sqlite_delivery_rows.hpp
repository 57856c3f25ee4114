// Reading deliveries with their events, shared by SqliteDeliveryQueue and SqliteDeliveryAdmin
// (private to the SQLite adapter).
#pragma once

#include <string>
#include <string_view>

#include "adapters/sqlite/sqlite_db.hpp"
#include "ports/delivery_queue.hpp"

namespace orderflow::adapters::sqlite {

// "SELECT <the columns delivery_from_row reads> FROM deliveries d JOIN outbox o ... " + where.
std::string select_deliveries(std::string_view where);
ports::Delivery delivery_from_row(const Query& q);

}  // namespace orderflow::adapters::sqlite
