// The random and hashed parts of API keys (domain/access.hpp has their text form).
#pragma once

#include <string>
#include <string_view>

namespace orderflow::adapters {

struct MintedKey {
  std::string id;    // 16 hex digits (64 random bits): public, names the key
  std::string text;  // "ofk_<id>_<secret>", the secret 256 random bits: shown once
  std::string hash;  // hash_api_key(text), what the store keeps
};

// A new key from OpenSSL's CSPRNG. Throws std::runtime_error when it has no randomness.
MintedKey mint_api_key();

// 256 random bits from OpenSSL's CSPRNG as 64 lower-case hex digits (for link tokens).
std::string random_token();

// Lower-case hex SHA-256 of the key's whole text. A key carries 256 random bits, so a fast
// hash is enough: there is nothing to guess that a slow one would protect.
std::string hash_api_key(std::string_view key_text);

// Compares two hashes in time that does not depend on where they differ.
bool same_hash(std::string_view a, std::string_view b);

}  // namespace orderflow::adapters
