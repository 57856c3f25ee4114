// The NATS JetStream bus over nats.c: one connection (JetStream) that creates streams, publishes
// with server-side de-duplication, binds durable pull consumers and core subscriptions.
//
// Configured by the `bus` setting: "nats://h1:4222,nats://h2:4222" (tls:// for TLS,
// user:pass@ or token@ in a URL allowed). Every failure is a ports::InfraError: transient for
// outages, timeouts and leader elections (try again later), permanent for configuration, auth and
// invalid input. No exception leaves a nats.c callback.
//
// Lifetimes: CoreSubscription, PullConsumer and Message must not outlive their JetStream. A
// Message keeps its consumer's subscription alive, so it may outlive the PullConsumer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ports/errors.hpp"

struct __natsMsg;  // NOLINT(bugprone-reserved-identifier): nats.c's own name for natsMsg

namespace orderflow::adapters::nats {

struct MessageAccess;

struct ConnectOptions {
  std::string servers{};                    // the `bus` setting
  std::string user{}, password{}, token{};  // optional; override the URLs' credentials
  std::string credentials_file{};           // optional NATS .creds file (user JWT + NKey seed)
  bool tls = false;                         // also implied by a tls:// URL or any file below
  std::string ca_file{}, cert_file{}, key_file{};
  std::string name{};  // connection name, shown in the server's monitoring
  std::chrono::milliseconds connect_timeout{2000};  // one TCP + handshake attempt
  std::chrono::milliseconds request_timeout{5000};  // JetStream API calls and ack()
  // Reconnects go on forever: the pause after a round over every server doubles from
  // reconnect_wait up to reconnect_wait_max, each with up to half of it taken off at random.
  std::chrono::milliseconds reconnect_wait{100};
  std::chrono::milliseconds reconnect_wait_max{5000};
  // Called on nats.c's callback thread with true once (re)connected, false when the connection
  // was lost. It runs under the adapter's lock: it must be quick and must not call the
  // JetStream; an exception it throws is swallowed.
  std::function<void(bool connected)> on_connection_change{};
};

// The options for `bus` with the servers parsed and checked. Throws InfraError(permanent) naming
// the setting `bus` for a malformed server list or a missing file; messages never show a password.
struct ServerList {
  std::vector<std::string> urls{};  // scheme://host:port, credentials taken out
  std::string user{}, password{}, token{};
  bool tls = false;
};
ServerList parse_servers(const ConnectOptions& options);

struct StreamConfig {
  std::string name{};
  std::vector<std::string> subjects{};
  int replicas = 0;  // 0: min(3, cluster_size()) for a new stream; an existing one keeps its own
  std::chrono::milliseconds duplicate_window{std::chrono::minutes(2)};
  std::chrono::milliseconds max_age{0};  // 0: keep forever
};

struct OutMessage {
  std::string subject{};
  std::string msg_id{};  // Nats-Msg-Id: the server drops a repeat within the duplicate window
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string data{};
};

struct PublishAck {
  std::uint64_t stream_seq = 0;
  bool duplicate = false;  // the stream already had this msg_id; stream_seq is the original's
};

struct ConsumerConfig {
  std::string durable{};
  std::string filter_subject{};  // "" for every subject of the stream
  // Deliveries at most (-1: no limit). The server then stops delivering the message, telling
  // only an advisory subject: a worker holds the last delivery when delivered() == max_deliver.
  int max_deliver = -1;
  std::chrono::milliseconds ack_wait{30000};  // redelivered when not acked in this time
  int max_ack_pending = 1000;                 // delivered and not yet acked, across all workers
};

struct ConsumerStats {
  std::uint64_t pending = 0;      // in the stream, not yet delivered
  std::uint64_t ack_pending = 0;  // delivered, waiting for an ack
  std::uint64_t redelivered = 0;  // delivered more than once (2.9 still counts those past
                                  // max_deliver)
};

class Message {
 public:
  Message(Message&& other) noexcept;
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  std::string_view subject() const;
  std::string_view data() const;
  std::optional<std::string> header(std::string_view name) const;  // the first value
  std::uint64_t delivered() const { return delivered_; }    // 1 on the first delivery, 0 for core
  std::uint64_t stream_seq() const { return stream_seq_; }  // 0 for core messages
  // How many of the consumer's messages were still waiting to be delivered when this one was.
  std::uint64_t pending() const { return pending_; }

  // Each of these settles a JetStream message; all but ack() are fire-and-forget. After a
  // successful one the others do nothing. Throw InfraError(transient) when not connected.
  void ack();                                 // waits for the server's confirmation
  void ack_async();                           // does not wait: an ack lost on the way means
                                              // one more delivery after ack_wait
  void nak(std::chrono::milliseconds delay);  // redeliver after `delay` (0: at once; may
                                              // exceed ack_wait)
  void term();                                // never redeliver
  void in_progress();                         // restart the ack_wait timer

  struct Owner;  // the adapter's: the pull subscription a message came through

 private:
  friend struct MessageAccess;
  Message(__natsMsg* msg, std::shared_ptr<Owner> owner, bool jetstream);
  void settle(const char* what, int kind, std::chrono::milliseconds delay);

  __natsMsg* msg_ = nullptr;
  std::shared_ptr<Owner> owner_;  // the pull subscription and its context; null for core
  std::uint64_t delivered_ = 0;
  std::uint64_t stream_seq_ = 0;
  std::uint64_t pending_ = 0;
};

// One durable pull subscription. Thread-compatible: one thread uses it at a time.
class PullConsumer {
 public:
  ~PullConsumer();
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  // Up to `batch` messages, waiting up to `wait` for the first; empty when none came. Throws
  // InfraError(transient) when not connected or the consumer is unavailable (leader election).
  std::vector<Message> fetch(int batch, std::chrono::milliseconds wait);
  // Up to `batch` messages the consumer has ready, without waiting for a full batch (a no-wait
  // pull request): the way to take a backlog in few round trips (see Message::pending()). Only
  // when none is ready does it wait, up to `wait` (nats.c then asks again with a waiting pull).
  // When such a wait runs out, a late answer to that pull may still come, and nats.c 3.4
  // writes messages queued before a fetch of several past the end of that fetch's list (heap
  // corruption, reproduced with waits of a few ms). So while messages are queued this takes
  // none (empty); fetch() takes them one at a time, which nats.c gets right.
  std::vector<Message> fetch_ready(int batch, std::chrono::milliseconds wait);
  ConsumerStats stats();

  struct Impl;  // the adapter's

 private:
  friend class JetStream;
  explicit PullConsumer(std::unique_ptr<Impl> impl);
  std::vector<Message> pull(int batch, std::chrono::milliseconds wait, bool no_wait);
  std::unique_ptr<Impl> impl_;
};

// A core NATS subscription; unsubscribes in its destructor, which returns once the handler has
// returned for the last time (so never destroy it from inside its own handler).
class CoreSubscription {
 public:
  ~CoreSubscription();
  CoreSubscription(const CoreSubscription&) = delete;
  CoreSubscription& operator=(const CoreSubscription&) = delete;

  struct Impl;  // the adapter's

 private:
  friend class JetStream;
  explicit CoreSubscription(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One connection to the cluster. Thread-safe; publish() calls are serialised.
class JetStream {
 public:
  // Validates the options (InfraError(permanent)) and connects in the background: the
  // constructor returns at once even while every server is down; connected() tells.
  explicit JetStream(const ConnectOptions& options);
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  bool connected() const;
  std::uint64_t disconnects() const;  // connections lost so far
  std::uint64_t reconnects() const;   // connections re-established so far

  // JetStream servers in the cluster as the servers announce it (1 for a single node).
  int cluster_size();

  // Creates the stream (file storage, limits retention), or updates an existing one to this
  // config. Idempotent; safe when several processes call it at once.
  void ensure_stream(const StreamConfig& config);

  // Publishes every message and waits for all their acks within `timeout`; the acks come back
  // in order. Throws InfraError(transient) at once when not connected (nothing is buffered),
  // and when the connection is lost, acks do not come in time or no stream answers (a leader
  // election, or no stream for the subject). Some messages may then have been stored: publish
  // them again with the same msg_id.
  std::vector<PublishAck> publish(std::span<const OutMessage> messages,
                                  std::chrono::milliseconds timeout);

  // Creates or updates the durable consumer (explicit ack, deliver all, filter subject) and
  // binds a pull subscription to it. Several processes may bind the same durable and share its
  // messages; destroying the PullConsumer keeps the durable.
  std::unique_ptr<PullConsumer> pull(const std::string& stream, const ConsumerConfig& config);
  ConsumerStats consumer_stats(const std::string& stream, const std::string& durable);

  // Core NATS: JetStream publishes reach core subscribers too (live views). Works while
  // disconnected (nats.c subscribes again on reconnect). `on_message` runs on the
  // subscription's own thread, one message at a time; its exceptions are swallowed.
  std::unique_ptr<CoreSubscription> subscribe(const std::string& subject,
                                              std::function<void(const Message&)> on_message);

  std::uint64_t stream_last_seq(const std::string& stream);

  struct Impl;  // the adapter's

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::adapters::nats
