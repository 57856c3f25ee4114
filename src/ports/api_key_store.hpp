// The ApiKeyStore port: the API keys (issue 13), each kept as a hash of its secret with its
// name, scopes and lifetime. Shared by every process on the store, so a key made or revoked on
// one replica holds on all of them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/access.hpp"
#include "domain/time.hpp"

namespace orderflow::ports {

struct ApiKeyRecord {
  std::string id;           // 16 hex digits, the public part of the key
  std::string name;         // what the key is for, as its maker named it
  domain::Scopes scopes;    // never empty
  std::string secret_hash;  // lower-case hex SHA-256 of the whole key text
  domain::Timestamp created{};
  std::optional<domain::Timestamp> expires;    // none: never
  std::optional<domain::Timestamp> last_used;  // to about a minute
  std::optional<domain::Timestamp> revoked;

  // True when the key may be used at `now`: not revoked and not expired.
  bool active(domain::Timestamp now) const { return !revoked && (!expires || now < *expires); }
};

// Infrastructure failures throw InfraError; thread-safe.
class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;
  // Stores a new key. False (and nothing stored) when its id is taken already.
  virtual bool add(const ApiKeyRecord& key) = 0;
  virtual std::optional<ApiKeyRecord> find(std::string_view id) = 0;
  // Every key, revoked and expired ones too, oldest first.
  virtual std::vector<ApiKeyRecord> list() = 0;
  // Marks the key revoked at `at` (a key revoked already keeps its first time). False when no
  // key has this id.
  virtual bool revoke(std::string_view id, domain::Timestamp at) = 0;
  // Records a use at `at`; an earlier time than the recorded one changes nothing.
  virtual void touch(std::string_view id, domain::Timestamp at) = 0;
};

}  // namespace orderflow::ports
