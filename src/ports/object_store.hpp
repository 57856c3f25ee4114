// The ObjectStore port: named blobs (S3's model). Implemented by the file store (default) and,
// later, an S3-compatible adapter; one conformance suite holds both to this contract.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/object_key.hpp"
#include "domain/time.hpp"

namespace orderflow::ports {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  domain::Timestamp modified;
};

struct ObjectPage {
  std::vector<ObjectInfo> objects;  // ascending by key
  std::string next_token;           // empty on the last page
};

struct StoredObject {
  std::string bytes;
  std::string content_type;
};

// Keys must satisfy domain::is_valid_object_key; adapters reject other keys with
// std::invalid_argument. Infrastructure failures throw InfraError. Thread-safe.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Writes the whole object atomically: a reader sees the old bytes or the new, never a mix.
  virtual void put(std::string_view key, std::string_view bytes, std::string_view content_type) = 0;
  virtual std::optional<StoredObject> get(std::string_view key) = 0;
  // Up to `limit` objects whose key starts with `prefix`, after `continuation` (from a previous
  // page's next_token; empty for the first page).
  virtual ObjectPage list(std::string_view prefix, std::string_view continuation, int limit) = 0;
  // True when the object existed.
  virtual bool remove(std::string_view key) = 0;
  // A URL that lets anyone holding it GET the object until `ttl` has passed.
  virtual std::string presign_get(std::string_view key, std::chrono::seconds ttl) = 0;
};

}  // namespace orderflow::ports
