// events_bench: drives a running orderflow over HTTP and watches its data dir with inotify to
// measure the event pipeline (bench/events/run.sh starts the server and prints the table).
//
//   events_bench throughput --port P --data-dir D --orders M --connections C [--mails K]
//     creates M orders (the create rate: one write transaction with its outbox row each), then
//     deletes them all as fast as C connections allow and waits until the last archive object
//     (and K notification mails) exist: events/s through the dispatcher.
//   events_bench lag --port P --data-dir D --orders N --rate R --connections C
//     deletes N pre-created orders at a steady R/s (open loop: each delete has a due time) and
//     records, per order, the delete's acknowledgement and the archive object's appearance.
//   events_bench backlog --port P --data-dir D --orders N --connections C
//     creates N orders and deletes them all, waiting for nothing: against `serve --role api` it
//     leaves N order.deleted events for a worker to deliver (bench/events/cpu.sh).
// Prints "key value" lines.
#include <sys/inotify.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/http_bench.hpp"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using bench::Clock;
using bench::Connection;
using bench::on_threads;
using bench::percentile;
using bench::seconds;
using namespace std::chrono_literals;

struct Options {
  std::string mode;
  std::uint16_t port = 0;
  fs::path data_dir;
  int orders = 10000;
  int connections = 8;
  int mails = 0;
  double rate = 500;
};

Options parse(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument("usage: events_bench throughput|lag --port P --data-dir D ...");
  Options o;
  o.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--port") o.port = static_cast<std::uint16_t>(std::stoi(v));
    else if (k == "--data-dir") o.data_dir = v;
    else if (k == "--orders") o.orders = std::stoi(v);
    else if (k == "--connections") o.connections = std::stoi(v);
    else if (k == "--mails") o.mails = std::stoi(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else throw std::invalid_argument("unknown option " + k);
  }
  if (o.port == 0 || o.data_dir.empty()) throw std::invalid_argument("--port and --data-dir are required");
  return o;
}

std::vector<std::string> create_orders(const Options& o, int n) {
  std::vector<std::vector<std::string>> per_thread(static_cast<std::size_t>(o.connections));
  on_threads(o.connections, [&](int t) {
    Connection c(o.port);
    for (int i = t; i < n; i += o.connections) {
      const auto res = c.send(http::verb::post, "/orders",
                              R"({"description":"bench order )" + std::to_string(i) +
                                  R"(","price":12.50})");
      if (res.result_int() != 201) throw std::runtime_error("create: " + res.body());
      per_thread[static_cast<std::size_t>(t)].push_back(
          std::string(boost::json::parse(res.body()).at("orderId").as_string()));
    }
  });
  std::vector<std::string> ids;
  for (auto& v : per_thread) ids.insert(ids.end(), v.begin(), v.end());
  return ids;
}

void delete_one(Connection& c, const std::string& id) {
  const auto res = c.send(http::verb::delete_, "/orders/" + id);
  if (res.result_int() != 200) throw std::runtime_error("delete " + id + ": " + res.body());
}

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

// Records when each file name first appears complete in the watched directories (renamed in, or
// closed after writing), from a thread reading inotify events. Directories must exist.
class Watcher {
 public:
  explicit Watcher(const std::vector<fs::path>& dirs) : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("inotify_init1 failed");
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      const int wd = inotify_add_watch(fd_, dirs[i].c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
      if (wd < 0) throw std::runtime_error("inotify_add_watch " + dirs[i].string());
      dir_of_wd_[wd] = i;
    }
    seen_.resize(dirs.size());
    thread_ = std::thread([this] { run(); });
  }
  ~Watcher() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::size_t count(std::size_t dir) {
    std::lock_guard lock(mu_);
    return seen_[dir].size();
  }
  std::optional<Clock::time_point> when(std::size_t dir, const std::string& name) {
    std::lock_guard lock(mu_);
    const auto it = seen_[dir].find(name);
    if (it == seen_[dir].end()) return std::nullopt;
    return it->second;
  }
  Clock::time_point last(std::size_t dir) {
    std::lock_guard lock(mu_);
    Clock::time_point t{};
    for (const auto& [name, at] : seen_[dir]) t = std::max(t, at);
    return t;
  }
  bool overflowed() const { return overflowed_; }

 private:
  void run() {
    alignas(inotify_event) char buf[64 * 1024];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) continue;
      const auto now = Clock::now();
      std::lock_guard lock(mu_);
      for (ssize_t off = 0; off < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
        if (e->mask & IN_Q_OVERFLOW) overflowed_ = true;
        if (e->len > 0 && dir_of_wd_.count(e->wd)) {
          const std::string name(e->name);
          if (name.rfind('.', 0) != 0) seen_[dir_of_wd_[e->wd]].emplace(name, now);
        }
        off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      }
    }
  }

  int fd_;
  std::map<int, std::size_t> dir_of_wd_;
  std::mutex mu_;
  std::vector<std::unordered_map<std::string, Clock::time_point>> seen_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> overflowed_{false};
  std::thread thread_;
};

fs::path archive_dir(const Options& o) { return o.data_dir / "objects" / "deleted_orders"; }
fs::path mail_dir(const Options& o) { return o.data_dir / "mail" / "new"; }

// One delete before measuring, so the archive dir exists and the dispatcher is warm.
void warm_up(const Options& o) {
  Connection c(o.port);
  Options one = o;
  one.connections = 1;
  const auto ids = create_orders(one, 1);
  delete_one(c, ids[0]);
  const auto deadline = Clock::now() + 60s;
  while (!fs::exists(archive_dir(o) / (ids[0] + ".json"))) {
    if (Clock::now() > deadline) throw std::runtime_error("warm-up delete was never archived");
    std::this_thread::sleep_for(5ms);
  }
  fs::create_directories(mail_dir(o));
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds bound) {
  const auto deadline = Clock::now() + bound;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

int throughput(const Options& o) {
  warm_up(o);
  const std::size_t archived_before = count_files(archive_dir(o));
  const std::size_t mails_before = count_files(mail_dir(o));

  const auto c0 = Clock::now();
  const auto ids = create_orders(o, o.orders);
  const double create_s = seconds(Clock::now() - c0);

  Watcher watch({archive_dir(o), mail_dir(o)});
  std::vector<Clock::time_point> last_ack(static_cast<std::size_t>(o.connections));
  const auto d0 = Clock::now();
  on_threads(o.connections, [&](int t) {
    Connection c(o.port);
    for (std::size_t i = static_cast<std::size_t>(t); i < ids.size(); i += static_cast<std::size_t>(o.connections))
      delete_one(c, ids[i]);
    last_ack[static_cast<std::size_t>(t)] = Clock::now();
  });
  const auto acked = *std::max_element(last_ack.begin(), last_ack.end());
  const std::size_t archived_at_ack = watch.count(0);
  const std::size_t m = ids.size();
  const std::size_t mails = static_cast<std::size_t>(o.mails);
  const bool archived = wait_until([&] { return watch.count(0) >= m; }, 600s);
  const bool mailed = wait_until([&] { return watch.count(1) >= mails; }, 600s);
  if (!archived || !mailed || watch.overflowed()) {
    std::fprintf(stderr, "incomplete: %zu/%zu archived, %zu/%zu mails%s\n", watch.count(0), m,
                 watch.count(1), mails, watch.overflowed() ? ", inotify queue overflowed" : "");
    return 1;
  }
  const auto archive_done = watch.last(0);
  const auto mail_done = mails > 0 ? watch.last(1) : archive_done;
  // Cross-check the inotify counts against the directories.
  if (count_files(archive_dir(o)) != archived_before + m ||
      count_files(mail_dir(o)) != mails_before + mails) {
    std::fprintf(stderr, "file counts differ: %zu archived (expected %zu), %zu mails (expected %zu)\n",
                 count_files(archive_dir(o)), archived_before + m, count_files(mail_dir(o)),
                 mails_before + mails);
    return 1;
  }
  std::printf("orders %zu\n", m);
  std::printf("create_per_s %.0f\n", static_cast<double>(m) / create_s);
  std::printf("delete_ack_per_s %.0f\n", static_cast<double>(m) / seconds(acked - d0));
  std::printf("archive_events_per_s %.0f\n", static_cast<double>(m) / seconds(archive_done - d0));
  std::printf("all_deliveries_events_per_s %.0f\n",
              static_cast<double>(m) / seconds(std::max(archive_done, mail_done) - d0));
  std::printf("archived_at_last_ack %zu\n", archived_at_ack);
  std::printf("archive_drain_per_s %.0f\n",
              static_cast<double>(m - archived_at_ack) / seconds(archive_done - acked));
  std::printf("drain_after_last_ack_ms %.0f\n",
              1000 * seconds(std::max(archive_done, mail_done) - acked));
  return 0;
}

int lag(const Options& o) {
  warm_up(o);
  const auto ids = create_orders(o, o.orders);
  Watcher watch({archive_dir(o)});
  std::vector<Clock::time_point> sent(ids.size()), acked(ids.size());
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.rate));
  const auto t0 = Clock::now() + 50ms;
  on_threads(o.connections, [&](int t) {
    Connection c(o.port);
    for (std::size_t i = static_cast<std::size_t>(t); i < ids.size(); i += static_cast<std::size_t>(o.connections)) {
      std::this_thread::sleep_until(t0 + interval * static_cast<long>(i));
      sent[i] = Clock::now();
      delete_one(c, ids[i]);
      acked[i] = Clock::now();
    }
  });
  const auto last_sent = *std::max_element(sent.begin(), sent.end());
  if (!wait_until([&] { return watch.count(0) >= ids.size(); }, 600s) || watch.overflowed()) {
    std::fprintf(stderr, "incomplete: %zu/%zu archived\n", watch.count(0), ids.size());
    return 1;
  }
  std::vector<double> from_ack, from_send, late;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto at = *watch.when(0, ids[i] + ".json");
    from_ack.push_back(1000 * seconds(at - acked[i]));
    from_send.push_back(1000 * seconds(at - sent[i]));
    late.push_back(1000 * seconds(sent[i] - (t0 + interval * static_cast<long>(i))));
  }
  std::printf("orders %zu\n", ids.size());
  std::printf("achieved_rate_per_s %.0f\n", static_cast<double>(ids.size() - 1) / seconds(last_sent - sent[0]));
  std::printf("send_late_p99_ms %.2f\n", percentile(late, 0.99));
  for (const auto& [name, v] : {std::pair{"ack_to_object", from_ack}, std::pair{"send_to_object", from_send}}) {
    std::printf("%s_p50_ms %.2f\n", name, percentile(v, 0.50));
    std::printf("%s_p90_ms %.2f\n", name, percentile(v, 0.90));
    std::printf("%s_p99_ms %.2f\n", name, percentile(v, 0.99));
    std::printf("%s_max_ms %.2f\n", name, percentile(v, 1.0));
  }
  const auto before_ack = std::count_if(from_ack.begin(), from_ack.end(), [](double x) { return x < 0; });
  std::printf("object_before_ack %ld\n", static_cast<long>(before_ack));
  return 0;
}

int backlog(const Options& o) {
  const auto ids = create_orders(o, o.orders);
  on_threads(o.connections, [&](int t) {
    Connection c(o.port);
    for (std::size_t i = static_cast<std::size_t>(t); i < ids.size(); i += static_cast<std::size_t>(o.connections))
      delete_one(c, ids[i]);
  });
  std::printf("deleted %zu\n", ids.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    if (o.mode == "throughput") return throughput(o);
    if (o.mode == "lag") return lag(o);
    if (o.mode == "backlog") return backlog(o);
    throw std::invalid_argument("mode must be throughput, lag or backlog");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "events_bench: %s\n", e.what());
    return 2;
  }
}
