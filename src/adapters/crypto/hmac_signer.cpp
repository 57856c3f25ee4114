#include "adapters/crypto/hmac_signer.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "domain/encoding.hpp"

namespace orderflow::adapters {
namespace {

std::string to_hex(const unsigned char* data, std::size_t n) {
  return domain::to_hex(std::string_view(reinterpret_cast<const char*>(data), n));
}

// A file descriptor, closed at the end of its scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  explicit operator bool() const { return fd_ >= 0; }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The secret in `path` without its line ending; nullopt when there is no file, or only an
// empty one (left by a write that failed before this version wrote secrets atomically).
std::optional<std::string> read_secret(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read the secret " + path.string() + ": " +
                             std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string secret = ss.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  return secret;
}

}  // namespace

HmacSigner::HmacSigner(std::string secret) : secret_(std::move(secret)) {
  if (secret_.size() < 16) throw std::invalid_argument("signing secret must be at least 16 bytes");
}

std::string HmacSigner::sign(std::string_view message) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return to_hex(mac, len);
}

bool HmacSigner::verify(std::string_view message, std::string_view signature) const {
  const std::string expected = sign(message);
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
}

HmacSigner::StoredSecret HmacSigner::load_or_create_secret(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& what) {
    throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
  };
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) fail("cannot open the directory of the secret");
  // Held until the secret is read or durably in place. Best effort: a file system without
  // locks only loses the agreement between processes starting at the same moment.
  while (::flock(dir_fd.get(), LOCK_EX) != 0 && errno == EINTR) {
  }

  if (auto existing = read_secret(path)) {
    if (existing->size() < 16) {
      errno = EINVAL;
      fail("the secret is too short in");
    }
    return {std::move(*existing), false};
  }

  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    throw std::runtime_error("cannot make a random secret for " + path.string());
  const std::string hex = to_hex(raw, sizeof raw);
  // One temp name per secret: the lock makes it ours, and a crash's leftover is replaced.
  const std::filesystem::path tmp = dir / ("." + path.filename().string() + ".tmp");
  ::unlink(tmp.c_str());
  {
    const UniqueFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) fail("cannot create the secret");
    // 0600 exactly: the umask may have taken bits away from it.
    if (::fchmod(fd.get(), 0600) != 0) {
      const int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      fail("cannot set the mode of the secret");
    }
    if (!write_all(fd.get(), hex) || ::fsync(fd.get()) != 0) {
      const int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      fail("cannot write the secret");
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail("cannot write the secret");
  }
  if (::fsync(dir_fd.get()) != 0) fail("cannot write the secret");
  return {hex, true};
}

}  // namespace orderflow::adapters
