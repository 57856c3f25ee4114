// Scale-out on PostgreSQL: API replicas (`serve --role api`) and workers (`orderflow worker`)
// sharing one database, one objects dir, one mailer and the secrets. The test's clients act as a
// load balancer would: a request whose replica died is retried on the other one. Each test has a
// database (or a whole PostgreSQL cluster) of its own.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <atomic>
#include <cctype>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "e2e/events_support.hpp"
#include "e2e/postgres_support.hpp"
#include "support/nats_test_server.hpp"

namespace orderflow::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kAdminToken = "scale-out-admin-token-0123456789abcdef";
constexpr std::string_view kSigningSecret = "scale-out-signing-secret-0123456789abcdef";
constexpr std::string_view kSubscriber = "scale.out@example.com";
// Draining everything a whole run queued, on a 2-core machine.
constexpr std::chrono::seconds kDrain{120};
// A run's progress between the steps of the scenario (kill, restart, end).
constexpr std::chrono::seconds kProgress{120};

std::vector<std::string> file_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  return names;
}

// The status of GET target, 0 when the connection failed (the client reconnects next time).
int status_of(HttpClient& c, const std::string& target) {
  try {
    return c.get(target).status;
  } catch (const std::exception&) {
    c.close();
    return 0;
  }
}

// --- load balancing ---------------------------------------------------------------------------

// The two API replicas as the clients see them: a port each, updated when one restarts (on a
// new port).
class Replicas {
 public:
  Replicas(ServerProcess& a, ServerProcess& b) : processes_{&a, &b} {
    refresh(0);
    refresh(1);
  }
  static constexpr std::size_t size() { return 2; }
  std::uint16_t port(std::size_t i) const { return ports_[i].load(); }
  void refresh(std::size_t i) { ports_[i] = processes_[i]->port(); }

 private:
  std::array<ServerProcess*, 2> processes_;
  std::array<std::atomic<std::uint16_t>, 2> ports_{};
};

// One client thread's connections to every replica. send() starts with the preferred replica and
// moves on to the next when the connection fails or the replica answers 503.
class BalancedClient {
 public:
  explicit BalancedClient(const Replicas& replicas) : replicas_(replicas) {}

  struct Outcome {
    std::optional<Response> response;  // nullopt: every try failed
    int broken_tries = 0;              // tries whose connection failed (the request may have run)
    std::string last_error;
  };

  Outcome send(std::size_t preferred, std::string_view method, const std::string& target,
               const std::string& body = {}, const Headers& headers = {}) {
    Outcome out;
    for (int attempt = 0; attempt < kTries; ++attempt) {
      const std::size_t i = (preferred + static_cast<std::size_t>(attempt)) % Replicas::size();
      try {
        Response r = client(i).request(method, target, body, headers);
        if (r.status != 503) {
          out.response = std::move(r);
          return out;
        }
        out.last_error = describe(r);
      } catch (const std::exception& e) {
        ++out.broken_tries;
        out.last_error = e.what();
        clients_[i].reset();
      }
      if (attempt % 2 == 1) std::this_thread::sleep_for(25ms);  // both replicas refused
    }
    return out;
  }

 private:
  static constexpr int kTries = 800;

  HttpClient& client(std::size_t i) {
    const std::uint16_t port = replicas_.port(i);
    if (!clients_[i] || ports_[i] != port) {
      clients_[i] = std::make_unique<HttpClient>(port, std::chrono::seconds(20));
      ports_[i] = port;
    }
    return *clients_[i];
  }

  const Replicas& replicas_;
  std::array<std::unique_ptr<HttpClient>, 2> clients_;
  std::array<std::uint16_t, 2> ports_{};
};

// What the clients of a run were told, shared by their threads.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> created;  // acknowledged creates: orderId -> description
  std::set<std::string> deleted;               // deletes acknowledged with 200
  // A delete whose answer was lost with its replica, then 404 on the other: it had happened.
  std::set<std::string> deleted_unacknowledged;
  std::vector<std::string> problems;
  std::atomic<int> acknowledged{0};  // creates and deletes
  std::atomic<int> broken_tries{0};  // requests that went to a replica as it died, or was dead
  std::atomic<int> clients_done{0};

  void problem(std::string what) {
    std::lock_guard lock(mu);
    problems.push_back(std::move(what));
  }
  std::set<std::string> gone() {
    std::lock_guard lock(mu);
    std::set<std::string> all = deleted;
    all.insert(deleted_unacknowledged.begin(), deleted_unacknowledged.end());
    return all;
  }
};

// Client thread `t`: creates `creates` orders (each with an Idempotency-Key, so a create retried
// on the other replica is the same order) and deletes every second one right after its successor
// was created, alternating the preferred replica.
void run_client(int t, int creates, const Replicas& replicas, Ledger& ledger,
                std::chrono::milliseconds pause = 0ms) {
  BalancedClient c(replicas);
  std::string previous;
  for (int i = 0; i < creates; ++i) {
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
    const std::string tag = "t" + std::to_string(t) + "-" + std::to_string(i);
    const std::string description = "scale-out order " + tag;
    const auto preferred = static_cast<std::size_t>(t + i);
    const auto made = c.send(preferred, "POST", "/orders",
                             order_body(description, std::to_string(i % 97 + 1) + ".25"),
                             {{"Idempotency-Key", "scale-out-" + tag}});
    ledger.broken_tries += made.broken_tries;
    if (!made.response || made.response->status != 201) {
      ledger.problem("create " + tag + ": " +
                     (made.response ? describe(*made.response) : made.last_error));
      previous.clear();
      continue;
    }
    const std::string id = string_field(made.response->json(), "orderId");
    {
      std::lock_guard lock(ledger.mu);
      ledger.created[id] = description;
    }
    ++ledger.acknowledged;

    if (i % 2 == 1 && !previous.empty()) {
      const auto gone = c.send(preferred + 1, "DELETE", "/orders/" + previous);
      ledger.broken_tries += gone.broken_tries;
      const int status = gone.response ? gone.response->status : 0;
      if (status == 200) {
        std::lock_guard lock(ledger.mu);
        ledger.deleted.insert(previous);
      } else if (status == 404 && gone.broken_tries > 0) {
        std::lock_guard lock(ledger.mu);
        ledger.deleted_unacknowledged.insert(previous);
      } else {
        ledger.problem("delete " + previous + ": " +
                       (gone.response ? describe(*gone.response) : gone.last_error));
      }
      ++ledger.acknowledged;
    }
    previous = id;
  }
  ++ledger.clients_done;
}

// --- what the subscriber received ---------------------------------------------------------------

struct Notices {
  std::map<std::string, std::set<std::string>> events_of;       // Message-ID -> event ids
  std::map<std::string, int> copies;                            // Message-ID -> mails
  std::map<std::string, std::set<std::string>> message_ids_of;  // event id -> Message-IDs
  std::vector<std::string> problems;                            // wrong recipient, no Message-ID
  std::size_t confirmations = 0;

  std::size_t duplicates() const {
    std::size_t n = 0;
    for (const auto& [id, c] : copies) n += static_cast<std::size_t>(c - 1);
    return n;
  }
  std::string summary() const {
    std::ostringstream s;
    s << copies.size() << " distinct notice Message-IDs, " << duplicates()
      << " resent copies (crash window)";
    int shown = 0;
    for (const auto& [id, c] : copies)
      if (c > 1 && ++shown <= 5) s << "; " << id << " x" << c;
    return s.str();
  }
};

Notices read_notices(const fs::path& maildir) {
  Notices n;
  for (const auto& m : read_maildir(maildir)) {
    if (!m.is_notification()) {
      n.confirmations += !link_target(m, "/subscriptions/confirm").empty();
      continue;
    }
    const std::string message_id = trimmed(m.header("Message-ID").value_or(""));
    if (message_id.empty()) {
      n.problems.push_back("a notice without Message-ID: " + m.file.string());
      continue;
    }
    if (!iequal(m.recipient(), kSubscriber))
      n.problems.push_back("a notice to " + m.recipient() + ": " + m.file.string());
    n.events_of[message_id].insert(m.event_id());
    ++n.copies[message_id];
    n.message_ids_of[m.event_id()].insert(message_id);
  }
  return n;
}

std::size_t files_in_new(const fs::path& maildir) { return file_names(maildir / "new").size(); }

// --- the NATS bus ---------------------------------------------------------------------------

// Sum of a labelled gauge over its series in Prometheus text; nullopt when it has none.
std::optional<long long> gauge_sum(const std::string& metrics, std::string_view name) {
  std::istringstream in(metrics);
  std::string line;
  std::optional<long long> sum;
  const std::string prefix = std::string(name) + "{";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto space = line.rfind(' ');
    sum = sum.value_or(0) + std::stoll(line.substr(space + 1));
  }
  return sum;
}

// Every consumer of the stream has handled everything (nothing pending, nothing unacked), as the
// process on `port` reports it in /metrics.
testing::AssertionResult wait_until_bus_drained(std::uint16_t port, std::chrono::seconds bound) {
  HttpClient c(port);
  std::string last;
  const bool ok = eventually(
      [&] {
        try {
          last = c.get("/metrics").body;
        } catch (const std::exception&) {
          c.close();
          return false;
        }
        const auto pending = gauge_sum(last, "orderflow_bus_consumer_pending");
        const auto unacked = gauge_sum(last, "orderflow_bus_consumer_ack_pending");
        const auto backlog = gauge_sum(last + "\n", "orderflow_bus_relay_backlog");
        return pending && unacked && *pending == 0 && *unacked == 0 &&
               last.find("orderflow_bus_relay_backlog 0\n") != std::string::npos && !backlog;
      },
      bound);
  if (ok) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "the bus did not drain; metrics:\n" << last_chars(last, 3000);
}

std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// --- SSE --------------------------------------------------------------------------------------

struct SseEvent {
  std::string id;
  std::string type;
  std::string data;
};

std::vector<SseEvent> parse_sse(const std::string& body) {
  std::vector<SseEvent> events;
  std::istringstream in(body);
  std::string line;
  SseEvent current;
  bool any = false;
  auto flush = [&] {
    if (any) events.push_back(current);
    current = SseEvent{};
    any = false;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == ':') continue;
    const std::size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "id") {
      current.id = value;
    } else if (field == "event") {
      current.type = value;
    } else if (field == "data") {
      current.data += (current.data.empty() ? "" : "\n") + value;
    } else {
      continue;
    }
    any = true;
  }
  flush();
  return events;
}

// --- fixture ----------------------------------------------------------------------------------

class ScaleOut : public testing::Test {
 protected:
  void SetUp() override {
    if (!test_postgres_url())
      GTEST_SKIP() << "ORDERFLOW_TEST_POSTGRES is not set; scripts/test.sh starts a PostgreSQL "
                      "for the tests and sets it";
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& [name, p] : processes_)
        std::cerr << "--- " << name << (p->alive() ? "" : " (no longer running)")
                  << " log (tail) ---\n"
                  << last_chars(p->log(), 5000) << "\n";
      if (sink_)
        std::cerr << "--- smtp sink log (tail) ---\n" << last_chars(sink_->log(), 2000) << "\n";
      if (pg_) std::cerr << "--- postgres log (tail) ---\n" << last_chars(pg_->log(), 3000) << "\n";
      if (nats_) std::cerr << "--- NATS cluster in " << nats_->dir() << " ---\n";
    }
    processes_.clear();  // before their database goes
  }

  // The store every process of the test shares: a fresh database on the suite-wide server,
  // unless the test made one on its private cluster.
  const std::string& store() {
    if (!db_) db_ = std::make_unique<PostgresDatabase>();
    return db_->url();
  }
  void use_private_cluster() {
    pg_ = std::make_unique<PrivatePostgres>();
    db_ = std::make_unique<PostgresDatabase>(pg_->admin_url(), "orderflow");
  }
  // Mail goes to the shared maildir unless the test starts an SMTP sink first.
  SmtpSink& start_sink() {
    sink_ = std::make_unique<SmtpSink>(dir_.path() / "smtp");
    sink_->start();
    return *sink_;
  }
  fs::path mailbox() const { return sink_ ? sink_->maildir() : dir_.path() / "mail"; }
  // Events over a 3-node NATS JetStream cluster of the test's own (bus = nats://...).
  test_support::NatsTestCluster& use_nats() {
    nats_ = std::make_unique<test_support::NatsTestCluster>();
    nats_->start(3);
    return *nats_;
  }
  fs::path objects() const { return dir_.path() / "objects"; }
  fs::path archive() const { return objects() / "deleted_orders"; }

  ServerOptions options(std::string command, std::vector<std::string> args = {}) {
    ServerOptions o;
    o.command = std::move(command);
    o.args = std::move(args);
    o.env = {{"ORDERFLOW_STORE", store()},
             {"ORDERFLOW_SIGNING_SECRET", std::string(kSigningSecret)},
             {"ORDERFLOW_ADMIN_TOKEN", std::string(kAdminToken)},
             {"ORDERFLOW_OBJECTS", "file:" + objects().string()},
             {"ORDERFLOW_MAILER", sink_ ? sink_->url() : "maildir:" + mailbox().string()},
             {"ORDERFLOW_DELIVERY_LEASE_MS", "1500"},
             {"ORDERFLOW_DELIVERY_BACKOFF_INITIAL_MS", "50"},
             {"ORDERFLOW_DELIVERY_BACKOFF_MAX_MS", "500"},
             {"ORDERFLOW_DELIVERY_MAX_ATTEMPTS", "100"}};
    if (nats_) o.env.emplace_back("ORDERFLOW_BUS", nats_->urls());
    return o;
  }
  ServerProcess& start(const std::string& name, ServerOptions o) {
    auto p = std::make_unique<ServerProcess>(dir_.path() / name, std::move(o));
    processes_.emplace_back(name, std::move(p));
    return *processes_.back().second;
  }
  ServerProcess& start_api(const std::string& name) {
    return start(name, options("serve", {"--role", "api"}));
  }
  ServerProcess& start_worker(const std::string& name) { return start(name, options("worker")); }
  void adopt(const std::string& name, std::unique_ptr<ServerProcess> p) {
    processes_.emplace_back(name, std::move(p));
  }

  // POST /subscriptions on one replica, the confirm link of its mail on the other.
  void subscribe_and_confirm_across(ServerProcess& on, ServerProcess& confirm_on) {
    HttpClient a(on.port());
    ASSERT_TRUE(HasStatus(a.post("/subscriptions", subscribe_body(kSubscriber)), 200));
    const auto mails = wait_for_mail(
        mailbox(), [](const auto& m) { return !confirmations_to(m, kSubscriber).empty(); },
        kEventually);
    const auto confirmations = confirmations_to(mails, kSubscriber);
    ASSERT_EQ(confirmations.size(), 1u) << mails.size() << " mails in " << mailbox();
    const std::string target = link_target(confirmations[0], "/subscriptions/confirm");
    ASSERT_FALSE(target.empty()) << confirmations[0].text;
    HttpClient b(confirm_on.port());
    const Response page = confirm_by_link(b, target);
    ASSERT_TRUE(HasStatus(page, 200)) << "a link made by one replica works on another";
    ASSERT_NE(page.body.find("Subscription confirmed"), std::string::npos) << describe(page);
  }

  // Every order in `gone` has exactly one archive object and nothing else is archived; returns
  // the event ids the objects carry.
  std::vector<std::string> expect_archived_once(const std::set<std::string>& gone) {
    std::vector<std::string> files;
    EXPECT_TRUE(eventually(
        [&] {
          files = file_names(archive());
          return files.size() >= gone.size();
        },
        kDrain))
        << files.size() << " of " << gone.size() << " archive objects";
    std::set<std::string> expected;
    for (const auto& id : gone) expected.insert(id + ".json");
    const std::set<std::string> have(files.begin(), files.end());
    EXPECT_EQ(have.size(), files.size());
    std::size_t missing = 0;
    std::size_t extra = 0;
    for (const auto& f : expected) missing += have.count(f) == 0;
    for (const auto& f : have) extra += expected.count(f) == 0;
    EXPECT_EQ(missing, 0u) << "deleted orders without an archive object";
    EXPECT_EQ(extra, 0u) << "archive objects (or temp files) that are not a deleted order's";

    std::vector<std::string> event_ids;
    for (const auto& id : gone) {
      const auto text = slurp_if_exists(archive() / (id + ".json"));
      if (!text) continue;
      boost::system::error_code ec;
      const auto v = boost::json::parse(*text, ec);
      EXPECT_FALSE(ec) << id << ": " << *text;
      if (ec) continue;
      EXPECT_EQ(string_field(v, "orderId"), id);
      event_ids.push_back(string_field(v, "eventId"));
    }
    EXPECT_EQ(std::set<std::string>(event_ids.begin(), event_ids.end()).size(), gone.size())
        << "one event per deleted order";
    return event_ids;
  }

  // The subscriber has one notice (one Message-ID) per deletion, for exactly those events.
  void expect_one_notice_per_deletion(const std::vector<std::string>& event_ids) {
    // The deliveries are done, so the mails are there; a maildir keeps one file per
    // Message-ID, an SMTP sink one per mail received.
    EXPECT_TRUE(
        eventually([&] { return files_in_new(mailbox()) >= event_ids.size() + 1; }, kEventually))
        << files_in_new(mailbox()) << " mails for " << event_ids.size() << " deletions";
    const Notices n = read_notices(mailbox());
    for (const auto& p : n.problems) ADD_FAILURE() << p;
    RecordProperty("distinct_notices", static_cast<int>(n.copies.size()));
    RecordProperty("resent_notices", static_cast<int>(n.duplicates()));
    EXPECT_EQ(n.confirmations, 1u) << "one subscription, one confirmation mail";
    EXPECT_EQ(n.copies.size(), event_ids.size()) << n.summary();
    for (const auto& [message_id, events] : n.events_of)
      EXPECT_EQ(events.size(), 1u) << "Message-ID " << message_id << " on several events";
    std::size_t without = 0;
    std::size_t several = 0;
    for (const auto& e : event_ids) {
      const auto it = n.message_ids_of.find(e);
      if (it == n.message_ids_of.end())
        ++without;
      else if (it->second.size() != 1)
        ++several;
    }
    EXPECT_EQ(without, 0u) << "deletions without a notice; " << n.summary();
    EXPECT_EQ(several, 0u) << "deletions noticed under several Message-IDs; " << n.summary();
    const std::set<std::string> wanted(event_ids.begin(), event_ids.end());
    std::size_t foreign = 0;
    for (const auto& [e, ids] : n.message_ids_of) foreign += wanted.count(e) == 0;
    EXPECT_EQ(foreign, 0u) << "notices for events that are no deletion of this run";
    if (n.duplicates() > 0) std::cerr << "scale-out: " << n.summary() << "\n";
  }

  // What dies a third of the way into a run, and comes back a little later.
  struct Disruption {
    std::function<void(ServerProcess& api_a, ServerProcess& worker_1)> kill;
    std::function<void(ServerProcess& api_a, ServerProcess& worker_1)> restart;
    bool kills_an_api_replica = true;
  };
  static Disruption kill_a_replica_and_a_worker() {
    return {[](ServerProcess& api, ServerProcess& worker) {
              worker.kill9();
              api.kill9();
            },
            [](ServerProcess& api, ServerProcess& worker) {
              worker.restart();
              api.restart();
            },
            true};
  }

  // The run of (a), (b) and the NATS runs: 2 API replicas and 2 workers; `threads` clients
  // create `creates_per_thread` orders each and delete half of them; a third of the way in,
  // `disruption` kills (by default one worker and one API replica, by SIGKILL) and a little
  // later restarts.
  void run_with_kill_and_restart(int threads, int creates_per_thread,
                                 const Disruption& disruption = kill_a_replica_and_a_worker()) {
    ServerProcess& api_a = start_api("api-a");
    ServerProcess& api_b = start_api("api-b");
    ServerProcess& worker_1 = start_worker("worker-1");
    start_worker("worker-2");
    ASSERT_NO_FATAL_FAILURE(subscribe_and_confirm_across(api_a, api_b));

    Replicas replicas(api_a, api_b);
    Ledger ledger;
    std::vector<std::jthread> clients;  // joined however the test leaves this scope
    for (int t = 0; t < threads; ++t)
      clients.emplace_back([&, t] { run_client(t, creates_per_thread, replicas, ledger); });

    const int total = threads * creates_per_thread * 3 / 2;
    auto reached = [&](int n) {
      return eventually([&] { return ledger.acknowledged >= n || ledger.clients_done == threads; },
                        kProgress);
    };
    EXPECT_TRUE(reached(total / 3));
    disruption.kill(api_a, worker_1);
    EXPECT_TRUE(reached(total / 3 + total / 10));
    const bool still_running = ledger.clients_done < threads;
    disruption.restart(api_a, worker_1);
    replicas.refresh(0);
    for (auto& c : clients) c.join();
    EXPECT_TRUE(still_running) << "the run ended before the killed processes were back";
    if (disruption.kills_an_api_replica) {
      EXPECT_GT(ledger.broken_tries.load(), 0) << "no client noticed the replica that died";
    }
    RecordProperty("failed_over_requests", ledger.broken_tries.load());
    RecordProperty("deletes_answered_by_a_dead_replica",
                   static_cast<int>(ledger.deleted_unacknowledged.size()));

    int shown = 0;
    for (const auto& p : ledger.problems)
      if (++shown <= 10) ADD_FAILURE() << p;
    EXPECT_TRUE(ledger.problems.empty()) << ledger.problems.size() << " requests failed";
    EXPECT_EQ(ledger.created.size(), static_cast<std::size_t>(threads * creates_per_thread));

    // Every acknowledged create is there (through either replica) unless it was deleted.
    const std::set<std::string> gone = ledger.gone();
    EXPECT_EQ(gone.size(), static_cast<std::size_t>(threads * creates_per_thread / 2));
    HttpClient a(replicas.port(0));
    HttpClient b(replicas.port(1));
    std::size_t lost = 0;
    std::size_t not_deleted = 0;
    std::size_t k = 0;
    std::set<std::string> remaining;
    for (const auto& [id, description] : ledger.created) {
      const Response r = (k++ % 2 == 0 ? a : b).get("/orders/" + id);
      if (gone.count(id) != 0) {
        if (r.status != 404 && ++not_deleted <= 5) ADD_FAILURE() << "deleted: " << describe(r);
        continue;
      }
      remaining.insert(id);
      if (r.status != 200 || string_field(r.json().at("order"), "description") != description)
        if (++lost <= 5) ADD_FAILURE() << "acknowledged create: " << describe(r);
    }
    EXPECT_EQ(lost, 0u) << "acknowledged creates missing or changed";
    EXPECT_EQ(not_deleted, 0u) << "acknowledged deletes still there";
    // Nothing else is there: a create retried on the other replica did not make a second order.
    std::set<std::string> listed;
    for (const auto& o : list_all_orders(b)) listed.insert(string_field(o, "orderId"));
    EXPECT_EQ(listed, remaining);

    const auto event_ids = expect_archived_once(gone);
    if (nats_) {
      ASSERT_TRUE(wait_until_bus_drained(replicas.port(0), kDrain));
    } else {
      ASSERT_TRUE(wait_until_delivered(a, kAdminToken, event_ids, kDrain));
    }
    EXPECT_TRUE(admin_deliveries(b, kAdminToken, "dead").empty());
    expect_one_notice_per_deletion(event_ids);
  }

  TempDir dir_;
  std::unique_ptr<SmtpSink> sink_;
  std::unique_ptr<PrivatePostgres> pg_;
  std::unique_ptr<PostgresDatabase> db_;
  std::vector<std::pair<std::string, std::unique_ptr<ServerProcess>>> processes_;
  std::unique_ptr<test_support::NatsTestCluster> nats_;  // declared last: stopped first
};

// (a) 2,000 creates and 1,000 deletes from 4 clients over 2 API replicas and 2 workers, one of
// each killed and restarted in the middle.
TEST_F(ScaleOut, ReplicasAndWorkersSurviveKillsWithEveryDeleteArchivedAndNotifiedOnce) {
  run_with_kill_and_restart(/*threads=*/4, /*creates_per_thread=*/500);
}

// (b) The same over SMTP (aiosmtpd), where a resent notice is a second mail with the same
// Message-ID; fewer orders.
TEST_F(ScaleOut, OverSmtpEveryDeleteIsNotifiedUnderOneMessageId) {
  start_sink();
  run_with_kill_and_restart(/*threads=*/2, /*creates_per_thread=*/200);
}

// (c) PostgreSQL stopped for 10 s under load and started again: 503 with Retry-After while it is
// down, never a 500 or a dead process; afterwards requests succeed again and every delivery
// completes, without restarting anything.
TEST_F(ScaleOut, DatabaseOutageGives503AndEverythingRecoversByItself) {
  use_private_cluster();
  ServerProcess& api = start_api("api");
  ServerProcess& worker = start_worker("worker");

  enum Phase { kUp = 0, kDown = 1, kBack = 2 };
  std::atomic<int> phase{kUp};
  std::atomic<bool> stopping{false};
  std::atomic<int> acknowledged{0};
  std::atomic<int> answered_503_while_down{0};
  Ledger ledger;

  auto client_thread = [&](int t) {
    auto c = std::make_unique<HttpClient>(api.port(), std::chrono::seconds(30));
    std::vector<std::string> to_delete;  // created, delete not yet answered 200/404
    std::set<std::string> had_503;       // deletes that failed once (they may have committed)
    // One exchange; nullopt when the connection failed (a problem in every phase).
    auto exchange = [&](std::string_view method, const std::string& target, const std::string& body,
                        const Headers& headers) -> std::optional<Response> {
      const int before = phase;
      std::optional<Response> r;
      try {
        r = c->request(method, target, body, headers);
      } catch (const std::exception& e) {
        ledger.problem(std::string(method) + " " + target + ": no answer (" + e.what() +
                       ") in phase " + std::to_string(before) + "/" + std::to_string(phase.load()));
        c = std::make_unique<HttpClient>(api.port(), std::chrono::seconds(30));
        std::this_thread::sleep_for(100ms);
        return std::nullopt;
      }
      const bool down = before == kDown && phase == kDown;
      if (r->status == 503) {
        if (!r->header("Retry-After")) ledger.problem("503 without Retry-After: " + describe(*r));
        if (down) ++answered_503_while_down;
        std::this_thread::sleep_for(20ms);
      } else if (r->status >= 500) {
        ledger.problem("server error: " + describe(*r));
      } else if (down) {
        ledger.problem("answered while the database was down: " + describe(*r));
      }
      return r;
    };
    auto try_deletes = [&] {
      for (auto it = to_delete.begin(); it != to_delete.end();) {
        const auto r = exchange("DELETE", "/orders/" + *it, {}, {});
        if (!r || r->status == 503) {
          had_503.insert(*it);
          return;
        }
        if (r->status == 200 || (r->status == 404 && had_503.count(*it) != 0)) {
          std::lock_guard lock(ledger.mu);
          (r->status == 200 ? ledger.deleted : ledger.deleted_unacknowledged).insert(*it);
          ++acknowledged;
        } else {
          ledger.problem("delete " + *it + ": " + describe(*r));
        }
        it = to_delete.erase(it);
      }
    };
    for (int i = 0; !stopping; ++i) {
      const std::string tag = "outage-t" + std::to_string(t) + "-" + std::to_string(i);
      const auto r = exchange("POST", "/orders", order_body("order " + tag, "3.50"),
                              {{"Idempotency-Key", tag}});
      if (r && r->status == 201) {
        const std::string id = string_field(r->json(), "orderId");
        {
          std::lock_guard lock(ledger.mu);
          ledger.created[id] = "order " + tag;
        }
        ++acknowledged;
        to_delete.push_back(id);
      } else if (r && r->status != 503) {
        ledger.problem("create: " + describe(*r));
      }
      try_deletes();
    }
    // The run is over: finish the deletes still owed (bounded).
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!to_delete.empty() && std::chrono::steady_clock::now() < deadline) try_deletes();
    for (const auto& id : to_delete) ledger.problem("delete " + id + " never succeeded");
  };
  std::vector<std::jthread> clients;  // joined however the test leaves this scope
  for (int t = 0; t < 2; ++t) clients.emplace_back(client_thread, t);
  struct StopClients {
    std::atomic<bool>& stopping;
    ~StopClients() { stopping = true; }  // runs before the clients are joined
  } stop_clients{stopping};

  HttpClient api_probe(api.port());
  HttpClient worker_probe(worker.port());
  auto readyz = [](HttpClient& c) { return status_of(c, "/readyz"); };

  EXPECT_TRUE(eventually([&] { return acknowledged >= 100; }, kProgress));
  pg_->stop();
  phase = kDown;
  const auto down_since = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return readyz(api_probe) == 503; }, kEventually))
      << "the API replica is not unready while its database is down";
  EXPECT_TRUE(eventually([&] { return readyz(worker_probe) == 503; }, kEventually))
      << "the worker is not unready while its database is down";
  std::this_thread::sleep_until(down_since + 10s);
  EXPECT_TRUE(api.alive());
  EXPECT_TRUE(worker.alive());
  EXPECT_GT(answered_503_while_down.load(), 0) << "no request got 503 while the database was down";
  RecordProperty("answered_503_while_down", answered_503_while_down.load());

  phase = kBack;
  pg_->start();
  const int before = acknowledged;
  EXPECT_TRUE(eventually([&] { return acknowledged >= before + 100; }, kProgress))
      << "requests do not succeed again after PostgreSQL came back";
  EXPECT_TRUE(eventually([&] { return readyz(api_probe) == 200; }, kEventually));
  EXPECT_TRUE(eventually([&] { return readyz(worker_probe) == 200; }, kEventually));
  stopping = true;
  for (auto& c : clients) c.join();
  EXPECT_TRUE(api.alive()) << "the API replica died";
  EXPECT_TRUE(worker.alive()) << "the worker died";

  int shown = 0;
  for (const auto& p : ledger.problems)
    if (++shown <= 10) ADD_FAILURE() << p;
  EXPECT_TRUE(ledger.problems.empty()) << ledger.problems.size() << " problems";

  HttpClient c(api.port());
  const std::set<std::string> gone = ledger.gone();
  std::size_t wrong = 0;
  for (const auto& [id, description] : ledger.created) {
    const Response r = c.get("/orders/" + id);
    if (r.status != (gone.count(id) != 0 ? 404 : 200) && ++wrong <= 5)
      ADD_FAILURE() << (gone.count(id) != 0 ? "deleted: " : "created: ") << describe(r);
  }
  EXPECT_EQ(wrong, 0u);
  const auto event_ids = expect_archived_once(gone);
  ASSERT_TRUE(wait_until_delivered(c, kAdminToken, event_ids, kDrain));
  EXPECT_TRUE(admin_deliveries(c, kAdminToken, "dead").empty());
}

// (d) GET /events on replica B sees what replica A commits (LISTEN/NOTIFY wakes B's listeners).
TEST_F(ScaleOut, EventStreamOnOneReplicaSeesOrdersCreatedOnAnother) {
  ServerProcess& api_a = start_api("api-a");
  ServerProcess& api_b = start_api("api-b");

  HttpClient b(api_b.port(), std::chrono::seconds(40));
  const Response ready = b.get("/events");
  ASSERT_TRUE(HasStatus(ready, 200));
  const auto ready_events = parse_sse(ready.body);
  ASSERT_EQ(ready_events.size(), 1u) << ready.body;
  ASSERT_EQ(ready_events[0].type, "ready") << ready.body;

  // B waits for events after its position before A commits anything, and keeps reconnecting with
  // Last-Event-ID as EventSource does until it has seen both changes of the order.
  std::string order_id;
  std::mutex mu;
  std::vector<SseEvent> seen;
  std::string listen_error;
  std::atomic<bool> done{false};
  std::jthread listener([&] {
    std::string position = ready_events[0].id;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      Response r;
      try {
        r = b.get("/events", {{"Last-Event-ID", position}});
      } catch (const std::exception& e) {
        std::lock_guard lock(mu);
        listen_error = e.what();
        return;
      }
      if (r.status != 200) {
        std::lock_guard lock(mu);
        listen_error = describe(r);
        return;
      }
      std::lock_guard lock(mu);
      bool deleted = false;
      for (auto& e : parse_sse(r.body)) {
        if (!e.id.empty()) position = e.id;
        deleted = deleted || e.type == "orderflow.order.deleted";
        seen.push_back(std::move(e));
      }
      if (deleted) return;  // the last change of the only order in this database
    }
  });

  HttpClient a(api_a.port());
  order_id = create_order(a, "seen across replicas", "12.34");
  EXPECT_FALSE(order_id.empty());
  EXPECT_TRUE(delete_order(a, order_id));

  auto types_for_order = [&] {
    std::vector<std::string> types;
    std::lock_guard lock(mu);
    for (const auto& e : seen) {
      boost::system::error_code ec;
      const auto v = boost::json::parse(e.data, ec);
      if (!ec && string_field(v, "subject") == order_id) types.push_back(e.type);
    }
    return types;
  };
  auto failed = [&] {
    std::lock_guard lock(mu);
    return !listen_error.empty();
  };
  EXPECT_TRUE(eventually([&] { return types_for_order().size() >= 2 || failed(); }, 90s));
  done = true;
  listener.join();
  EXPECT_EQ(listen_error, "");
  EXPECT_EQ(types_for_order(),
            (std::vector<std::string>{"orderflow.order.created", "orderflow.order.deleted"}));
}

// (e) Three processes started at once on a fresh database all become ready (the schema is
// applied once, whoever wins), and `orderflow migrate` afterwards has nothing left to fail on.
TEST_F(ScaleOut, ProcessesStartingTogetherMigrateOnce) {
  const std::array<std::pair<std::string, ServerOptions>, 3> plan = {{
      {"api", options("serve", {"--role", "api"})},
      {"all", options("serve")},
      {"worker", options("worker")},
  }};
  // All three are spawned before any is waited for.
  for (const auto& [name, o] : plan)
    adopt(name, std::make_unique<ServerProcess>(dir_.path() / name, o, ServerProcess::Wait::no));
  for (const auto& [name, p] : processes_) {
    try {
      p->await_listening();
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << " did not start: " << e.what();
    }
  }
  if (HasFailure()) return;
  ASSERT_EQ(processes_.size(), plan.size());

  for (const auto& [name, p] : processes_) {
    HttpClient c(p->port());
    EXPECT_TRUE(eventually([&] { return status_of(c, "/readyz") == 200; })) << name << " not ready";
  }
  // They share one working schema: written through one, read through the other.
  HttpClient api(processes_[0].second->port());
  HttpClient all(processes_[1].second->port());
  const std::string id = create_order(api, "migrated once", "1.00");
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(HasStatus(all.get("/orders/" + id), 200));

  fs::create_directories(dir_.path() / "migrate");
  const RunResult migrate =
      run_orderflow({"migrate", "--data-dir", (dir_.path() / "migrate").string()},
                    {{"ORDERFLOW_STORE", store()}});
  EXPECT_EQ(migrate.exit_code, 0) << migrate.out << migrate.err;
  EXPECT_TRUE(HasStatus(all.get("/orders/" + id), 200)) << "migrate changed nothing that was there";
}

// (f) A worker's own listener: health, readiness and metrics, and nothing of the API.
TEST_F(ScaleOut, WorkerAnswersHealthReadinessAndMetricsOnly) {
  ServerProcess& worker = start_worker("worker");
  HttpClient c(worker.port());
  EXPECT_TRUE(HasStatus(c.get("/healthz"), 200));
  EXPECT_TRUE(eventually([&] { return status_of(c, "/readyz") == 200; }))
      << describe(c.get("/readyz"));
  const Response metrics = c.get("/metrics");
  ASSERT_TRUE(HasStatus(metrics, 200));
  EXPECT_EQ(metrics.header("Content-Type").value_or("").rfind("text/plain", 0), 0u)
      << describe(metrics);
  EXPECT_TRUE(metric_value(metrics.body, "orderflow_deliveries_pending").has_value())
      << metrics.body;

  for (const std::string target : {"/orders", "/orders/0190c1a2-0000-7000-8000-000000000000",
                                   "/events", "/admin/deliveries?state=dead", "/"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(c.get(target).status, 404);
  }
  EXPECT_EQ(c.post("/orders", order_body("not here", "1")).status, 404);
}


// --- events over NATS JetStream (bus = nats://...) ----------------------------------------------

// The run of (a) with events over a 3-node JetStream cluster: a third of the way in, the node
// that leads the event stream dies of SIGKILL, then a worker; both come back a little later.
// Every deleted order is still archived once and noticed once.
TEST_F(ScaleOut, OverNatsAStreamLeaderAndAWorkerDieAndNothingIsLostOrDoneTwice) {
  test_support::NatsTestCluster& nats = use_nats();
  int killed = -1;
  const Disruption leader_then_worker{
      [&](ServerProcess&, ServerProcess& worker) {
        killed = nats.stream_leader("ORDERFLOW_EVENTS");
        EXPECT_GE(killed, 0) << "the stream has a leader";
        if (killed >= 0) nats.kill_node(killed);
        worker.kill9();
      },
      [&](ServerProcess&, ServerProcess& worker) {
        if (killed >= 0) nats.start_node(killed);
        worker.restart();
      },
      false};
  run_with_kill_and_restart(/*threads=*/4, /*creates_per_thread=*/500, leader_then_worker);
  RecordProperty("killed_stream_leader", killed);
}

// The whole NATS cluster down for 10 s under load: creates and deletes are still acknowledged
// (their events wait in the outbox), each process's relay says so once, and once the cluster is
// back the backlog drains with every deleted order archived and noticed exactly once.
TEST_F(ScaleOut, OverNatsAWholeClusterOutageDelaysEventsAndLosesNone) {
  test_support::NatsTestCluster& nats = use_nats();
  ServerProcess& api = start_api("api");
  ServerProcess& worker = start_worker("worker");
  ASSERT_NO_FATAL_FAILURE(subscribe_and_confirm_across(api, api));

  Replicas replicas(api, api);
  Ledger ledger;
  constexpr int kThreads = 2;
  constexpr int kCreates = 1000;  // with the pauses, well beyond the outage
  std::vector<std::jthread> clients;  // joined however the test leaves this scope
  for (int t = 0; t < kThreads; ++t)
    clients.emplace_back([&, t] { run_client(t, kCreates, replicas, ledger, 20ms); });
  const auto reached = [&](int n) {
    return eventually([&] { return ledger.acknowledged >= n || ledger.clients_done == kThreads; }, kProgress);
  };
  EXPECT_TRUE(reached(100));
  nats.stop();
  const int before_outage = ledger.acknowledged;
  std::this_thread::sleep_for(10s);
  const int during_outage = ledger.acknowledged - before_outage;
  const bool still_running = ledger.clients_done < kThreads;
  nats.start_nodes({0, 1, 2});
  for (auto& c : clients) c.join();
  EXPECT_TRUE(still_running) << "the load ended before the cluster was back";
  EXPECT_GT(during_outage, 100) << "writes were acknowledged while the bus was down";
  RecordProperty("acknowledged_during_outage", during_outage);
  for (const auto& p : ledger.problems) ADD_FAILURE() << p;

  const std::set<std::string> gone = ledger.gone();
  EXPECT_EQ(gone.size(), static_cast<std::size_t>(kThreads * kCreates / 2));
  const auto event_ids = expect_archived_once(gone);
  ASSERT_TRUE(wait_until_bus_drained(api.port(), kDrain));
  HttpClient c(api.port());
  EXPECT_TRUE(admin_deliveries(c, kAdminToken, "dead").empty());
  expect_one_notice_per_deletion(event_ids);
  for (ServerProcess* p : {&api, &worker}) {
    // A relay that stood by while the other drained the backlog says so at its next round,
    // up to its longest backoff after the cluster came back.
    EXPECT_TRUE(eventually([&] { return occurrences(p->log(), "outbox relay resumed") >= 1; }, kEventually))
        << last_chars(p->log(), 3000);
    const std::string log = p->log();
    EXPECT_EQ(occurrences(log, "outbox relay paused"), 1u) << "one warning per outage\n" << last_chars(log, 3000);
  }
}

// A delivery that fails for its last attempt on the bus is a dead delivery in the admin API;
// its redrive goes through the bus to that one subscription and completes.
TEST_F(ScaleOut, OverNatsADeadDeliveryIsListedAndItsRedriveCompletes) {
  use_nats();
  // The archive cannot be written while its folder is a file: archiving fails every time.
  fs::create_directories(objects());
  std::ofstream(archive()) << "not a directory";
  ServerOptions o = options("serve");
  for (auto& [name, value] : o.env)
    if (name == "ORDERFLOW_DELIVERY_MAX_ATTEMPTS") value = "3";
  ServerProcess& server = start("serve", o);
  HttpClient c(server.port());
  const std::string id = create_order(c, "doomed", "1.00");
  ASSERT_TRUE(delete_order(c, id));
  std::vector<boost::json::object> dead;
  ASSERT_TRUE(eventually([&] { return !(dead = admin_deliveries(c, kAdminToken, "dead")).empty(); }, kDrain))
      << last_chars(server.log(), 3000);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(str(dead[0], "subscription"), std::string(kArchive));
  EXPECT_EQ(num(dead[0], "attempts"), 3);

  fs::remove(archive());
  const Response r = c.post("/admin/deliveries/" + std::to_string(num(dead[0], "id")) + "/redrive", "",
                            bearer(kAdminToken));
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_TRUE(eventually([&] { return fs::exists(archive() / (id + ".json")); }, kDrain))
      << last_chars(server.log(), 3000);
  EXPECT_TRUE(eventually([&] { return admin_deliveries(c, kAdminToken, "pending").empty(); }, kEventually))
      << "the redriven delivery is marked done once its subscription handled it";
  EXPECT_TRUE(admin_deliveries(c, kAdminToken, "dead").empty());
  EXPECT_EQ(admin_deliveries(c, kAdminToken, "done").size(), 1u);
}
}  // namespace
}  // namespace orderflow::e2e
