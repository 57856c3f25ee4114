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

  // Reads the secret kept at `path`, or creates one (32 random bytes, hex, mode 0600) when the
  // file does not exist yet. Throws std::runtime_error naming the path on failure.
  static std::string load_or_create_secret(const std::filesystem::path& path);

 private:
  std::string secret_;
};

}  // namespace orderflow::adapters
