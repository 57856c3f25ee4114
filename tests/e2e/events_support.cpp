#include "e2e/events_support.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

namespace orderflow::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::optional<std::string> slurp_if_exists(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(20ms);
  }
}

// --- archive objects --------------------------------------------------------------------------

fs::path archive_dir(const ServerProcess& server) {
  return server.data_dir() / "objects" / "deleted_orders";
}

std::optional<std::string> read_archive(const ServerProcess& server, const std::string& order_id) {
  return slurp_if_exists(archive_dir(server) / (order_id + ".json"));
}

std::optional<std::string> wait_for_archive(const ServerProcess& server,
                                            const std::string& order_id,
                                            std::chrono::milliseconds bound) {
  std::optional<std::string> text;
  eventually([&] { return (text = read_archive(server, order_id)).has_value(); }, bound);
  return text;
}

std::vector<std::string> archive_files(const ServerProcess& server) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(archive_dir(server), ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string archived_event_id(const ServerProcess& server, const std::string& order_id) {
  const auto text = read_archive(server, order_id);
  if (!text) return {};
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*text, ec);
  return ec ? std::string() : string_field(v, "eventId");
}

// --- orders and subscriptions -----------------------------------------------------------------

testing::AssertionResult delete_order(HttpClient& c, const std::string& id) {
  return HasStatus(c.request("DELETE", "/orders/" + id), 200);
}

fs::path server_maildir(const ServerProcess& server) { return server.data_dir() / "mail"; }

std::string subscribe_body(std::string_view email) {
  return "{\"email\":" + json_quote(email) + "}";
}

Response confirm_by_link(HttpClient& c, const std::string& target) {
  const Response page = c.get(target);
  if (page.status != 200 || page.body.find("method=\"post\"") == std::string::npos) return page;
  return c.post(target, "", {{"Content-Type", "application/x-www-form-urlencoded"}});
}

testing::AssertionResult subscribe_and_confirm(HttpClient& c, const fs::path& maildir,
                                               const std::string& email) {
  const std::size_t before = confirmations_to(read_maildir(maildir), email).size();
  const Response r = c.post("/subscriptions", subscribe_body(email));
  if (r.status != 200) return testing::AssertionFailure() << "subscribe: " << describe(r);
  const auto mails = wait_for_mail(
      maildir, [&](const auto& m) { return confirmations_to(m, email).size() > before; },
      kEventually);
  const auto confirmations = confirmations_to(mails, email);
  if (confirmations.size() <= before)
    return testing::AssertionFailure() << "no confirmation mail for " << email << " in "
                                       << maildir << " (" << mails.size() << " mails)";
  const std::string target = link_target(confirmations.back(), "/subscriptions/confirm");
  const Response done = confirm_by_link(c, target);
  if (done.status != 200 || done.body.find("Subscription confirmed") == std::string::npos)
    return testing::AssertionFailure() << "confirm " << email << ": " << describe(done);
  return testing::AssertionSuccess();
}

// --- admin API and CLI ------------------------------------------------------------------------

std::string admin_token(const ServerProcess& server) {
  return trimmed(slurp_if_exists(server.data_dir() / "admin-token").value_or(""));
}

Headers bearer(std::string_view token) { return {{"Authorization", "Bearer " + std::string(token)}}; }

std::vector<boost::json::object> admin_deliveries(HttpClient& c, std::string_view token,
                                                  std::string_view state, int limit) {
  std::vector<boost::json::object> all;
  std::string cursor;
  for (int page = 0; page < 10'000; ++page) {
    std::string target = "/admin/deliveries?state=" + std::string(state) +
                         "&limit=" + std::to_string(limit);
    if (!cursor.empty()) target += "&cursor=" + query_escape(cursor);
    const Response r = c.get(target, bearer(token));
    if (r.status != 200) {
      ADD_FAILURE() << "listing deliveries failed: " << describe(r);
      return all;
    }
    const boost::json::value v = r.json();
    for (const auto& d : v.at("deliveries").as_array()) all.push_back(d.as_object());
    const auto* next = v.as_object().if_contains("nextCursor");
    if (next == nullptr) return all;
    cursor = next->is_string() ? std::string(next->get_string())
                               : boost::json::serialize(*next);
  }
  ADD_FAILURE() << "listing deliveries never ended";
  return all;
}

std::string str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t num(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return -1;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return -1;
}

std::vector<boost::json::object> of_event(const std::vector<boost::json::object>& deliveries,
                                          std::string_view event_id,
                                          std::string_view subscription) {
  std::vector<boost::json::object> out;
  for (const auto& d : deliveries)
    if (str(d, "eventId") == event_id && (subscription.empty() || str(d, "subscription") == subscription))
      out.push_back(d);
  return out;
}

testing::AssertionResult wait_until_delivered(HttpClient& c, std::string_view token,
                                              const std::vector<std::string>& event_ids,
                                              std::chrono::milliseconds bound) {
  std::set<std::string> missing;
  const bool ok = eventually(
      [&] {
        const auto done = admin_deliveries(c, token, "done");
        missing.clear();
        std::set<std::pair<std::string, std::string>> have;
        for (const auto& d : done) have.emplace(str(d, "eventId"), str(d, "subscription"));
        for (const auto& id : event_ids)
          for (auto sub : {kArchive, kNotify})
            if (have.count({id, std::string(sub)}) == 0) missing.insert(id + "/" + std::string(sub));
        if (!missing.empty()) return false;
        // Other subscribers of the event (whatever the subscription table adds) are done too.
        const std::set<std::string> wanted(event_ids.begin(), event_ids.end());
        for (const auto& d : admin_deliveries(c, token, "pending"))
          if (wanted.count(str(d, "eventId")) != 0)
            missing.insert(str(d, "eventId") + "/" + str(d, "subscription"));
        return missing.empty();
      },
      bound);
  if (ok) return testing::AssertionSuccess();
  auto failure = testing::AssertionFailure();
  failure << missing.size() << " deliveries not done (archive and notify, then no pending), e.g.";
  int shown = 0;
  for (const auto& m : missing) {
    if (++shown > 5) break;
    failure << " " << m;
  }
  return failure;
}

RunResult cli(const std::vector<std::string>& args) { return run_orderflow(args); }

RunResult cli(const ServerProcess& server, std::vector<std::string> args) {
  args.push_back("--data-dir");
  args.push_back(server.data_dir().string());
  Headers env;
  if (auto store = server.store()) env.emplace_back("ORDERFLOW_STORE", *store);
  return run_orderflow(args, env);
}

testing::AssertionResult cli_deliveries(const ServerProcess& server, std::string_view state,
                                        std::vector<boost::json::object>& out) {
  const RunResult r = cli(server, {"deliveries", "list", "--state", std::string(state)});
  if (r.exit_code != 0)
    return testing::AssertionFailure() << "deliveries list exited " << r.exit_code
                                       << "\nstdout: " << r.out << "\nstderr: " << r.err;
  out.clear();
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (trimmed(line).empty()) continue;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(line, ec);
    if (ec || !v.is_object())
      return testing::AssertionFailure() << "not a JSON object line: " << line;
    out.push_back(v.as_object());
  }
  return testing::AssertionSuccess();
}

// --- metrics ----------------------------------------------------------------------------------

std::optional<double> metric_value(const std::string& text, std::string_view name) {
  std::optional<double> sum;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char after = line.size() > name.size() ? line[name.size()] : '\0';
    if (after != ' ' && after != '{') continue;
    const std::size_t value_at = line.rfind(' ');
    try {
      sum = sum.value_or(0) + std::stod(line.substr(value_at + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return sum;
}

std::optional<double> read_metric(HttpClient& c, std::string_view name) {
  const Response r = c.get("/metrics");
  if (r.status != 200) {
    ADD_FAILURE() << describe(r);
    return std::nullopt;
  }
  return metric_value(r.body, name);
}

// --- fixture ----------------------------------------------------------------------------------

void EventsTest::TearDown() {
  if (HasFailure()) {
    if (env_) std::cerr << "--- server log (tail) ---\n" << last_chars(env_->server.log(), 6000) << "\n";
    if (sink_) std::cerr << "--- smtp sink log (tail) ---\n" << last_chars(sink_->log(), 2000) << "\n";
  }
  client_.reset();
  env_.reset();
  sink_.reset();
  sink_dir_.reset();
}

ServerProcess& EventsTest::start(ServerOptions options) {
  client_.reset();
  env_.reset();
  env_ = std::make_unique<TestServer>(std::move(options));
  return env_->server;
}

HttpClient& EventsTest::client() {
  if (!client_ || client_port_ != server().port()) {
    client_port_ = server().port();
    client_ = std::make_unique<HttpClient>(client_port_);
  }
  return *client_;
}

void EventsTest::restart_server(bool crash) {
  client_.reset();
  if (crash) server().kill9();
  else ASSERT_EQ(server().stop(), 0) << "exit status of SIGTERM";
  server().restart();
}

SmtpSink& EventsTest::sink() {
  if (!sink_) {
    sink_dir_ = std::make_unique<TempDir>();
    sink_ = std::make_unique<SmtpSink>(sink_dir_->path());
  }
  return *sink_;
}

ServerOptions EventsTest::smtp_options(int max_attempts) {
  ServerOptions o;
  // A send that failed keeps its notice claimed until the lease ends, and a retry or redrive of
  // it waits for that: a short lease keeps these tests quick.
  o.env = {{"ORDERFLOW_MAILER", sink().url()},
           {"ORDERFLOW_DELIVERY_BACKOFF_INITIAL_MS", "50"},
           {"ORDERFLOW_DELIVERY_BACKOFF_MAX_MS", "200"},
           {"ORDERFLOW_DELIVERY_LEASE_MS", "300"},
           {"ORDERFLOW_DELIVERY_MAX_ATTEMPTS", std::to_string(max_attempts)}};
  return o;
}

void EventsTest::confirm_then_restart(const std::vector<std::string>& emails,
                                      ServerOptions options) {
  for (const auto& e : emails) ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), e));
  client_.reset();
  ASSERT_EQ(server().stop(), 0);
  server().restart(std::move(options));
}

std::pair<std::string, std::string> EventsTest::delete_new_order(std::string_view description,
                                                                 std::string_view price_json) {
  const std::string id = create_order(client(), description, price_json);
  if (id.empty()) return {};
  EXPECT_TRUE(delete_order(client(), id));
  if (!wait_for_archive(server(), id)) {
    ADD_FAILURE() << "no archive object for " << id << " within " << kEventually.count() << " s";
    return {id, ""};
  }
  return {id, archived_event_id(server(), id)};
}

}  // namespace orderflow::e2e
