#include "runtime/metrics.hpp"

#include <fmt/format.h>

namespace orderflow::runtime {

void append_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, std::string_view value) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
}

namespace {

constexpr std::array<std::string_view, 8> kMethods = {"GET",   "HEAD",   "POST",    "PUT",
                                                      "PATCH", "DELETE", "OPTIONS", "OTHER"};

// Statuses counted under their own label; any other is counted under its class ("2xx", ...).
constexpr std::array<int, 36> kStatuses = {
    100, 101, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405,
    406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 422, 429, 431, 500, 501, 502, 503, 504};
constexpr std::array<std::string_view, 6> kStatusClasses = {"other", "1xx", "2xx",
                                                            "3xx",   "4xx", "5xx"};
constexpr std::size_t kStatusSlots = kStatuses.size() + kStatusClasses.size();
constexpr std::size_t kBucketSlots = Metrics::kBuckets.size() + 1;

constexpr auto kStatusIndex = [] {
  std::array<std::uint8_t, 600> index{};
  for (int s = 0; s < 600; ++s)
    index[s] = static_cast<std::uint8_t>(kStatuses.size() + (s >= 100 ? s / 100 : 0));
  for (std::size_t i = 0; i < kStatuses.size(); ++i)
    index[kStatuses[i]] = static_cast<std::uint8_t>(i);
  return index;
}();

std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i)
    if (kMethods[i] == method) return i;
  return kMethods.size() - 1;
}

std::size_t status_index(int status) {
  return status >= 0 && status < 600 ? kStatusIndex[static_cast<std::size_t>(status)]
                                     : kStatuses.size();
}

std::string status_label(std::size_t slot) {
  return slot < kStatuses.size() ? std::to_string(kStatuses[slot])
                                 : std::string(kStatusClasses[slot - kStatuses.size()]);
}

using Counter = std::atomic<std::uint64_t>;

// Each shard has exactly one writer, so a relaxed load and store is enough (no locked add).
void bump(Counter& c, std::uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

std::string escape_label(std::string_view v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

}  // namespace

struct alignas(64) Metrics::Shard {
  explicit Shard(std::size_t routes)
      : counts(new Counter[routes * kMethods.size() * kStatusSlots]()),
        buckets(new Counter[routes * kBucketSlots]()),
        sum_ns(new Counter[routes]()) {}
  std::unique_ptr<Counter[]> counts;   // [route][method][status]
  std::unique_ptr<Counter[]> buckets;  // [route][bucket], not cumulative
  std::unique_ptr<Counter[]> sum_ns;   // [route]
};

Metrics::Metrics(std::vector<std::string> routes, std::size_t shards) : routes_(std::move(routes)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(shards, 1); ++i)
    shards_.push_back(std::make_unique<Shard>(routes_.size()));
}

Metrics::~Metrics() = default;

void Metrics::record(std::size_t shard, std::size_t route, std::string_view method, int status,
                     std::chrono::nanoseconds duration) noexcept {
  if (shard >= shards_.size() || route >= routes_.size()) return;
  Shard& s = *shards_[shard];
  bump(s.counts[(route * kMethods.size() + method_index(method)) * kStatusSlots +
                status_index(status)]);

  const double seconds = std::chrono::duration<double>(duration).count();
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  bump(s.buckets[route * kBucketSlots + bucket]);
  bump(s.sum_ns[route], static_cast<std::uint64_t>(duration.count() > 0 ? duration.count() : 0));
}

std::string Metrics::render(ports::OrderStore& store) const {
  try {
    const ports::StoreStats stats = store.stats();
    return render(&stats);
  } catch (const std::exception&) {
    return render(nullptr);  // the request metrics are still worth having when the store is down
  }
}

std::string Metrics::render(const ports::StoreStats* stats) const {
  auto total = [&](auto member, std::size_t index) {
    std::uint64_t sum = 0;
    for (const auto& shard : shards_)
      sum += ((*shard).*member)[index].load(std::memory_order_relaxed);
    return sum;
  };

  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 "# HELP orderflow_http_requests_total HTTP requests answered, by route pattern, "
                 "method and status.\n"
                 "# TYPE orderflow_http_requests_total counter\n");
  for (std::size_t r = 0; r < routes_.size(); ++r)
    for (std::size_t m = 0; m < kMethods.size(); ++m)
      for (std::size_t st = 0; st < kStatusSlots; ++st)
        if (auto n = total(&Shard::counts, (r * kMethods.size() + m) * kStatusSlots + st))
          fmt::format_to(
              it, "orderflow_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
              escape_label(routes_[r]), kMethods[m], status_label(st), n);

  fmt::format_to(it,
                 "# HELP orderflow_http_request_duration_seconds Time from a parsed request to its "
                 "written response.\n"
                 "# TYPE orderflow_http_request_duration_seconds histogram\n");
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    std::uint64_t cumulative = 0;
    std::array<std::uint64_t, kBucketSlots> counts{};
    for (std::size_t b = 0; b < kBucketSlots; ++b)
      cumulative += counts[b] = total(&Shard::buckets, r * kBucketSlots + b);
    if (cumulative == 0) continue;
    const auto route = escape_label(routes_[r]);
    std::uint64_t running = 0;
    for (std::size_t b = 0; b < kBucketSlots; ++b) {
      running += counts[b];
      if (b < kBuckets.size())
        fmt::format_to(
            it, "orderflow_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
            route, kBuckets[b], running);
      else
        fmt::format_to(
            it, "orderflow_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
            route, running);
    }
    fmt::format_to(it, "orderflow_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                   static_cast<double>(total(&Shard::sum_ns, r)) / 1e9);
    fmt::format_to(it, "orderflow_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                   cumulative);
  }

  if (stats) {
    fmt::format_to(it,
                   "# HELP orderflow_orders Orders in the store.\n# TYPE orderflow_orders "
                   "gauge\norderflow_orders {}\n",
                   stats->orders);
    fmt::format_to(it,
                   "# HELP orderflow_outbox_events Events in the outbox.\n# TYPE "
                   "orderflow_outbox_events gauge\norderflow_outbox_events {}\n",
                   stats->outbox_events);
    fmt::format_to(it,
                   "# HELP orderflow_outbox_last_seq Sequence number of the newest outbox event.\n"
                   "# TYPE orderflow_outbox_last_seq gauge\norderflow_outbox_last_seq {}\n",
                   stats->outbox_last_seq);
  }
  return fmt::to_string(out);
}

}  // namespace orderflow::runtime
