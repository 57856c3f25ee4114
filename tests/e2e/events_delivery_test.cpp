// Delivery faults: retries with backoff while the SMTP server is down, dead letters after
// max_attempts, redrive over the admin API and the CLI, and the admin API's bearer token.
// Subscribers are confirmed on the default maildir first; the server is then restarted on the
// same data dir with an SMTP mailer whose server is not running yet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <string>
#include <vector>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

using testing::HasSubstr;

class EventsDelivery : public EventsTest {
 protected:
  // Deletes `n` new orders and waits for their archive objects (the archive does not need SMTP).
  std::vector<std::string> delete_orders(int n) {
    std::vector<std::string> event_ids;
    for (int i = 0; i < n; ++i) {
      const auto [id, event_id] = delete_new_order("fault order " + std::to_string(i), "7.70");
      EXPECT_FALSE(event_id.empty()) << id;
      event_ids.push_back(event_id);
    }
    return event_ids;
  }

  // Waits until the notify delivery of every event is in `state` and `accept` holds for it.
  testing::AssertionResult wait_notify_state(
      const std::vector<std::string>& event_ids, std::string_view state,
      const std::function<bool(const boost::json::object&)>& accept,
      std::chrono::milliseconds bound = kEventuallySlow) {
    std::vector<boost::json::object> listed;
    std::string why;
    const bool ok = eventually(
        [&] {
          listed = admin_deliveries(client(), token(), state);
          for (const auto& e : event_ids) {
            const auto mine = of_event(listed, e, kNotify);
            if (mine.size() != 1 || !accept(mine[0])) {
              why = "event " + e + ": " + std::to_string(mine.size()) + " in state " +
                    std::string(state) +
                    (mine.empty() ? "" : ", " + boost::json::serialize(mine[0]));
              return false;
            }
          }
          return true;
        },
        bound);
    if (ok) return testing::AssertionSuccess();
    return testing::AssertionFailure() << why;
  }

  // Every (event, subscriber) has exactly one notice in the sink's maildir, and there are no others.
  void expect_each_notice_once(const std::vector<std::string>& event_ids,
                               const std::vector<std::string>& subscribers) {
    const auto all = wait_for_mail(
        sink().maildir(),
        [&](const auto& m) {
          std::size_t n = 0;
          for (const auto& x : m) n += x.is_notification();
          return n >= event_ids.size() * subscribers.size();
        },
        kEventually);
    std::size_t notices = 0;
    for (const auto& m : all) notices += m.is_notification();
    EXPECT_EQ(notices, event_ids.size() * subscribers.size());
    for (const auto& e : event_ids)
      for (const auto& s : subscribers) EXPECT_EQ(mails_to(all, s, e).size(), 1u) << e << " to " << s;
  }
};

bool retried_with_error(const boost::json::object& d) {
  return num(d, "attempts") > 0 && !str(d, "lastError").empty();
}

TEST_F(EventsDelivery, RetriesWhileSmtpIsDownThenDeliversEachNoticeOnce) {
  const std::vector<std::string> subscribers = {"r1@example.com", "r2@example.com"};
  start();
  ASSERT_NO_FATAL_FAILURE(confirm_then_restart(subscribers, smtp_options(1000)));
  const auto event_ids = delete_orders(5);

  EXPECT_TRUE(wait_notify_state(event_ids, "pending", retried_with_error));
  const auto pending = admin_deliveries(client(), token(), "pending");
  for (const auto& d : pending) {
    // Other subscribers of the same events (the archive) may simply not have run yet on a busy
    // machine; what must hold is that only the mail deliveries failed.
    if (str(d, "subscription") != kNotify) {
      EXPECT_EQ(num(d, "attempts"), 0) << boost::json::serialize(d);
      continue;
    }
    EXPECT_EQ(str(d, "state"), "pending");
    EXPECT_EQ(str(d, "eventType"), "orderflow.order.deleted");
    EXPECT_TRUE(is_rfc3339_micro_utc(str(d, "nextAttemptAt"))) << boost::json::serialize(d);
    EXPECT_TRUE(is_rfc3339_micro_utc(str(d, "updatedAt"))) << boost::json::serialize(d);
  }
  EXPECT_TRUE(eventually([&] { return read_metric(client(), "orderflow_deliveries_retried_total").value_or(0) > 0; }));
  EXPECT_GT(read_metric(client(), "orderflow_deliveries_pending").value_or(0), 0);
  EXPECT_GT(read_metric(client(), "orderflow_delivery_lag_seconds").value_or(0), 0);
  EXPECT_TRUE(read_maildir(sink().maildir()).empty());

  sink().start();
  ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids, kEventuallySlow));
  expect_each_notice_once(event_ids, subscribers);
  EXPECT_TRUE(admin_deliveries(client(), token(), "pending").empty());
  EXPECT_TRUE(admin_deliveries(client(), token(), "dead").empty());
  EXPECT_TRUE(eventually([&] { return read_metric(client(), "orderflow_deliveries_pending") == 0.0; }));
  EXPECT_TRUE(eventually([&] { return read_metric(client(), "orderflow_delivery_lag_seconds") == 0.0; }));
}

TEST_F(EventsDelivery, DeadLettersAfterMaxAttemptsAreRedrivenOverHttp) {
  const std::vector<std::string> subscribers = {"d1@example.com", "d2@example.com"};
  start();
  ASSERT_NO_FATAL_FAILURE(confirm_then_restart(subscribers, smtp_options(2)));
  const auto event_ids = delete_orders(3);

  ASSERT_TRUE(wait_notify_state(event_ids, "dead", [](const boost::json::object& d) {
    return num(d, "attempts") == 2 && !str(d, "lastError").empty() && str(d, "state") == "dead";
  }));
  const auto dead = admin_deliveries(client(), token(), "dead");
  ASSERT_EQ(dead.size(), 3u);
  // Paging through them one at a time gives the same deliveries.
  const auto paged = admin_deliveries(client(), token(), "dead", 1);
  ASSERT_EQ(paged.size(), 3u);
  std::set<std::int64_t> ids;
  for (const auto& d : dead) ids.insert(num(d, "id"));
  std::set<std::int64_t> paged_ids;
  for (const auto& d : paged) paged_ids.insert(num(d, "id"));
  EXPECT_EQ(paged_ids, ids);
  // The archive did not need SMTP: its deliveries are done.
  const auto done = admin_deliveries(client(), token(), "done");
  for (const auto& e : event_ids) EXPECT_EQ(of_event(done, e, kArchive).size(), 1u) << e;

  // The CLI sees the same dead letters, while the server runs.
  std::vector<boost::json::object> from_cli;
  EXPECT_TRUE(cli_deliveries(server(), "dead", from_cli));
  std::set<std::int64_t> cli_ids;
  for (const auto& d : from_cli) {
    cli_ids.insert(num(d, "id"));
    EXPECT_EQ(str(d, "state"), "dead");
    EXPECT_EQ(str(d, "subscription"), kNotify);
  }
  EXPECT_EQ(cli_ids, ids) << "the CLI lists the same dead deliveries";

  EXPECT_TRUE(eventually([&] { return read_metric(client(), "orderflow_deliveries_dead") == 3.0; }))
      << read_metric(client(), "orderflow_deliveries_dead").value_or(-1);
  EXPECT_GE(read_metric(client(), "orderflow_deliveries_dead_total").value_or(0), 3);

  // Redrive one by id: the wrong ones are refused.
  const auto auth = bearer(token());
  EXPECT_TRUE(IsErrorCode(client().post("/admin/deliveries/999999999/redrive", "", auth), 404, "not_found"));
  EXPECT_TRUE(IsErrorCode(client().post("/admin/deliveries/abc/redrive", "", auth), 400, "validation"));
  const auto archive_delivery = of_event(done, event_ids[0], kArchive);
  ASSERT_EQ(archive_delivery.size(), 1u);
  EXPECT_TRUE(IsErrorCode(client().post("/admin/deliveries/" + std::to_string(num(archive_delivery[0], "id")) +
                                            "/redrive", "", auth),
                          409, "conflict"));

  sink().start();
  const auto first = of_event(dead, event_ids[0], kNotify);
  ASSERT_EQ(first.size(), 1u);
  const std::string first_id = std::to_string(num(first[0], "id"));
  EXPECT_TRUE(HasStatus(client().post("/admin/deliveries/" + first_id + "/redrive", "", auth), 200));
  ASSERT_TRUE(wait_until_delivered(client(), token(), {event_ids[0]}));
  EXPECT_TRUE(IsErrorCode(client().post("/admin/deliveries/" + first_id + "/redrive", "", auth), 409, "conflict"))
      << "a done delivery is not dead";

  const Response all = client().post("/admin/deliveries/redrive?state=dead", "", auth);
  ASSERT_TRUE(HasStatus(all, 200));
  EXPECT_EQ(all.body, R"({"status":"success","message":"Deliveries redriven: 2","redriven":2})");
  ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids));
  expect_each_notice_once(event_ids, subscribers);
  EXPECT_TRUE(admin_deliveries(client(), token(), "dead").empty());
  EXPECT_TRUE(eventually([&] { return read_metric(client(), "orderflow_deliveries_dead") == 0.0; }));

  const Response none = client().post("/admin/deliveries/redrive?state=dead", "", auth);
  EXPECT_EQ(none.body, R"({"status":"success","message":"Deliveries redriven: 0","redriven":0})");
}

TEST_F(EventsDelivery, DeadLettersAreRedrivenWithTheCliWhileTheServerRuns) {
  const std::vector<std::string> subscribers = {"cli@example.com"};
  start();
  ASSERT_NO_FATAL_FAILURE(confirm_then_restart(subscribers, smtp_options(2)));
  const auto event_ids = delete_orders(3);
  ASSERT_TRUE(wait_notify_state(event_ids, "dead", [](const auto&) { return true; }));

  std::vector<boost::json::object> dead;
  ASSERT_TRUE(cli_deliveries(server(), "dead", dead));
  ASSERT_EQ(dead.size(), 3u);
  for (const auto& d : dead) {
    EXPECT_EQ(num(d, "attempts"), 2) << boost::json::serialize(d);
    EXPECT_FALSE(str(d, "lastError").empty()) << boost::json::serialize(d);
  }

  sink().start();
  const RunResult one =
      cli(server(), {"deliveries", "redrive", "--id", std::to_string(num(dead[0], "id"))});
  EXPECT_EQ(one.exit_code, 0) << one.out << one.err;
  ASSERT_TRUE(wait_until_delivered(client(), token(), {str(dead[0], "eventId")}, kEventuallySlow));

  const RunResult rest = cli(server(), {"deliveries", "redrive", "--all-dead"});
  EXPECT_EQ(rest.exit_code, 0) << rest.out << rest.err;
  ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids, kEventuallySlow));
  expect_each_notice_once(event_ids, subscribers);
  ASSERT_TRUE(cli_deliveries(server(), "dead", dead));
  EXPECT_TRUE(dead.empty());
  std::vector<boost::json::object> done;
  ASSERT_TRUE(cli_deliveries(server(), "done", done));
  for (const auto& e : event_ids) {
    EXPECT_EQ(of_event(done, e, kArchive).size(), 1u) << e;
    EXPECT_EQ(of_event(done, e, kNotify).size(), 1u) << e;
  }
}

// --- admin authentication ---------------------------------------------------------------------

TEST_F(EventsDelivery, AdminRoutesRequireTheGeneratedToken) {
  start();
  const auto token_file = server().data_dir() / "admin-token";
  ASSERT_TRUE(std::filesystem::exists(token_file));
  struct stat st {};
  ASSERT_EQ(::stat(token_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << std::oct << (st.st_mode & 0777);
  const std::string secret = token();
  ASSERT_GE(secret.size(), 16u) << "a guessable token: " << secret;

  const std::string list = "/admin/deliveries?state=dead";
  const std::vector<Headers> wrong = {
      {},
      {{"Authorization", "Bearer"}},
      {{"Authorization", "Bearer "}},
      {{"Authorization", "Bearer wrong-token"}},
      {{"Authorization", "Bearer " + secret + "x"}},
      {{"Authorization", "Bearer " + secret.substr(0, secret.size() - 1)}},
      {{"Authorization", "Basic " + secret}},
      {{"Authorization", secret}},
  };
  for (const auto& h : wrong) {
    SCOPED_TRACE(h.empty() ? "no Authorization" : h[0].second);
    for (const Response& r : {client().get(list, h), client().get("/admin/deliveries?state=bogus", h),
                              client().post("/admin/deliveries/redrive?state=dead", "", h),
                              client().post("/admin/deliveries/1/redrive", "", h)}) {
      EXPECT_TRUE(IsErrorCode(r, 401, "unauthorized"));
      EXPECT_EQ(r.body.find("deliveries\""), std::string::npos) << describe(r);
      EXPECT_EQ(r.body.find(secret), std::string::npos) << describe(r);
    }
  }

  const Response ok = client().get(list, bearer(secret));
  ASSERT_TRUE(HasStatus(ok, 200));
  EXPECT_EQ(ok.body, R"({"status":"success","message":"Deliveries fetched: 0","deliveries":[]})");
  EXPECT_TRUE(IsErrorCode(client().get("/admin/deliveries?state=bogus", bearer(secret)), 400, "validation"));

  // The generated token is kept across restarts.
  ASSERT_NO_FATAL_FAILURE(restart_server());
  EXPECT_EQ(token(), secret);
  EXPECT_TRUE(HasStatus(client().get(list, bearer(secret)), 200));
}

TEST_F(EventsDelivery, AdminTokenFromTheEnvironment) {
  const std::string secret = "e2e-admin-token-0123456789abcdef";
  ServerOptions options;
  options.env = {{"ORDERFLOW_ADMIN_TOKEN", secret}};
  start(options);
  EXPECT_TRUE(HasStatus(client().get("/admin/deliveries?state=pending", bearer(secret)), 200));
  EXPECT_TRUE(IsErrorCode(client().get("/admin/deliveries?state=pending", bearer("other")), 401,
                          "unauthorized"));
  const std::string generated = token();
  if (!generated.empty() && generated != secret) {
    EXPECT_TRUE(IsErrorCode(client().get("/admin/deliveries?state=pending", bearer(generated)), 401,
                            "unauthorized"))
        << "a generated token must not work when admin_token is configured";
  }
}

}  // namespace
}  // namespace orderflow::e2e
