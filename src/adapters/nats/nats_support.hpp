// What the NATS adapter's files share, private to it: nats.c failures turned into InfraError,
// and the state behind Message, PullConsumer and CoreSubscription.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include "adapters/nats/jetstream.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters::nats {

// "bus: <what> failed: <text>" (text: nats.c's last error on this thread unless given);
// transient unless the status or the JetStream error code says the request itself is wrong
// (configuration, auth, invalid input).
ports::InfraError nats_error(natsStatus status, const std::string& what, jsErrCode code = {},
                             const char* text = nullptr);
// "bus: cannot <what>: not connected to NATS", with the connection's last error when nats.c has
// one; permanent when that was an authorization failure (the credentials are wrong).
ports::InfraError not_connected(natsConnection* nc, const std::string& what);

inline int64_t to_ms(std::chrono::milliseconds d) { return static_cast<int64_t>(d.count()); }
inline int64_t to_ns(std::chrono::milliseconds d) {
  return static_cast<int64_t>(d.count()) * 1'000'000;
}

inline bool is_connected(natsConnection* nc) {
  return natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
}

// A pull subscription, shared by its PullConsumer and every Message it fetched: nats.c settles
// a message through its subscription, so the subscription lives until the last one is gone.
struct Message::Owner {
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  std::string name;  // stream/durable, for messages
  std::chrono::milliseconds request_timeout{5000};
  ~Owner() { natsSubscription_Destroy(sub); }  // keeps the durable consumer (nats.c >= 3.4)
};

struct MessageAccess {
  static Message make(natsMsg* msg, std::shared_ptr<Message::Owner> owner, bool jetstream) {
    return Message(msg, std::move(owner), jetstream);
  }
};

struct PullConsumer::Impl {
  std::shared_ptr<Message::Owner> owner;
  jsCtx* js = nullptr;  // the JetStream's API context
  std::string stream, durable;
};

struct CoreSubscription::Impl {
  natsSubscription* sub = nullptr;
  std::function<void(const Message&)> on_message;
  std::promise<void> completed;  // set by nats.c once the handler has returned for the last time
};

}  // namespace orderflow::adapters::nats
