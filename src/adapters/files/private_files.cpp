#include "adapters/files/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace orderflow::adapters {
namespace fs = std::filesystem;

std::error_code create_private_directories(const fs::path& dir) {
  std::error_code ec;
  if (dir.empty() || fs::is_directory(dir, ec)) return {};
  const fs::path parent = dir.parent_path();
  if (parent != dir)
    if (const std::error_code parent_error = create_private_directories(parent))
      return parent_error;
  if (::mkdir(dir.c_str(), 0700) != 0) {
    const int error = errno;
    if (error == EEXIST && fs::is_directory(dir, ec)) return {};  // made meanwhile by another
    return {error, std::generic_category()};
  }
  // mkdir's mode passes through the umask (which may take the owner's bits too).
  if (::chmod(dir.c_str(), 0700) != 0) return {errno, std::generic_category()};
  return {};
}

int open_private_file(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::fchmod(fd, 0600) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

}  // namespace orderflow::adapters
