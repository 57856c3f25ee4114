// Sweeping what a crash left in a temp directory (an object or a mail written halfway).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace orderflow::adapters {

// Removes the regular files directly in `dir` last modified more than `age` ago and returns how
// many went. Younger ones stay: another process sharing the directory may be writing them.
// Never throws; what cannot be read or removed is left alone.
std::size_t remove_stale_files(const std::filesystem::path& dir, std::chrono::seconds age);

}  // namespace orderflow::adapters
