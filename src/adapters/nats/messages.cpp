// Message, PullConsumer and CoreSubscription over nats.c, and the one place nats.c statuses
// become InfraError.
#include <algorithm>
#include <thread>
#include <utility>

#include "adapters/nats/nats_support.hpp"

namespace orderflow::adapters::nats {
namespace {

using Kind = ports::InfraError::Kind;

// JetStream API errors that repeating the same request cannot fix.
bool permanent_js_error(jsErrCode code) {
  switch (code) {
    case JSBadRequestErr:
    case JSInvalidJSONErr:
    case JSNotEnabledErr:
    case JSNotEnabledForAccountErr:
    case JSStreamInvalidConfig:
    case JSStreamSubjectOverlapErr:
    case JSStreamReplicasNotSupportedErr:
    case JSStreamMessageExceedsMaximumErr:
    case JSStreamNotFoundErr:
    case JSStreamMismatchErr:
    case JSStreamNameExistErr:
    case JSConsumerNotFoundErr:
    case JSConsumerCreateErr:
    case JSConsumerNameExistErr:
    case JSConsumerBadDurableNameErr:
    case JSConsumerFilterNotSubsetErr:
    case JSConsumerInvalidPolicyErr:
    case JSMaximumStreamsLimitErr:
    case JSMaximumConsumersLimitErr:
      return true;
    default:
      return false;
  }
}

bool permanent_status(natsStatus status) {
  switch (status) {
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
    case NATS_ADDRESS_MISSING:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBSCRIPTION:
    case NATS_INVALID_TIMEOUT:
    case NATS_ILLEGAL_STATE:
    case NATS_MAX_PAYLOAD:
    case NATS_SECURE_CONNECTION_WANTED:
    case NATS_SECURE_CONNECTION_REQUIRED:
    case NATS_NO_SERVER_SUPPORT:
    case NATS_INVALID_QUEUE_NAME:
      return true;
    default:
      return false;
  }
}

// The thread's last nats.c error text: more precise than natsStatus_GetText (it carries the
// server's description of a JetStream error).
std::string last_error_text(natsStatus status) {
  const char* text = nats_GetLastError(nullptr);
  return text != nullptr && *text != '\0' ? text : natsStatus_GetText(status);
}

}  // namespace

ports::InfraError nats_error(natsStatus status, const std::string& what, jsErrCode code,
                             const char* text) {
  std::string message = "bus: " + what + " failed: " +
                        (text != nullptr ? std::string(text) : last_error_text(status));
  if (code != 0) message += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  if (status == NATS_NO_RESPONDERS)
    message += " (no JetStream server answered: a leader election, or nothing serves it)";
  const bool permanent = permanent_status(status) || (code != 0 && permanent_js_error(code));
  return ports::InfraError(permanent ? Kind::permanent : Kind::transient, message);
}

ports::InfraError not_connected(natsConnection* nc, const std::string& what) {
  const char* text = nullptr;
  const natsStatus last = nc != nullptr ? natsConnection_GetLastError(nc, &text) : NATS_OK;
  std::string message = "bus: cannot " + what + ": not connected to NATS";
  if (last != NATS_OK && text != nullptr && *text != '\0')
    message += std::string(" (last error: ") + text + ")";
  const bool auth = last == NATS_CONNECTION_AUTH_FAILED || last == NATS_NOT_PERMITTED;
  return ports::InfraError(auth ? Kind::permanent : Kind::transient, message);
}

// --- Message ---

Message::Message(natsMsg* msg, std::shared_ptr<Owner> owner, bool jetstream)
    : msg_(msg), owner_(std::move(owner)) {
  jsMsgMetaData* meta = nullptr;
  if (jetstream && natsMsg_GetMetaData(&meta, msg_) == NATS_OK) {
    delivered_ = meta->NumDelivered;
    stream_seq_ = meta->Sequence.Stream;
    pending_ = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
  }
}

Message::Message(Message&& other) noexcept
    : msg_(std::exchange(other.msg_, nullptr)),
      owner_(std::move(other.owner_)),
      delivered_(other.delivered_),
      stream_seq_(other.stream_seq_),
      pending_(other.pending_) {}

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    natsMsg_Destroy(msg_);
    msg_ = std::exchange(other.msg_, nullptr);
    owner_ = std::move(other.owner_);
    delivered_ = other.delivered_;
    stream_seq_ = other.stream_seq_;
    pending_ = other.pending_;
  }
  return *this;
}

Message::~Message() { natsMsg_Destroy(msg_); }

std::string_view Message::subject() const {
  const char* s = natsMsg_GetSubject(msg_);
  return s == nullptr ? std::string_view() : std::string_view(s);
}

std::string_view Message::data() const {
  const char* d = natsMsg_GetData(msg_);
  const int n = natsMsg_GetDataLength(msg_);
  return d == nullptr || n <= 0 ? std::string_view() : std::string_view(d, static_cast<size_t>(n));
}

std::optional<std::string> Message::header(std::string_view name) const {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg_, std::string(name).c_str(), &value) != NATS_OK || value == nullptr)
    return std::nullopt;
  return std::string(value);
}

namespace {
enum SettleKind { kAck, kAckAsync, kNak, kTerm, kInProgress };
}

void Message::settle(const char* what, int kind, std::chrono::milliseconds delay) {
  const std::string action = std::string(what) + " message " + std::to_string(stream_seq_) +
                             (owner_ ? " of " + owner_->name : std::string());
  if (!owner_ || msg_ == nullptr)
    throw ports::InfraError(Kind::permanent, "bus: cannot " + action + ": not a JetStream message");
  if (!is_connected(owner_->nc)) throw not_connected(owner_->nc, action);
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = to_ms(owner_->request_timeout);
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = NATS_OK;
  switch (kind) {
    case kAck:
      s = natsMsg_AckSync(msg_, &options, &code);
      break;
    case kAckAsync:
      s = natsMsg_Ack(msg_, nullptr);
      break;
    case kNak:
      s = delay.count() > 0 ? natsMsg_NakWithDelay(msg_, to_ms(delay), nullptr)
                            : natsMsg_Nak(msg_, nullptr);
      break;
    case kTerm:
      s = natsMsg_Term(msg_, nullptr);
      break;
    default:
      s = natsMsg_InProgress(msg_, nullptr);
      break;
  }
  // Whatever went wrong, the message is still the server's to redeliver: transient.
  if (s != NATS_OK) {
    const auto e = nats_error(s, action, code);
    throw ports::InfraError(Kind::transient, e.what());
  }
}

void Message::ack() { settle("ack", kAck, {}); }
void Message::ack_async() { settle("ack", kAckAsync, {}); }
void Message::nak(std::chrono::milliseconds delay) { settle("nak", kNak, delay); }
void Message::term() { settle("term", kTerm, {}); }
void Message::in_progress() { settle("extend", kInProgress, {}); }

// --- PullConsumer ---

PullConsumer::PullConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PullConsumer::~PullConsumer() = default;

std::vector<Message> PullConsumer::fetch(int batch, std::chrono::milliseconds wait) {
  return pull(batch, wait, false);
}

namespace {
// How long a late answer to a waiting pull that ran out is given to arrive: the server's
// request expired when the client's wait did, so whatever it still sent is already under way.
constexpr auto kLateAnswer = std::chrono::milliseconds(20);

int queued(natsSubscription* sub) {
  int messages = 0;
  int bytes = 0;
  return natsSubscription_GetPending(sub, &messages, &bytes) == NATS_OK ? messages : 0;
}
}  // namespace

std::vector<Message> PullConsumer::fetch_ready(int batch, std::chrono::milliseconds wait) {
  // Queued messages are a late answer to an earlier pull: a fetch of several now would overrun
  // its list. fetch() takes them, one at a time.
  if (queued(impl_->owner->sub) > 0) return {};
  const auto start = std::chrono::steady_clock::now();
  auto messages = pull(batch, wait, true);
  // Empty: nothing was ready, so nats.c asked again with a waiting pull and that ran out. Late:
  // the same, with part of a batch. Either way an answer may still be on its way: give it the
  // time to land, so that the next call sees it queued.
  if (messages.empty() || std::chrono::steady_clock::now() - start >= wait)
    std::this_thread::sleep_for(kLateAnswer);
  return messages;
}

std::vector<Message> PullConsumer::pull(int batch, std::chrono::milliseconds wait, bool no_wait) {
  const std::string what = "fetch from " + impl_->owner->name;
  if (!is_connected(impl_->owner->nc)) throw not_connected(impl_->owner->nc, what);
  natsMsgList list{nullptr, 0};
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = NATS_OK;
  if (no_wait) {
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = std::max(batch, 1);
    request.NoWait = true;  // the server answers at once with what it has
    request.Expires = std::max<int64_t>(to_ms(wait), 1) * 1'000'000;  // ns: the client's wait too
    s = natsSubscription_FetchRequest(&list, impl_->owner->sub, &request);
  } else {
    s = natsSubscription_Fetch(&list, impl_->owner->sub, std::max(batch, 1),
                               std::max<int64_t>(to_ms(wait), 1), &code);
  }
  // Nothing came: the wait ran out, or (no-wait) the consumer has nothing ready.
  if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) {
    if (!is_connected(impl_->owner->nc)) throw not_connected(impl_->owner->nc, what);
    return {};
  }
  if (s != NATS_OK) throw nats_error(s, what, code);
  std::vector<Message> out;
  out.reserve(static_cast<size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    out.push_back(MessageAccess::make(list.Msgs[i], impl_->owner, true));
    list.Msgs[i] = nullptr;  // owned by the Message now
  }
  natsMsgList_Destroy(&list);
  return out;
}

ConsumerStats PullConsumer::stats() {
  const std::string what = "read the state of " + impl_->owner->name;
  if (!is_connected(impl_->owner->nc)) throw not_connected(impl_->owner->nc, what);
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetConsumerInfo(&info, impl_->js, impl_->stream.c_str(),
                                          impl_->durable.c_str(), nullptr, &code);
  if (s != NATS_OK) throw nats_error(s, what, code);
  const ConsumerStats stats{info->NumPending, static_cast<std::uint64_t>(info->NumAckPending),
                            static_cast<std::uint64_t>(info->NumRedelivered)};
  jsConsumerInfo_Destroy(info);
  return stats;
}

// --- CoreSubscription ---

CoreSubscription::CoreSubscription(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CoreSubscription::~CoreSubscription() {
  natsSubscription_Unsubscribe(impl_->sub);  // fails harmlessly when the connection is closed
  // nats.c may still be inside the handler; it says so once it has returned. Should that never
  // come, leaking the state beats running a handler on freed memory.
  if (impl_->completed.get_future().wait_for(std::chrono::seconds(10)) !=
      std::future_status::ready) {
    (void)impl_.release();  // deliberately leaked
    return;
  }
  natsSubscription_Destroy(impl_->sub);
}

}  // namespace orderflow::adapters::nats
