// Map: message encoding (headers), then the relay loop, the lanes and what they do with one
// message, redrive, and metrics.
#include "runtime/bus_pipeline.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "functions/event_functions.hpp"
#include "runtime/metrics.hpp"

namespace orderflow::runtime {
namespace {

using namespace std::chrono_literals;
using adapters::nats::Message;
using adapters::nats::OutMessage;
using ports::InfraError;

// An event travels as its data (the body) and these headers.
constexpr const char* kEventId = "Orderflow-Event-Id";
constexpr const char* kType = "Orderflow-Type";
constexpr const char* kSubject = "Orderflow-Subject";
constexpr const char* kTimeUs = "Orderflow-Time-Us";
constexpr const char* kSeq = "Orderflow-Seq";
// A redrive: only this subscription handles it, and marks this dead delivery done.
constexpr const char* kRedriveFor = "Orderflow-Redrive-For";
constexpr const char* kDeliveryId = "Orderflow-Delivery-Id";

constexpr int kRelayBatch = 256;
constexpr auto kPublishTimeout = 5s;
constexpr auto kIdleTick = 1s;
constexpr auto kOutageSettle =
    30s;  // see relay_loop  // the relay also looks this often without a wake-up
constexpr auto kRetryMin = 100ms;
constexpr auto kRetryMax = 5s;
// A lane waits for one message at a time: nats.c's fetch waits for a whole batch (or the
// timeout), so a batch of several would hold the first message back while the lane waits for
// more. While the last message said more were pending, the lane takes them in no-wait pulls
// of up to kDrainBatch, so a backlog costs one pull request per few messages rather than one
// each (one pull and one ack per message kept the lanes behind 500 deletes/s on 3 nodes).
// kDrainWait bounds such a pull when others took what was pending (it then waits for some).
// Lanes run in parallel (the subscription's concurrency per process).
constexpr int kFetchBatch = 1;
constexpr auto kFetchWait = 1s;
constexpr int kDrainBatch = 4;
constexpr auto kDrainWait = 100ms;
// Lanes per subscription and process, at most: the subscription's concurrency, as many attempts
// at once as the local dispatcher makes (archive and mail wait on fsync and on the mail server).
constexpr int kMaxLanes = 16;

std::int64_t to_int(const std::optional<std::string>& text) {
  std::int64_t value = 0;
  if (!text) return 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  return ec == std::errc() && end == text->data() + text->size() ? value : 0;
}

OutMessage to_message(const std::string& prefix, std::int64_t seq, const domain::Event& e) {
  OutMessage m;
  m.subject = prefix + "." + e.type;
  m.msg_id = e.id;
  m.headers = {{kEventId, e.id},
               {kType, e.type},
               {kSubject, e.subject},
               {kTimeUs, std::to_string(e.time.time_since_epoch().count())},
               {kSeq, std::to_string(seq)}};
  m.data = e.data;
  return m;
}

// The event a message carries; nullopt when it is not one of ours (malformed headers).
std::optional<domain::Event> event_of(const Message& m) {
  auto id = m.header(kEventId);
  auto type = m.header(kType);
  auto subject = m.header(kSubject);
  const auto time = m.header(kTimeUs);
  if (!id || id->empty() || !type || !subject || !time) return std::nullopt;
  return domain::Event{std::move(*id), std::move(*type), std::move(*subject),
                       domain::Timestamp{std::chrono::microseconds{to_int(time)}},
                       std::string(m.data())};
}

}  // namespace

BusOptions bus_options(const Config& config) {
  BusOptions o;
  o.replicas = config.nats.replicas;
  o.duplicate_window = std::chrono::seconds(config.nats.duplicate_window_s);
  o.max_age = std::chrono::hours(config.nats.max_age_h);
  o.ack_wait = std::chrono::milliseconds(config.delivery.lease_ms);
  return o;
}

BusPipeline::BusPipeline(adapters::nats::JetStream& bus, ports::BusStore& store,
                         ports::DeliveryQueue& queue, ports::DeliveryAdmin& admin,
                         const ports::Clock& clock, std::vector<Subscription> subscriptions,
                         BusOptions options)
    : bus_(bus),
      store_(store),
      queue_(queue),
      admin_(admin),
      clock_(clock),
      subscriptions_(std::move(subscriptions)),
      options_(std::move(options)),
      rng_state_(options_.jitter_seed) {}

BusPipeline::~BusPipeline() { stop(); }

void BusPipeline::start(bool consumers, std::function<void()> on_event) {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  ensure_stream();  // when the bus is down, the relay keeps trying
  if (on_event) {
    try {
      live_ = bus_.subscribe(options_.subject_prefix + ".>",
                             [on_event = std::move(on_event)](const Message&) { on_event(); });
    } catch (const InfraError& e) {
      spdlog::warn("bus: no live feed for GET /events (it still sees this process's commits): {}",
                   e.what());
    }
  }
  threads_.emplace_back([this] { relay_loop(); });
  if (!consumers) return;
  for (const Subscription& sub : subscriptions_) {
    const int lanes = std::clamp(sub.concurrency, 1, kMaxLanes);
    for (int i = 0; i < lanes; ++i) threads_.emplace_back([this, &sub] { lane_loop(sub); });
  }
}

void BusPipeline::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  live_.reset();
}

void BusPipeline::wake() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

// Waits until stopped, `timeout`, or (with `seen`) woken after generation `seen`. True when
// stopping.
bool BusPipeline::wait_for(std::chrono::milliseconds timeout, std::optional<std::uint64_t> seen) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stopping_ || (seen && generation_ != *seen); });
  return stopping_;
}

std::chrono::milliseconds BusPipeline::backoff(const RetryPolicy& policy, int attempts) {
  std::lock_guard lock(rng_mu_);
  // splitmix64: enough randomness for jitter.
  std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return retry_delay(policy, attempts, z ^ (z >> 31));
}

bool BusPipeline::ensure_stream() {
  if (stream_ready_) return true;
  try {
    bus_.ensure_stream({options_.stream,
                        {options_.subject_prefix + ".>"},
                        options_.replicas,
                        options_.duplicate_window,
                        options_.max_age});
    stream_ready_ = true;
    return true;
  } catch (const InfraError& e) {
    if (e.kind() == InfraError::Kind::permanent)
      spdlog::error("bus: stream {}: {}", options_.stream, e.what());
    return false;
  }
}

std::size_t BusPipeline::publish(std::span<const ports::OutboxRecord> records) {
  std::vector<OutMessage> messages;
  messages.reserve(records.size());
  for (const auto& r : records)
    messages.push_back(to_message(options_.subject_prefix, r.seq, r.event));
  const auto acks = bus_.publish(messages, kPublishTimeout);
  bus_counters_.published.fetch_add(static_cast<std::int64_t>(acks.size()),
                                    std::memory_order_relaxed);
  return acks.size();
}

void BusPipeline::relay_loop() {
  std::chrono::milliseconds retry = kRetryMin;
  bool down = false;    // during an outage, since down_since
  bool warned = false;  // the current outage was warned about
  auto down_since = std::chrono::steady_clock::now();
  // A cluster coming back flaps for a while (leader elections): a failure this soon after the
  // relay resumed is the same outage, not a new one to warn about.
  bool resumed = false;  // a round has worked; the last outage ended at resumed_at
  auto resumed_at = down_since;
  for (;;) {
    std::optional<std::uint64_t> seen;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen = generation_;
    }
    std::chrono::milliseconds wait = kIdleTick;
    try {
      if (!ensure_stream())
        throw InfraError(InfraError::Kind::transient, "the stream is not ready");
      const auto relayed =
          store_.relay(kRelayBatch, [this](auto records) { return publish(records); });
      if (!resumed) {  // the first round that worked: the bus is up from here on
        resumed = true;
        resumed_at = std::chrono::steady_clock::now() - kOutageSettle;
      }
      if (down) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - down_since);
        spdlog::info("bus: outbox relay resumed after {} ms", ms.count());
        down = false;
        if (warned) resumed_at = std::chrono::steady_clock::now();  // a real outage ended
      }
      retry = kRetryMin;
      if (relayed && *relayed == kRelayBatch) continue;  // more to do
    } catch (const std::exception& e) {
      bus_counters_.publish_errors.fetch_add(1, std::memory_order_relaxed);
      if (!down) {
        // Once per outage: the backlog waits in the outbox, nothing is lost. Before the first
        // round that worked (start-up) and while a returning cluster settles, say it quietly.
        const auto now = std::chrono::steady_clock::now();
        warned = resumed && now - resumed_at > kOutageSettle;
        if (warned)
          spdlog::warn(
              "bus: outbox relay paused, events wait in the outbox until the bus is back: {}",
              e.what());
        else
          spdlog::info("bus: outbox relay waits for the bus: {}", e.what());
        down = true;
        down_since = now;
      }
      wait = retry;
      retry = std::min(retry * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kRetryMax));
      seen.reset();  // a wake-up must not cut the backoff short: wait the whole of it
    }
    if (wait_for(wait, seen)) return;
  }
}

adapters::nats::ConsumerConfig BusPipeline::consumer_config(const Subscription& sub) const {
  // The policy's attempts plus headroom: a lane that dies during the last attempt leaves the
  // message to be delivered once more, and that delivery records the dead letter.
  return {sub.name, options_.subject_prefix + "." + sub.event_type, sub.retry.max_attempts + 2,
          options_.ack_wait, 1000};
}

void BusPipeline::lane_loop(const Subscription& sub) {
  std::unique_ptr<adapters::nats::PullConsumer> consumer;
  std::chrono::milliseconds retry = kRetryMin;
  bool complained = false;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    try {
      if (!consumer) {
        if (!ensure_stream())
          throw InfraError(InfraError::Kind::transient, "the stream is not ready");
        consumer = bus_.pull(options_.stream, consumer_config(sub));
      }
      auto messages = consumer->fetch(kFetchBatch, kFetchWait);
      if (complained) spdlog::info("bus: lane {} is consuming again", sub.name);
      complained = false;
      retry = kRetryMin;
      while (!messages.empty()) {
        for (Message& m : messages) handle(sub, m);
        {
          std::lock_guard lock(mu_);
          if (stopping_) return;
        }
        const std::uint64_t pending = messages.back().pending();
        if (pending == 0) break;
        messages = consumer->fetch_ready(
            static_cast<int>(std::min<std::uint64_t>(pending, kDrainBatch)), kDrainWait);
      }
      continue;
    } catch (const std::exception& e) {
      if (!complained) spdlog::warn("bus: lane {} waits for the bus: {}", sub.name, e.what());
      complained = true;
    }
    if (wait_for(retry, std::nullopt)) return;
    retry = std::min(retry * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kRetryMax));
    if (retry >= kRetryMax) consumer.reset();  // bind again: the consumer may have moved
  }
}

void BusPipeline::handle(const Subscription& sub, Message& m) {
  const auto settle = [&](auto&& action, const char* what) {
    try {
      action();
    } catch (const std::exception& e) {
      // Not settled: the stream delivers it again after ack_wait (handlers are idempotent).
      spdlog::warn("bus: could not {} event message {} for {}: {}", what, m.stream_seq(), sub.name,
                   e.what());
    }
  };
  const auto event = event_of(m);
  if (!event) {
    spdlog::error("bus: message {} on {} is not an orderflow event; dropped", m.stream_seq(),
                  m.subject());
    settle([&] { m.term(); }, "drop");
    return;
  }
  const auto redrive_for = m.header(kRedriveFor);
  if (redrive_for && *redrive_for != sub.name) {  // another subscription's redrive
    settle([&] { m.ack_async(); }, "ack");
    return;
  }
  const std::int64_t delivery_id = to_int(m.header(kDeliveryId));
  const int attempt = static_cast<int>(m.delivered());
  functions::FailedAttempt failed;
  try {
    sub.handler(*event);
    // Not waiting for the server's confirmation halves a lane's round trips per message; an
    // ack lost on the way only brings the message back once more (handlers are idempotent).
    settle([&] { m.ack_async(); }, "ack");
    if (delivery_id > 0) queue_.mark_done({delivery_id}, clock_.now());
    counters_.delivered.fetch_add(1, std::memory_order_relaxed);
    return;
  } catch (...) {
    failed = functions::classify_failure(std::current_exception());
  }
  if (failed.kind == functions::FailedAttempt::Kind::later) {
    // Someone else holds what this needs (a notice claim): come back when that claim ends.
    spdlog::info("bus: event {} for {} waits: {}", event->id, sub.name, failed.error);
    settle([&] { m.nak(options_.ack_wait); }, "return");
    return;
  }
  const std::string& error = failed.error;
  const bool permanent = failed.kind == functions::FailedAttempt::Kind::dead_now;
  if (permanent || attempt >= sub.retry.max_attempts) {
    try {
      const auto id =
          store_.record_dead(to_int(m.header(kSeq)), sub.name, attempt, error, clock_.now());
      settle([&] { m.term(); }, "retire");
      counters_.dead.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("delivery {} of event {} to {} is dead after {} attempts: {}", id, event->id,
                   sub.name, attempt, error);
    } catch (const std::exception& e) {
      // Not recorded: leave the message to come back, and try again then.
      spdlog::error("bus: could not record the dead delivery of event {} to {}: {}", event->id,
                    sub.name, e.what());
      settle([&] { m.nak(kRetryMax); }, "return");
    }
    return;
  }
  counters_.retried.fetch_add(1, std::memory_order_relaxed);
  spdlog::log(failed.needs_operator ? spdlog::level::err : spdlog::level::info,
              "event {} to {} failed (attempt {}), will retry{}: {}", event->id, sub.name, attempt,
              failed.needs_operator ? " once the configuration is fixed" : "", error);
  settle([&] { m.nak(backoff(sub.retry, attempt)); }, "return");
}

bool BusPipeline::redrive(std::int64_t id) {
  const auto d = admin_.get(id);
  if (!d || d->state != ports::DeliveryState::dead) return false;
  OutMessage m = to_message(options_.subject_prefix, d->event_seq, d->event);
  // A message id of its own: the stream must not drop it as a repeat of the original.
  m.msg_id =
      fmt::format("{}/redrive/{}/{}", d->event.id, id, clock_.now().time_since_epoch().count());
  m.headers.emplace_back(kRedriveFor, d->subscription);
  m.headers.emplace_back(kDeliveryId, std::to_string(id));
  // Pending first: the redriven message may be handled (and marked done) before publish returns.
  if (!admin_.redrive(id, clock_.now())) return false;
  try {
    bus_.publish(std::span<const OutMessage>(&m, 1), kPublishTimeout);
  } catch (...) {
    // Not on the bus: dead again, as it was, so that a later redrive can send it.
    store_.record_dead(d->event_seq, d->subscription, d->attempts, d->last_error, clock_.now());
    throw;
  }
  return true;
}

std::int64_t BusPipeline::redrive_all_dead() {
  std::int64_t count = 0;
  std::int64_t after = 0;
  for (;;) {
    const auto page = admin_.list(ports::DeliveryState::dead, after, 100);
    for (const auto& d : page.deliveries) {
      if (redrive(d.id)) ++count;
      after = d.id;
    }
    if (!page.has_more) return count;
  }
}

std::string BusPipeline::render_metrics() {
  std::string out;
  const auto metric = [&](std::string_view name, std::string_view type, std::string_view help,
                          std::int64_t value) {
    append_metric(out, name, type, help, std::to_string(value));
  };
  metric("orderflow_bus_published_total", "counter", "Events this process published to the bus.",
         bus_counters_.published.load(std::memory_order_relaxed));
  metric("orderflow_bus_publish_errors_total", "counter",
         "Relay rounds that failed because the bus or the store was unavailable.",
         bus_counters_.publish_errors.load(std::memory_order_relaxed));
  try {
    metric("orderflow_bus_relay_backlog", "gauge", "Outbox events not yet published to the bus.",
           store_.relay_backlog());
  } catch (const std::exception&) {
    // Left out while the store is unavailable.
  }
  std::string pending, ack_pending, redelivered;
  for (const Subscription& sub : subscriptions_) {
    try {
      const auto s = bus_.consumer_stats(options_.stream, sub.name);
      pending += fmt::format("orderflow_bus_consumer_pending{{consumer=\"{}\"}} {}\n", sub.name,
                             s.pending);
      ack_pending += fmt::format("orderflow_bus_consumer_ack_pending{{consumer=\"{}\"}} {}\n",
                                 sub.name, s.ack_pending);
      redelivered += fmt::format("orderflow_bus_consumer_redelivered{{consumer=\"{}\"}} {}\n",
                                 sub.name, s.redelivered);
    } catch (const std::exception&) {
      // Left out while the bus cannot be asked (or the consumer does not exist yet).
    }
  }
  if (!pending.empty()) {
    out +=
        "# HELP orderflow_bus_consumer_pending Events in the stream not yet delivered to the "
        "consumer.\n"
        "# TYPE orderflow_bus_consumer_pending gauge\n" +
        pending;
    out +=
        "# HELP orderflow_bus_consumer_ack_pending Events delivered and not yet acknowledged.\n"
        "# TYPE orderflow_bus_consumer_ack_pending gauge\n" +
        ack_pending;
    out +=
        "# HELP orderflow_bus_consumer_redelivered Events delivered more than once and not yet "
        "acknowledged.\n"
        "# TYPE orderflow_bus_consumer_redelivered gauge\n" +
        redelivered;
  }
  return out;
}

}  // namespace orderflow::runtime
