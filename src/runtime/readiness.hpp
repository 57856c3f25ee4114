// What /readyz knows of the object store and the mailer: the outcome of their latest writes,
// recorded by wrappers around the adapters. Readiness never calls them itself, so a slow or
// unreachable S3 or SMTP server cannot hold a probe up.
#pragma once

#include <atomic>

#include "ports/mailer.hpp"
#include "ports/object_store.hpp"

namespace orderflow::runtime {

// "failing" from a failed write until one succeeds again; "ok" before the first. Thread-safe.
class LastOutcome {
 public:
  void record(bool succeeded) { failing_.store(!succeeded, std::memory_order_relaxed); }
  const char* state() const { return failing_.load(std::memory_order_relaxed) ? "failing" : "ok"; }

 private:
  std::atomic<bool> failing_{false};
};

// Forwards to `inner` (borrowed) and records in outcome() whether each put and remove
// succeeded. An invalid key is the caller's mistake, not the store failing, and is not recorded.
class ObservedObjectStore final : public ports::ObjectStore {
 public:
  explicit ObservedObjectStore(ports::ObjectStore& inner) : inner_(inner) {}
  const LastOutcome& outcome() const { return outcome_; }

  void put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  std::optional<ports::StoredObject> get(std::string_view key) override;
  ports::ObjectPage list(std::string_view prefix, std::string_view continuation,
                         int limit) override;
  bool remove(std::string_view key) override;
  std::string presign_get(std::string_view key, std::chrono::seconds ttl) override;

 private:
  ports::ObjectStore& inner_;
  LastOutcome outcome_;
};

// Forwards to `inner` (borrowed) and records in outcome() whether each send succeeded.
class ObservedMailer final : public ports::Mailer {
 public:
  explicit ObservedMailer(ports::Mailer& inner) : inner_(inner) {}
  const LastOutcome& outcome() const { return outcome_; }

  void send(const ports::Mail& mail) override;

 private:
  ports::Mailer& inner_;
  LastOutcome outcome_;
};

}  // namespace orderflow::runtime
