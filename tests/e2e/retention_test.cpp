// Retention (issue 12 item 8): the workers prune what is finished once its retention has
// passed. The retention settings are shortened to a second; the store conformance suite
// (RetentionConformance) covers which rows go and which stay, this covers the wiring.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "e2e/events_support.hpp"
#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

using namespace std::chrono_literals;

std::string order_json(std::string_view description) {
  return R"({"description":")" + std::string(description) + R"(","price":"1.00"})";
}

TEST(Retention, DoneDeliveriesArePrunedOnceTheirRetentionHasPassed) {
  TempDir dir;
  ServerOptions options;
  options.env = {{"ORDERFLOW_RETENTION_RECORDS_S", "1"}};
  ServerProcess server(dir.path(), options);
  HttpClient c(server.port());
  const std::string token = admin_token(server);

  const std::string id = create_order(c, "pruned after a second", "2.00");
  ASSERT_TRUE(delete_order(c, id));
  ASSERT_TRUE(wait_for_archive(server, id).has_value()) << last_chars(server.log(), 3000);

  // Done, then gone: nothing is left in any state, and the archive stays.
  ASSERT_TRUE(eventually(
      [&] {
        return admin_deliveries(c, token, "done").empty() &&
               admin_deliveries(c, token, "pending").empty();
      },
      kEventuallySlow))
      << last_chars(server.log(), 3000);
  EXPECT_TRUE(admin_deliveries(c, token, "dead").empty());
  EXPECT_TRUE(read_archive(server, id).has_value());
  // The log is written asynchronously: the line may follow the rows' removal by a moment.
  EXPECT_TRUE(eventually(
      [&] { return server.log().find("retention: pruned") != std::string::npos; },
      kEventuallySlow))
      << last_chars(server.log(), 3000);
  EXPECT_TRUE(HasStatus(c.get("/readyz"), 200));
}

TEST(Retention, AnIdempotencyKeyIsHonouredForItsRetentionOnly) {
  TempDir dir;
  ServerOptions options;
  options.env = {{"ORDERFLOW_RETENTION_IDEMPOTENCY_KEYS_S", "1"}};
  ServerProcess server(dir.path(), options);
  HttpClient c(server.port());
  const Headers key{{"Idempotency-Key", "retention-key"}};

  ASSERT_TRUE(HasStatus(c.post("/orders", order_json("first"), key), 201));
  // Within the window another body under the same key is a conflict (usually: the window is a
  // second, so a slow machine may already be past it; then the next step proves it anyway).
  const Response again = c.post("/orders", order_json("second"), key);
  EXPECT_TRUE(again.status == 409 || again.status == 201) << again.status;
  ASSERT_TRUE(eventually(
      [&] { return c.post("/orders", order_json("third"), key).status == 201; }, kEventuallySlow));
}

TEST(Retention, RetentionSettingsAreValidated) {
  for (const auto& [name, value] : {std::pair{"ORDERFLOW_RETENTION_RECORDS_S", "0"},
                                    std::pair{"ORDERFLOW_RETENTION_IDEMPOTENCY_KEYS_S", "-5"},
                                    std::pair{"ORDERFLOW_RETENTION_RECORDS_S", "week"}}) {
    TempDir dir;
    const RunResult r = run_orderflow({"serve", "--data-dir", (dir.path() / "data").string(),
                                       "--listen", "127.0.0.1:0"},
                                      {{name, value}});
    EXPECT_NE(r.exit_code, 0) << name << "=" << value;
    EXPECT_NE(r.err.find("retention."), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace orderflow::e2e
