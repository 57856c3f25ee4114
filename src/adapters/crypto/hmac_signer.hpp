#pragma once

#include <filesystem>
#include <string>

#include "ports/signer.hpp"

namespace orderflow::adapters {

// HMAC-SHA256 with OpenSSL.
class HmacSigner final : public ports::Signer {
 public:
  explicit HmacSigner(std::string secret);
  std::string sign(std::string_view message) const override;
  bool verify(std::string_view message, std::string_view signature) const override;

  struct StoredSecret {
    std::string value;
    bool created = false;  // generated now (the file was absent, or empty from a failed write)
  };
  // Reads the secret kept at `path`, or creates one (32 random bytes, hex, mode 0600) when the
  // file does not exist yet or is empty (what a write that failed, e.g. on a full disk, left
  // behind). A new secret is written atomically: a temp file in the same directory, fsync,
  // rename over `path`, fsync of the directory; so a failure leaves no file, never a broken
  // one. Processes starting at once on one directory agree on one secret (an flock on the
  // directory). Throws std::runtime_error naming the path on failure.
  static StoredSecret load_or_create_secret(const std::filesystem::path& path);

 private:
  std::string secret_;
};

}  // namespace orderflow::adapters
