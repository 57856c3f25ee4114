#include "adapters/crypto/api_key_material.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "domain/access.hpp"
#include "domain/encoding.hpp"

namespace orderflow::adapters {
namespace {

std::string random_hex(std::size_t bytes) {
  std::array<unsigned char, 32> raw{};
  if (bytes > raw.size() || RAND_bytes(raw.data(), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("no randomness for a new token (OpenSSL RAND_bytes failed)");
  return domain::to_hex(std::string_view(reinterpret_cast<const char*>(raw.data()), bytes));
}

}  // namespace

std::string random_token() { return random_hex(32); }

MintedKey mint_api_key() {
  MintedKey key;
  key.id = random_hex(domain::kKeyIdDigits / 2);
  key.text =
      std::string(domain::kKeyPrefix) + key.id + "_" + random_hex(domain::kKeySecretDigits / 2);
  key.hash = hash_api_key(key.text);
  return key;
}

std::string hash_api_key(std::string_view key_text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(key_text.data(), key_text.size(), digest.data(), &size, EVP_sha256(), nullptr) !=
      1)
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  return domain::to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

bool same_hash(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace orderflow::adapters
