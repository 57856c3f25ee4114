#include "runtime/readiness.hpp"

#include "ports/errors.hpp"

namespace orderflow::runtime {

void ObservedObjectStore::put(std::string_view key, std::string_view bytes,
                              std::string_view content_type) {
  try {
    inner_.put(key, bytes, content_type);
  } catch (const ports::InfraError&) {
    outcome_.record(false);
    throw;
  }
  outcome_.record(true);
}

std::optional<ports::StoredObject> ObservedObjectStore::get(std::string_view key) {
  return inner_.get(key);
}

ports::ObjectPage ObservedObjectStore::list(std::string_view prefix, std::string_view continuation,
                                            int limit) {
  return inner_.list(prefix, continuation, limit);
}

bool ObservedObjectStore::remove(std::string_view key) {
  bool existed = false;
  try {
    existed = inner_.remove(key);
  } catch (const ports::InfraError&) {
    outcome_.record(false);
    throw;
  }
  outcome_.record(true);
  return existed;
}

std::string ObservedObjectStore::presign_get(std::string_view key, std::chrono::seconds ttl) {
  return inner_.presign_get(key, ttl);
}

void ObservedMailer::send(const ports::Mail& mail) {
  try {
    inner_.send(mail);
  } catch (const ports::InfraError&) {
    outcome_.record(false);
    throw;
  }
  outcome_.record(true);
}

}  // namespace orderflow::runtime
