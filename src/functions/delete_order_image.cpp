// order.deleted -> the order's photo goes with it.
#include "functions/deleted_order.hpp"
#include "functions/event_functions.hpp"

namespace orderflow::functions {

void delete_order_image(ArchiveContext& ctx, const domain::Event& event) {
  const auto deleted = read_deleted_event(event);
  if (!deleted) throw PermanentFailure("order.deleted event " + event.id + " has malformed data");
  if (!deleted->order.image_key.empty()) ctx.objects.remove(deleted->order.image_key);
}

}  // namespace orderflow::functions
