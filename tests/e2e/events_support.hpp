// Shared by the event-pipeline suites (events_*_test.cpp): a fixture that owns a server, an SMTP
// sink and their temp dirs; waiting (bounded) for eventual effects; reading archive objects;
// subscribing; the admin API and the `orderflow deliveries` CLI; metrics.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "e2e/harness.hpp"
#include "e2e/mail_support.hpp"

namespace orderflow::e2e {

constexpr std::chrono::seconds kEventually{20};
// Retry flows wait for backoff on top of delivery.
constexpr std::chrono::seconds kEventuallySlow{60};

constexpr std::string_view kArchive = "archive_deleted_order";
constexpr std::string_view kNotify = "notify_subscribers";
constexpr std::string_view kSubscribedMessage = "Confirmation email sent. Please check your inbox.";
constexpr std::string_view kUnsubscribedMessage =
    "If this address was subscribed, it has been unsubscribed. No further mail will be sent.";
constexpr std::string_view kUnsubscribeMailedMessage =
    "If this address is subscribed, a mail with a link to unsubscribe has been sent to it.";

// Polls `done` until it holds or `bound` passes; returns its last answer.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds bound = kEventually);

// --- files -----------------------------------------------------------------------------------

// A file's whole content, or nullopt when it cannot be read.
std::optional<std::string> slurp_if_exists(const std::filesystem::path& p);
// `s` without leading and trailing white space.
std::string trimmed(std::string s);

// --- archive objects --------------------------------------------------------------------------

std::filesystem::path archive_dir(const ServerProcess& server);
std::optional<std::string> read_archive(const ServerProcess& server, const std::string& order_id);
// Waits for <data_dir>/objects/deleted_orders/<id>.json; its text, or nullopt after `bound`.
std::optional<std::string> wait_for_archive(const ServerProcess& server,
                                            const std::string& order_id,
                                            std::chrono::milliseconds bound = kEventually);
// Names of the files in the archive dir (none when it does not exist).
std::vector<std::string> archive_files(const ServerProcess& server);
// The eventId of an archive object, "" when it is not there or not JSON.
std::string archived_event_id(const ServerProcess& server, const std::string& order_id);

// --- orders and subscriptions -----------------------------------------------------------------

testing::AssertionResult delete_order(HttpClient& c, const std::string& id);
std::filesystem::path server_maildir(const ServerProcess& server);
std::string subscribe_body(std::string_view email);
// POST /subscriptions, waits for the confirmation mail in `maildir`, follows its link.
// Opens a confirmation link as a person does: its page (a GET, which confirms nothing), then
// the page's button (a POST to the same target). The page's answer when it has no button.
Response confirm_by_link(HttpClient& c, const std::string& target);
testing::AssertionResult subscribe_and_confirm(HttpClient& c, const std::filesystem::path& maildir,
                                               const std::string& email);

// --- admin API and CLI ------------------------------------------------------------------------

// <data_dir>/admin-token without surrounding white space; "" when missing.
std::string admin_token(const ServerProcess& server);
Headers bearer(std::string_view token);
// Every delivery in `state`, through all pages; a test failure (and what was read) on a non-200.
std::vector<boost::json::object> admin_deliveries(HttpClient& c, std::string_view token,
                                                  std::string_view state, int limit = 1000);
std::string str(const boost::json::object& o, std::string_view key);
std::int64_t num(const boost::json::object& o, std::string_view key);  // -1 when not an integer
// Deliveries of one event (and subscription, when given).
std::vector<boost::json::object> of_event(const std::vector<boost::json::object>& deliveries,
                                          std::string_view event_id,
                                          std::string_view subscription = {});
// Waits until the archive and notify deliveries of each event are done and none of the
// events has a pending delivery left (to any subscriber).
testing::AssertionResult wait_until_delivered(HttpClient& c, std::string_view token,
                                              const std::vector<std::string>& event_ids,
                                              std::chrono::milliseconds bound = kEventually);

RunResult cli(const std::vector<std::string>& args);
// `orderflow <args> --data-dir <the server's data dir>` against the store the server runs on.
RunResult cli(const ServerProcess& server, std::vector<std::string> args);
// `orderflow deliveries list --state <state> --data-dir <dir>` against the server's store, one
// JSON object per line.
testing::AssertionResult cli_deliveries(const ServerProcess& server, std::string_view state,
                                        std::vector<boost::json::object>& out);

// --- metrics ----------------------------------------------------------------------------------

// Sum of the samples of `name` (with or without labels) in Prometheus text; nullopt when absent.
std::optional<double> metric_value(const std::string& text, std::string_view name);
std::optional<double> read_metric(HttpClient& c, std::string_view name);

// --- fixture ----------------------------------------------------------------------------------

// A server of the test's own (started by the test, with its options) and an SMTP sink that is
// created on first use; logs of both are printed when the test fails.
class EventsTest : public testing::Test {
 protected:
  void TearDown() override;

  ServerProcess& start(ServerOptions options = {});
  ServerProcess& server() { return env_->server; }
  // A client of the current server (a new one after each restart).
  HttpClient& client();
  // Stops the server (SIGTERM, or SIGKILL when `crash`) and starts it again on the same data dir.
  void restart_server(bool crash = false);
  SmtpSink& sink();
  std::string token() { return admin_token(server()); }
  std::filesystem::path maildir() { return server_maildir(server()); }

  // Environment of a server that mails through the sink (not started) with quick retries and a
  // short delivery lease.
  ServerOptions smtp_options(int max_attempts);
  // Confirms `emails` on the running server (default maildir), then restarts it on the same
  // data dir with `options`.
  void confirm_then_restart(const std::vector<std::string>& emails, ServerOptions options);
  // Creates an order, deletes it, waits for its archive object; returns {orderId, eventId}.
  std::pair<std::string, std::string> delete_new_order(std::string_view description,
                                                       std::string_view price_json);

 private:
  std::unique_ptr<TempDir> sink_dir_;
  std::unique_ptr<SmtpSink> sink_;
  std::unique_ptr<TestServer> env_;
  std::unique_ptr<HttpClient> client_;
  std::uint16_t client_port_ = 0;
};

}  // namespace orderflow::e2e
