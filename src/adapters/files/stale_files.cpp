#include "adapters/files/stale_files.hpp"

namespace orderflow::adapters {

std::size_t remove_stale_files(const std::filesystem::path& dir, std::chrono::seconds age) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - age;
  std::size_t removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || entry_ec) continue;
    const auto written = it->last_write_time(entry_ec);
    if (entry_ec || written >= cutoff) continue;
    if (fs::remove(it->path(), entry_ec) && !entry_ec) ++removed;
  }
  return removed;
}

}  // namespace orderflow::adapters
