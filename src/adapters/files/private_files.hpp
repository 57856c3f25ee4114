// Files and directories that only orderflow's own user may read: the data dir holds orders,
// mail and secrets. Their modes are set exactly (0700, 0600), whatever the process umask.
#pragma once

#include <filesystem>
#include <system_error>

namespace orderflow::adapters {

// Creates `dir` and its missing parents, each with mode 0700. Directories that exist keep their
// mode (they may be shared, like /tmp). Returns the error of the first that cannot be made.
std::error_code create_private_directories(const std::filesystem::path& dir);

// open(2) of `path` with `flags` plus O_CREAT and O_CLOEXEC; the file has mode 0600 (also when
// it existed and O_TRUNC is given). Returns the descriptor, or -1 with errno set.
int open_private_file(const std::filesystem::path& path, int flags);

}  // namespace orderflow::adapters
