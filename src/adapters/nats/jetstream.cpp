// JetStream: the connection and its callbacks, streams, batched publishing, consumers.
//
// nats.c calls back on its own threads (connection events, publish acks) with a closure we give
// it, and may still do so while or after we tear down. So the closure is not a pointer but a key
// into a registry: a callback runs under the registry's lock and finds nothing once its
// JetStream has begun to go away.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/nats/nats_support.hpp"

namespace orderflow::adapters::nats {

using Kind = ports::InfraError::Kind;

// The publish() call in flight: the messages still waiting for an ack, by their natsMsg.
struct PublishBatch {
  std::unordered_map<natsMsg*, std::size_t> waiting;
  std::vector<PublishAck> acks;
  std::optional<ports::InfraError> failure;  // the first negative ack
};

struct JetStream::Impl {
  ~Impl();

  std::uintptr_t key = 0;  // in the registry
  ConnectOptions options;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;   // API requests and pull subscriptions
  jsCtx* pub = nullptr;  // asynchronous publishes, acks through on_publish_ack
  std::atomic<std::uint64_t> disconnects{0}, reconnects{0};

  std::mutex publishing;  // one batch at a time: nats.c's pending list is per context
  std::mutex mu;
  std::condition_variable changed;
  PublishBatch* batch = nullptr;  // guarded by mu
  std::uint64_t losses = 0;       // guarded by mu; bumped when the connection drops

  void require_connected(const std::string& what) const {
    if (!is_connected(nc)) throw not_connected(nc, what);
  }
  void notify_user(bool up) const;
};

namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<std::uintptr_t, JetStream::Impl*> live;
  std::uintptr_t next = 1;
};

// Never destroyed: nats.c's threads may call back while the process exits.
Registry& registry() {
  static auto* r = new Registry();  // NOLINT(cppcoreguidelines-owning-memory): never freed
  return *r;
}

// nats.c hands a closure back as void*; ours carries a registry key, not an address.
void* as_closure(std::uintptr_t key) {
  return reinterpret_cast<void*>(key);  // NOLINT(performance-no-int-to-ptr)
}

// Runs f(impl) under the registry's lock if the JetStream behind `closure` is still alive.
// Nothing may unwind into nats.c: a failure here (only bad_alloc can happen) is dropped.
template <class F>
void with_impl(void* closure, F&& f) noexcept {
  try {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    const auto it = r.live.find(reinterpret_cast<std::uintptr_t>(closure));
    if (it != r.live.end()) f(*it->second);
  } catch (...) {
  }
}

void on_disconnected(natsConnection*, void* closure) {
  with_impl(closure, [](JetStream::Impl& impl) {
    impl.disconnects++;
    {
      std::lock_guard lock(impl.mu);
      impl.losses++;
    }
    impl.changed.notify_all();
    impl.notify_user(false);
  });
}

void on_reconnected(natsConnection*, void* closure) {
  with_impl(closure, [](JetStream::Impl& impl) {
    impl.notify_user(true);
    impl.reconnects++;  // after: whoever sees the count sees the callback done
  });
}

// The first connection, when it came after the constructor returned.
void on_connected(natsConnection*, void* closure) {
  with_impl(closure, [](JetStream::Impl& impl) { impl.notify_user(true); });
}

// The closure of reconnect_delay carries the two pauses themselves (ms, 32 bits each), so that
// nats.c's reconnect thread needs no lookup to learn them.
static_assert(sizeof(std::uintptr_t) >= 8);
void* delay_closure(const ConnectOptions& o) {
  const auto ms = [](std::chrono::milliseconds d) {
    return static_cast<std::uintptr_t>(std::clamp<int64_t>(to_ms(d), 1, 0xffffffff));
  };
  // NOLINTNEXTLINE(performance-no-int-to-ptr): two delays packed in the closure, not an address
  return reinterpret_cast<void*>(ms(o.reconnect_wait_max) << 32 | ms(o.reconnect_wait));
}

// After a round over every server: exponential backoff, with up to half taken off at random so
// that many clients do not come back at the same instant.
int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
  const auto packed = reinterpret_cast<std::uintptr_t>(closure);
  const auto base = static_cast<int64_t>(packed & 0xffffffff);
  const auto cap = std::max(static_cast<int64_t>(packed >> 32), base);
  const int doublings = std::clamp(attempts - 1, 0, 20);
  const int64_t delay = std::min(cap, base << doublings);
  thread_local std::minstd_rand random(
      static_cast<std::uint_fast32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  return delay - std::uniform_int_distribution<int64_t>(0, delay / 2)(random);
}

void on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure) {
  with_impl(closure, [&](JetStream::Impl& impl) {
    std::lock_guard lock(impl.mu);
    if (impl.batch == nullptr) return;  // an ack of a batch that timed out
    const auto it = impl.batch->waiting.find(msg);
    if (it == impl.batch->waiting.end()) return;
    if (ack != nullptr) {
      impl.batch->acks[it->second] = PublishAck{ack->Sequence, ack->Duplicate};
    } else if (!impl.batch->failure) {
      const char* subject = natsMsg_GetSubject(msg);
      const std::string what = std::string("publish to ") + (subject ? subject : "?");
      impl.batch->failure = err != nullptr ? nats_error(err->Err, what, err->ErrCode, err->ErrText)
                                           : nats_error(NATS_ERR, what, {}, "no ack");
    }
    impl.batch->waiting.erase(it);
    impl.changed.notify_all();
  });
  natsMsg_Destroy(msg);  // ours to destroy, acked or not (nats.c's contract for AckHandler)
}

void on_core_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto& impl = *static_cast<CoreSubscription::Impl*>(closure);
  try {
    impl.on_message(MessageAccess::make(msg, nullptr, false));
  } catch (...) {
    // A handler's failure must not unwind through nats.c.
  }
}

void on_core_complete(void* closure) {
  static_cast<CoreSubscription::Impl*>(closure)->completed.set_value();
}

using OptionsPtr = std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)>;

void check_option(natsStatus s, const std::string& what) {
  if (s != NATS_OK) {
    const auto e = nats_error(s, "set up " + what);
    throw ports::InfraError(Kind::permanent, e.what());
  }
}

OptionsPtr make_options(const ConnectOptions& o, const ServerList& list, void* closure) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK)
    throw ports::InfraError(Kind::permanent, "bus: cannot initialise the NATS client library");
  OptionsPtr opts(raw, &natsOptions_Destroy);
  std::vector<const char*> urls;
  for (const auto& url : list.urls) urls.push_back(url.c_str());
  check_option(natsOptions_SetServers(raw, urls.data(), static_cast<int>(urls.size())), "servers");
  if (!list.user.empty())
    check_option(natsOptions_SetUserInfo(raw, list.user.c_str(), list.password.c_str()), "user");
  if (!list.token.empty()) check_option(natsOptions_SetToken(raw, list.token.c_str()), "token");
  if (!o.credentials_file.empty())
    check_option(natsOptions_SetUserCredentialsFromFiles(raw, o.credentials_file.c_str(), nullptr),
                 "credentials file " + o.credentials_file);
  if (list.tls) {
    check_option(natsOptions_SetSecure(raw, true), "TLS");
    if (!o.ca_file.empty())
      check_option(natsOptions_LoadCATrustedCertificates(raw, o.ca_file.c_str()),
                   "CA file " + o.ca_file);
    if (!o.cert_file.empty())
      check_option(natsOptions_LoadCertificatesChain(raw, o.cert_file.c_str(), o.key_file.c_str()),
                   "certificate " + o.cert_file);
  }
  if (!o.name.empty()) check_option(natsOptions_SetName(raw, o.name.c_str()), "name");
  check_option(natsOptions_SetTimeout(raw, std::max<int64_t>(to_ms(o.connect_timeout), 1)),
               "connect timeout");
  // Forever, paced by reconnect_delay; the first connect too, so a process starts while every
  // server is down and connects when one comes up.
  check_option(natsOptions_SetMaxReconnect(raw, -1), "reconnects");
  check_option(natsOptions_SetCustomReconnectDelay(raw, &reconnect_delay, delay_closure(o)),
               "reconnects");
  check_option(natsOptions_SetRetryOnFailedConnect(raw, true, &on_connected, closure), "retry");
  check_option(natsOptions_SetDisconnectedCB(raw, &on_disconnected, closure), "callbacks");
  check_option(natsOptions_SetReconnectedCB(raw, &on_reconnected, closure), "callbacks");
  // A request in flight when the connection drops fails at once instead of timing out.
  check_option(natsOptions_SetFailRequestsOnDisconnect(raw, true), "requests");
  // A server that vanished without closing the socket is noticed after ~30 s, not 4 minutes.
  check_option(natsOptions_SetPingInterval(raw, 10000), "pings");
  check_option(natsOptions_SetMaxPingsOut(raw, 3), "pings");
  return opts;
}

jsCtx* make_context(natsConnection* nc, const ConnectOptions& o, void* ack_closure) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = std::max<int64_t>(to_ms(o.request_timeout), 1);
  if (ack_closure != nullptr) {
    jo.PublishAsync.AckHandler = &on_publish_ack;
    jo.PublishAsync.AckHandlerClosure = ack_closure;
  }
  jsCtx* js = nullptr;
  const natsStatus s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) throw nats_error(s, "create a JetStream context");
  return js;
}

bool same_subjects(const jsStreamConfig& c, const std::vector<std::string>& subjects) {
  if (c.SubjectsLen != static_cast<int>(subjects.size())) return false;
  for (int i = 0; i < c.SubjectsLen; ++i)
    if (subjects[static_cast<size_t>(i)] != c.Subjects[i]) return false;
  return true;
}

}  // namespace

void JetStream::Impl::notify_user(bool up) const {
  if (!options.on_connection_change) return;
  try {
    options.on_connection_change(up);
  } catch (...) {
    // Never unwind through nats.c.
  }
}

JetStream::Impl::~Impl() {
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    r.live.erase(key);
  }
  jsCtx_Destroy(pub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

JetStream::JetStream(const ConnectOptions& options) : impl_(std::make_unique<Impl>()) {
  const ServerList list = parse_servers(options);
  impl_->options = options;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    impl_->key = r.next++;
    r.live.emplace(impl_->key, impl_.get());
  }
  void* closure = as_closure(impl_->key);
  const OptionsPtr opts = make_options(options, list, closure);
  const natsStatus s = natsConnection_Connect(&impl_->nc, opts.get());
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    std::string servers;
    for (const auto& url : list.urls) servers += (servers.empty() ? "" : ",") + url;
    throw nats_error(s, "connect to " + servers);
  }
  // A server answered and refused us: wrong credentials, which no retry will fix.
  const char* text = nullptr;
  const natsStatus last = natsConnection_GetLastError(impl_->nc, &text);
  if (s == NATS_NOT_YET_CONNECTED &&
      (last == NATS_CONNECTION_AUTH_FAILED || last == NATS_NOT_PERMITTED))
    throw ports::InfraError(Kind::permanent, "bus: the NATS server refused the credentials: " +
                                                 std::string(text != nullptr ? text : "?"));
  impl_->js = make_context(impl_->nc, options, nullptr);
  impl_->pub = make_context(impl_->nc, options, closure);
}

JetStream::~JetStream() = default;

bool JetStream::connected() const { return is_connected(impl_->nc); }
std::uint64_t JetStream::disconnects() const { return impl_->disconnects.load(); }
std::uint64_t JetStream::reconnects() const { return impl_->reconnects.load(); }

int JetStream::cluster_size() {
  impl_->require_connected("count the cluster's servers");
  // The servers the cluster announces to clients (connect_urls), merged with the configured ones.
  char** servers = nullptr;
  int count = 0;
  const natsStatus s = natsConnection_GetServers(impl_->nc, &servers, &count);
  if (s != NATS_OK) throw nats_error(s, "count the cluster's servers");
  // nats.c allocates the list with malloc and leaves freeing it to the caller.
  for (int i = 0; i < count; ++i) free(servers[i]);  // NOLINT(cppcoreguidelines-owning-memory)
  free(servers);                                     // NOLINT(cppcoreguidelines-owning-memory)
  return std::max(count, 1);
}

void JetStream::ensure_stream(const StreamConfig& config) {
  const std::string what = "ensure stream " + config.name;
  impl_->require_connected(what);
  std::vector<const char*> subjects;
  for (const auto& s : config.subjects) subjects.push_back(s.c_str());

  // Another process may create or change it between our look and our write: look again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&info, impl_->js, config.name.c_str(), nullptr, &code);
    // While another process creates it, the stream has no leader to answer yet.
    if (s == NATS_TIMEOUT && attempt < 2) continue;
    const bool exists = s == NATS_OK;
    if (!exists && s != NATS_NOT_FOUND) throw nats_error(s, "look up stream " + config.name, code);

    jsStreamConfig c;
    jsStreamConfig_Init(&c);
    c.Name = config.name.c_str();
    c.Subjects = subjects.data();
    c.SubjectsLen = static_cast<int>(subjects.size());
    c.Storage = js_FileStorage;
    c.Retention = js_LimitsPolicy;
    c.Duplicates = to_ns(config.duplicate_window);
    c.MaxAge = to_ns(config.max_age);
    if (config.replicas > 0) {
      c.Replicas = config.replicas;
    } else if (exists) {
      c.Replicas = info->Config->Replicas;  // never shrink a stream while a node is away
    } else {
      c.Replicas = std::min(3, cluster_size());
    }

    if (exists) {
      const jsStreamConfig& old = *info->Config;
      const bool same = same_subjects(old, config.subjects) && old.Replicas == c.Replicas &&
                        old.Duplicates == c.Duplicates && old.MaxAge == c.MaxAge &&
                        old.Storage == c.Storage && old.Retention == c.Retention;
      jsStreamInfo_Destroy(info);
      if (same) return;
      jsStreamInfo* updated = nullptr;
      s = js_UpdateStream(&updated, impl_->js, &c, nullptr, &code);
      jsStreamInfo_Destroy(updated);
      if (s == NATS_OK) return;
      if (s == NATS_NOT_FOUND || s == NATS_TIMEOUT) continue;  // deleted, or see below
      throw nats_error(s, "update stream " + config.name, code);
    }

    jsStreamInfo* created = nullptr;
    s = js_AddStream(&created, impl_->js, &c, nullptr, &code);
    jsStreamInfo_Destroy(created);
    if (s == NATS_OK) return;
    // Someone else created it meanwhile; a clustered 2.9 answers only the first of two creates
    // that race, so the other one's timeout means "look again" too.
    if (code == JSStreamNameExistErr || s == NATS_TIMEOUT) continue;
    // One server named twice in `bus` looks like a cluster of two; it has no replicas.
    if (code == JSStreamReplicasNotSupportedErr && config.replicas == 0) {
      c.Replicas = 1;
      s = js_AddStream(&created, impl_->js, &c, nullptr, &code);
      jsStreamInfo_Destroy(created);
      if (s == NATS_OK) return;
      if (code == JSStreamNameExistErr) continue;
    }
    throw nats_error(s, "create stream " + config.name, code);
  }
  throw ports::InfraError(Kind::transient, "bus: " + what + " failed: it kept changing");
}

namespace {

// Attaches a batch to the JetStream for the acks to find, and on the way out takes back whatever
// is still unacknowledged so that nothing of it stays pending in nats.c; acks that arrive later
// find no batch and are dropped.
class AttachedBatch {
 public:
  AttachedBatch(JetStream::Impl& impl, std::size_t size) : impl_(impl) {
    batch.acks.resize(size);
    std::lock_guard lock(impl_.mu);
    impl_.batch = &batch;
    losses_at_start = impl_.losses;
  }
  ~AttachedBatch() {
    natsMsgList pending{nullptr, 0};
    if (js_PublishAsyncGetPendingList(&pending, impl_.pub) == NATS_OK)
      natsMsgList_Destroy(&pending);
    std::lock_guard lock(impl_.mu);
    impl_.batch = nullptr;
  }
  AttachedBatch(const AttachedBatch&) = delete;
  AttachedBatch& operator=(const AttachedBatch&) = delete;

  PublishBatch batch;
  std::uint64_t losses_at_start = 0;

 private:
  JetStream::Impl& impl_;
};

natsMsg* make_message(const OutMessage& m) {
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.data.data(),
                                static_cast<int>(m.data.size()));
  for (const auto& [name, value] : m.headers)
    if (s == NATS_OK) s = natsMsgHeader_Add(msg, name.c_str(), value.c_str());
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    throw nats_error(s, "build message " + m.msg_id + " for " + m.subject);
  }
  return msg;
}

}  // namespace

std::vector<PublishAck> JetStream::publish(std::span<const OutMessage> messages,
                                           std::chrono::milliseconds timeout) {
  if (messages.empty()) return {};
  std::lock_guard serial(impl_->publishing);
  const std::string what =
      "publish to " + messages.front().subject +
      (messages.size() > 1 ? " and " + std::to_string(messages.size() - 1) + " more" : "");
  impl_->require_connected(what);
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  AttachedBatch attached(*impl_, messages.size());
  PublishBatch& batch = attached.batch;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    natsMsg* msg = make_message(messages[i]);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    if (!messages[i].msg_id.empty()) po.MsgId = messages[i].msg_id.c_str();
    {
      // Registered before it is sent: its ack may come before js_PublishMsgAsync returns.
      std::lock_guard lock(impl_->mu);
      batch.waiting.emplace(msg, i);
    }
    natsMsg* sent = msg;
    const natsStatus s = js_PublishMsgAsync(impl_->pub, &sent, &po);
    if (s != NATS_OK) {  // not taken (`sent` is still ours): no ack will come for it
      {
        std::lock_guard lock(impl_->mu);
        batch.waiting.erase(msg);
      }
      natsMsg_Destroy(sent);
      throw nats_error(s, "publish to " + messages[i].subject);
    }
  }

  std::unique_lock lock(impl_->mu);
  const bool settled = impl_->changed.wait_until(lock, deadline, [&] {
    return batch.waiting.empty() || batch.failure || impl_->losses != attached.losses_at_start;
  });
  if (batch.failure) throw *batch.failure;
  if (impl_->losses != attached.losses_at_start && !batch.waiting.empty())
    throw ports::InfraError(Kind::transient, "bus: " + what + " failed: the connection was lost");
  if (!settled)
    throw ports::InfraError(Kind::transient,
                            "bus: " + what + " failed: " + std::to_string(batch.waiting.size()) +
                                " ack(s) did not come in time");
  return std::move(batch.acks);
}

namespace {

bool same_consumer(const jsConsumerConfig& old, const jsConsumerConfig& c) {
  const auto filter = [](const char* f) { return std::string(f == nullptr ? "" : f); };
  const auto deliveries = [](int64_t n) { return n <= 0 ? int64_t{-1} : n; };
  return filter(old.FilterSubject) == filter(c.FilterSubject) && old.AckWait == c.AckWait &&
         deliveries(old.MaxDeliver) == deliveries(c.MaxDeliver) &&
         old.MaxAckPending == c.MaxAckPending && old.AckPolicy == c.AckPolicy &&
         old.DeliverPolicy == c.DeliverPolicy;
}

}  // namespace

std::unique_ptr<PullConsumer> JetStream::pull(const std::string& stream,
                                              const ConsumerConfig& config) {
  const std::string name = stream + "/" + config.durable;
  const std::string what = "set up consumer " + name;
  impl_->require_connected(what);

  jsConsumerConfig c;
  jsConsumerConfig_Init(&c);
  c.Durable = config.durable.c_str();
  c.AckPolicy = js_AckExplicit;
  c.DeliverPolicy = js_DeliverAll;
  c.ReplayPolicy = js_ReplayInstant;
  c.FilterSubject = config.filter_subject.empty() ? nullptr : config.filter_subject.c_str();
  c.AckWait = to_ns(config.ack_wait);
  c.MaxDeliver = config.max_deliver <= 0 ? -1 : config.max_deliver;
  c.MaxAckPending = config.max_ack_pending;

  // Another process may create or change it between our look and our write: look again.
  for (int attempt = 0;; ++attempt) {
    if (attempt == 5)
      throw ports::InfraError(Kind::transient, "bus: " + what + " failed: it kept changing");
    jsConsumerInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetConsumerInfo(&info, impl_->js, stream.c_str(), config.durable.c_str(),
                                      nullptr, &code);
    if (s == NATS_TIMEOUT && attempt < 2) continue;  // being created elsewhere: no leader yet
    if (s == NATS_OK) {
      const bool same = same_consumer(*info->Config, c);
      jsConsumerInfo_Destroy(info);
      if (same) break;
      jsConsumerInfo* updated = nullptr;
      s = js_UpdateConsumer(&updated, impl_->js, stream.c_str(), &c, nullptr, &code);
      jsConsumerInfo_Destroy(updated);
      if (s == NATS_OK) break;
      if (s == NATS_NOT_FOUND || s == NATS_TIMEOUT) continue;  // as for streams
      throw nats_error(s, what, code);
    }
    if (s != NATS_NOT_FOUND) throw nats_error(s, what, code);
    jsConsumerInfo* created = nullptr;
    s = js_AddConsumer(&created, impl_->js, stream.c_str(), &c, nullptr, &code);
    jsConsumerInfo_Destroy(created);
    if (s == NATS_OK) break;
    if (code != JSConsumerNameExistErr && s != NATS_TIMEOUT) throw nats_error(s, what, code);
  }

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = config.durable.c_str();
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_PullSubscribe(&sub, impl_->js, config.filter_subject.c_str(),
                                        config.durable.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) throw nats_error(s, "bind to consumer " + name, code);

  auto owner = std::make_shared<Message::Owner>();
  owner->nc = impl_->nc;
  owner->sub = sub;
  owner->name = name;
  owner->request_timeout = impl_->options.request_timeout;
  auto consumer = std::make_unique<PullConsumer::Impl>();
  consumer->owner = std::move(owner);
  consumer->js = impl_->js;
  consumer->stream = stream;
  consumer->durable = config.durable;
  return std::unique_ptr<PullConsumer>(new PullConsumer(std::move(consumer)));
}

ConsumerStats JetStream::consumer_stats(const std::string& stream, const std::string& durable) {
  const std::string what = "read the state of consumer " + stream + "/" + durable;
  impl_->require_connected(what);
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_GetConsumerInfo(&info, impl_->js, stream.c_str(), durable.c_str(), nullptr, &code);
  if (s != NATS_OK) throw nats_error(s, what, code);
  const ConsumerStats stats{info->NumPending, static_cast<std::uint64_t>(info->NumAckPending),
                            static_cast<std::uint64_t>(info->NumRedelivered)};
  jsConsumerInfo_Destroy(info);
  return stats;
}

std::unique_ptr<CoreSubscription> JetStream::subscribe(
    const std::string& subject, std::function<void(const Message&)> on_message) {
  auto impl = std::make_unique<CoreSubscription::Impl>();
  impl->on_message = std::move(on_message);
  natsStatus s = natsConnection_Subscribe(&impl->sub, impl_->nc, subject.c_str(), &on_core_message,
                                          impl.get());
  if (s != NATS_OK) throw nats_error(s, "subscribe to " + subject);
  s = natsSubscription_SetOnCompleteCB(impl->sub, &on_core_complete, impl.get());
  if (s != NATS_OK) impl->completed.set_value();  // already closed: no handler runs any more
  return std::unique_ptr<CoreSubscription>(new CoreSubscription(std::move(impl)));
}

std::uint64_t JetStream::stream_last_seq(const std::string& stream) {
  const std::string what = "read the state of stream " + stream;
  impl_->require_connected(what);
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, impl_->js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK) throw nats_error(s, what, code);
  const std::uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  return last;
}

}  // namespace orderflow::adapters::nats
