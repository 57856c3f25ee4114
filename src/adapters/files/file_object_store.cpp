#include "adapters/files/file_object_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "adapters/files/private_files.hpp"
#include "adapters/files/stale_files.hpp"
#include "domain/encoding.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters {
namespace fs = std::filesystem;
using ports::InfraError;

namespace {

constexpr const char* kTmpDir = ".tmp";

[[noreturn]] void io_failure(const std::string& what, const fs::path& path) {
  throw InfraError(InfraError::Kind::transient,
                   "object store: " + what + " " + path.string() + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      io_failure("cannot write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) io_failure("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) io_failure("cannot fsync directory", dir);
}

std::string percent_encode_key(std::string_view key) {
  return domain::uri_encode(key, /*keep_slash=*/true);
}

std::string link_message(std::string_view key, std::string_view expires) {
  std::string m = "GET\n";
  m += key;
  m += '\n';
  m += expires;
  return m;
}

}  // namespace

FileObjectStore::FileObjectStore(fs::path root, std::string public_url, const ports::Signer& signer,
                                 const ports::Clock& clock)
    : root_(std::move(root)),
      tmp_(root_ / kTmpDir),
      public_url_(std::move(public_url)),
      signer_(signer),
      clock_(clock) {
  if (const std::error_code ec = create_private_directories(tmp_))
    throw InfraError(InfraError::Kind::permanent,
                     "objects: cannot create " + tmp_.string() + ": " + ec.message());
  // A write takes milliseconds: an hour-old temp file is what a crash left behind.
  remove_stale_files(tmp_, std::chrono::hours(1));
  while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
}

fs::path FileObjectStore::path_of(std::string_view key) const {
  // The key rules leave no way out of root_; the temp folder is ours, not a key space.
  if (!domain::is_valid_object_key(key) || key == kTmpDir || key.starts_with(".tmp/"))
    throw std::invalid_argument("invalid object key");
  return root_ / fs::path(std::string(key));
}

void FileObjectStore::put(std::string_view key, std::string_view bytes, std::string_view) {
  const fs::path target = path_of(key);
  if (const std::error_code ec = create_private_directories(target.parent_path())) {
    errno = ec.value();
    io_failure("cannot create directory", target.parent_path());
  }

  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path tmp = tmp_ / (std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                               std::to_string(rng()));
  const int fd = open_private_file(tmp, O_WRONLY | O_EXCL);
  if (fd < 0) io_failure("cannot create", tmp);
  try {
    write_all(fd, bytes, tmp);
    if (::fsync(fd) != 0) io_failure("cannot fsync", tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    io_failure("cannot rename into", target);
  }
  fsync_dir(target.parent_path());
}

std::optional<ports::StoredObject> FileObjectStore::get(std::string_view key) {
  const fs::path path = path_of(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT || !fs::exists(path)) return std::nullopt;
    io_failure("cannot read", path);
  }
  if (fs::is_directory(path)) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ports::StoredObject{ss.str(), content_type_for(key)};
}

ports::ObjectPage FileObjectStore::list(std::string_view prefix, std::string_view continuation,
                                        int limit) {
  // Walk only the deepest directory the prefix names, not the whole store.
  const auto last_slash = prefix.rfind('/');
  const std::string dir_part =
      last_slash == std::string_view::npos ? "" : std::string(prefix.substr(0, last_slash));
  // Whole segments of a key form a valid key, so a prefix whose directory part is not one
  // (say "../") matches nothing, and must not be walked: it could lead outside root_.
  if (!dir_part.empty() && (!domain::is_valid_object_key(dir_part) || dir_part == kTmpDir ||
                            dir_part.starts_with(".tmp/")))
    return {};
  const fs::path start = dir_part.empty() ? root_ : root_ / dir_part;
  std::vector<ports::ObjectInfo> found;
  std::error_code ec;
  if (!fs::is_directory(start, ec)) return {};
  for (auto it = fs::recursive_directory_iterator(start, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path rel = it->path().lexically_relative(root_);
    std::string key = rel.generic_string();
    if (it->is_directory()) {
      if (key == kTmpDir) it.disable_recursion_pending();
      continue;
    }
    if (!key.starts_with(prefix) || key <= continuation) continue;
    std::error_code size_ec;
    const auto size = it->file_size(size_ec);
    const auto mtime = it->last_write_time(size_ec);
    const auto sys = std::chrono::file_clock::to_sys(mtime);
    found.push_back(
        ports::ObjectInfo{std::move(key), size_ec ? 0 : size,
                          std::chrono::time_point_cast<std::chrono::microseconds>(sys)});
  }
  if (ec) io_failure("cannot list", start);
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  ports::ObjectPage page;
  const auto n = std::min<std::size_t>(found.size(), static_cast<std::size_t>(std::max(limit, 0)));
  page.objects.assign(std::make_move_iterator(found.begin()),
                      std::make_move_iterator(found.begin() + static_cast<std::ptrdiff_t>(n)));
  if (found.size() > n && n > 0) page.next_token = page.objects.back().key;
  return page;
}

bool FileObjectStore::remove(std::string_view key) {
  const fs::path path = path_of(key);
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT || errno == EISDIR) return false;
  io_failure("cannot remove", path);
}

std::string FileObjectStore::presign_get(std::string_view key, std::chrono::seconds ttl) {
  path_of(key);  // validates
  const auto expires =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch() + ttl)
          .count();
  const std::string exp = std::to_string(expires);
  return public_url_ + "/objects/" + percent_encode_key(key) + "?expires=" + exp +
         "&signature=" + signer_.sign(link_message(key, exp));
}

FileObjectStore::LinkCheck FileObjectStore::check_link(std::string_view key,
                                                       std::string_view expires,
                                                       std::string_view signature) const {
  if (!signer_.verify(link_message(key, expires), signature)) return LinkCheck::bad_signature;
  std::int64_t exp = 0;
  auto [ptr, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), exp);
  if (ec != std::errc{} || ptr != expires.data() + expires.size()) return LinkCheck::bad_signature;
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  return now > exp ? LinkCheck::expired : LinkCheck::ok;
}

fs::path FileObjectStore::file_of(std::string_view key) const {
  fs::path p = path_of(key);
  std::error_code ec;
  return fs::is_regular_file(p, ec) ? p : fs::path{};
}

std::string FileObjectStore::content_type_for(std::string_view key) {
  const auto dot = key.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : key.substr(dot + 1);
  if (ext == "json") return "application/json";
  if (ext == "pdf") return "application/pdf";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "png") return "image/png";
  if (ext == "webp") return "image/webp";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace orderflow::adapters
