// order.deleted -> the archive object deleted_orders/{orderId}.json.
#include "functions/deleted_order.hpp"
#include "functions/event_functions.hpp"

namespace orderflow::functions {

void archive_deleted_order(ArchiveContext& ctx, const domain::Event& event) {
  const auto deleted = read_deleted_event(event);
  if (!deleted) throw PermanentFailure("order.deleted event " + event.id + " has malformed data");
  ctx.objects.put(archive_key(deleted->order.id), archive_json(*deleted), "application/json");
}

}  // namespace orderflow::functions
