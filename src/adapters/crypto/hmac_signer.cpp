#include "adapters/crypto/hmac_signer.hpp"

#include "domain/encoding.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace orderflow::adapters {
namespace {

std::string to_hex(const unsigned char* data, std::size_t n) {
  return domain::to_hex(std::string_view(reinterpret_cast<const char*>(data), n));
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

std::string HmacSigner::load_or_create_secret(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& what) {
    throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
  };
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
      ::close(fd);
      throw std::runtime_error("cannot make a random secret for " + path.string());
    }
    const std::string hex = to_hex(raw, sizeof raw);
    const bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) fail("cannot write the secret");
    return hex;
  }
  if (errno != EEXIST) fail("cannot create the secret");
  std::ifstream in(path);
  if (!in) fail("cannot read the secret");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string secret = ss.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.size() < 16) {
    errno = EINVAL;
    fail("the secret is too short in");
  }
  return secret;
}

}  // namespace orderflow::adapters
