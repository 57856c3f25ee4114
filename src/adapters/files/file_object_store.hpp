// The file ObjectStore: key `k` lives at `<root>/k`. Writes go to a temp file, are fsynced and
// renamed into place, so an object is either wholly there or not at all, even after a crash.
// Presigned URLs point at orderflow's own GET /objects/{key} route and carry an HMAC of the
// key and expiry.
#pragma once

#include <filesystem>
#include <string>

#include "ports/clock.hpp"
#include "ports/object_store.hpp"
#include "ports/signer.hpp"

namespace orderflow::adapters {

class FileObjectStore final : public ports::ObjectStore {
 public:
  // `public_url` is the base of presigned links (e.g. "http://127.0.0.1:8080").
  FileObjectStore(std::filesystem::path root, std::string public_url, const ports::Signer& signer,
                  const ports::Clock& clock);

  void put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  std::optional<ports::StoredObject> get(std::string_view key) override;
  ports::ObjectPage list(std::string_view prefix, std::string_view continuation,
                         int limit) override;
  bool remove(std::string_view key) override;
  std::string presign_get(std::string_view key, std::chrono::seconds ttl) override;

  enum class LinkCheck { ok, expired, bad_signature };
  // Checks the expires/signature pair of a presigned link for `key` at the current time.
  LinkCheck check_link(std::string_view key, std::string_view expires,
                       std::string_view signature) const;

  // Path of an existing object's file (for streaming and Range requests), or empty.
  std::filesystem::path file_of(std::string_view key) const;

  static std::string content_type_for(std::string_view key);

  // Where presigned links point; set once at start-up (before serving) when the bound port
  // was not known at construction.
  void set_public_url(std::string url) { public_url_ = std::move(url); }

 private:
  std::filesystem::path path_of(std::string_view key) const;  // validates the key

  std::filesystem::path root_;
  std::filesystem::path tmp_;
  std::string public_url_;
  const ports::Signer& signer_;
  const ports::Clock& clock_;
};

}  // namespace orderflow::adapters
