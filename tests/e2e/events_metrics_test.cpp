// The dispatcher's metrics at /metrics: counters of delivered, retried and dead deliveries and
// gauges of pending and dead deliveries and of the delivery lag.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

class EventsMetrics : public EventsTest {};

constexpr const char* kDelivered = "orderflow_deliveries_delivered_total";
constexpr const char* kRetried = "orderflow_deliveries_retried_total";
constexpr const char* kDeadTotal = "orderflow_deliveries_dead_total";
constexpr const char* kPending = "orderflow_deliveries_pending";
constexpr const char* kDead = "orderflow_deliveries_dead";
constexpr const char* kLag = "orderflow_delivery_lag_seconds";

TEST_F(EventsMetrics, AllDeliveryMetricsAreThereFromTheStart) {
  start();
  const Response r = client().get("/metrics");
  ASSERT_TRUE(HasStatus(r, 200));
  for (const char* name : {kDelivered, kRetried, kDeadTotal, kPending, kDead, kLag}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(metric_value(r.body, name), 0.0) << r.body;
  }
  EXPECT_NE(r.body.find(std::string("# TYPE ") + kDelivered + " counter"), std::string::npos);
  EXPECT_NE(r.body.find(std::string("# TYPE ") + kPending + " gauge"), std::string::npos);
  EXPECT_NE(r.body.find(std::string("# TYPE ") + kLag + " gauge"), std::string::npos);
}

TEST_F(EventsMetrics, DeliveredCountsEachDeliveryOnce) {
  start();
  ASSERT_TRUE(subscribe_and_confirm(client(), maildir(), "metrics@example.com"));
  const double before = read_metric(client(), kDelivered).value_or(-1);
  ASSERT_GE(before, 0);
  std::vector<std::string> event_ids;
  for (int i = 0; i < 3; ++i) event_ids.push_back(delete_new_order("metric " + std::to_string(i), "1").second);
  ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids));
  // One per done delivery: each subscribed function of each event, counted once.
  const auto done = admin_deliveries(client(), token(), "done");
  for (const auto& e : event_ids) {
    EXPECT_EQ(of_event(done, e, kArchive).size(), 1u);
    EXPECT_EQ(of_event(done, e, kNotify).size(), 1u);
  }
  const double expected = before + static_cast<double>(done.size());
  EXPECT_TRUE(eventually([&] { return read_metric(client(), kDelivered) == expected; }))
      << read_metric(client(), kDelivered).value_or(-1) << " after " << before << ", "
      << done.size() << " deliveries done";
  EXPECT_EQ(read_metric(client(), kRetried), 0.0);
  EXPECT_EQ(read_metric(client(), kPending), 0.0);
  EXPECT_EQ(read_metric(client(), kLag), 0.0);
}

TEST_F(EventsMetrics, DeadGaugeShowsDeadDeliveries) {
  start();
  ASSERT_NO_FATAL_FAILURE(confirm_then_restart({"dead.metrics@example.com"}, smtp_options(1)));
  std::vector<std::string> event_ids;
  for (int i = 0; i < 2; ++i) event_ids.push_back(delete_new_order("dead " + std::to_string(i), "1").second);
  EXPECT_TRUE(eventually([&] { return read_metric(client(), kDead) == 2.0; }, kEventuallySlow))
      << read_metric(client(), kDead).value_or(-1);
  EXPECT_EQ(read_metric(client(), kDeadTotal), 2.0);
  EXPECT_EQ(admin_deliveries(client(), token(), "dead").size(), 2u);
  EXPECT_TRUE(eventually([&] { return read_metric(client(), kPending) == 0.0; }));

  sink().start();
  ASSERT_TRUE(HasStatus(client().post("/admin/deliveries/redrive?state=dead", "", bearer(token())), 200));
  ASSERT_TRUE(wait_until_delivered(client(), token(), event_ids));
  EXPECT_TRUE(eventually([&] { return read_metric(client(), kDead) == 0.0; }));
  EXPECT_EQ(read_metric(client(), kDeadTotal), 2.0) << "a counter never goes down";
}

}  // namespace
}  // namespace orderflow::e2e
