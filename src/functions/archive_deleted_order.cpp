// order.deleted -> the archive object deleted_orders/{orderId}.json, then its entry in the
// archive index (after the object: an indexed order always has its object, unless it was
// removed by hand; a redelivery after a crash between the two writes adds the entry).
#include "functions/deleted_order.hpp"
#include "functions/event_functions.hpp"

namespace orderflow::functions {

void archive_deleted_order(ArchiveContext& ctx, const domain::Event& event) {
  const auto deleted = read_deleted_event(event);
  if (!deleted) throw PermanentFailure("order.deleted event " + event.id + " has malformed data");
  ctx.objects.put(archive_key(deleted->order.id), archive_json(*deleted), "application/json");
  ctx.index.add({index_entry(*deleted)});
}

}  // namespace orderflow::functions
