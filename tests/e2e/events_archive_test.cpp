// archive_deleted_order through the real binary: a DELETE leads to
// <data_dir>/objects/deleted_orders/<orderId>.json with the order as it was, written atomically.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "e2e/events_support.hpp"

namespace orderflow::e2e {
namespace {

class EventsArchive : public EventsTest {
 protected:
  void SetUp() override { start(); }
};

boost::json::object order_json(HttpClient& c, const std::string& id) {
  const Response r = c.get("/orders/" + id);
  EXPECT_TRUE(HasStatus(r, 200));
  return r.status == 200 ? r.json().at("order").as_object() : boost::json::object{};
}

// `"price":<text>` appears verbatim in the raw JSON (the decimal as written, not re-parsed).
testing::AssertionResult HasRawPriceText(const std::string& json, std::string_view text) {
  std::string escaped;
  for (const char ch : text) {
    if (ch == '.') escaped += '\\';
    escaped += ch;
  }
  if (std::regex_search(json, std::regex("\"price\"\\s*:\\s*" + escaped + "(?![0-9.eE])")))
    return testing::AssertionSuccess();
  return testing::AssertionFailure() << "expected raw \"price\":" << text << " in " << json;
}

TEST_F(EventsArchive, DeleteWritesTheOrderAsItWas) {
  const std::string description = "Coffee beans \"dark\" \\ \xE2\x98\x95 <b>&</b>\nline two";
  const std::string id = create_order(client(), description, "12.5");
  ASSERT_FALSE(id.empty());
  const auto before = order_json(client(), id);
  ASSERT_TRUE(delete_order(client(), id));

  const auto text = wait_for_archive(server(), id);
  ASSERT_TRUE(text) << "no archive object for " << id;
  EXPECT_TRUE(HasRawPriceText(*text, "12.50"));
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*text, ec);
  ASSERT_FALSE(ec) << "archive object is not JSON: " << *text;
  ASSERT_TRUE(v.is_object()) << *text;
  EXPECT_EQ(string_field(v, "orderId"), id);
  EXPECT_EQ(string_field(v, "description"), description);
  EXPECT_EQ(string_field(v, "creationDate"), string_field(before, "creationDate"));
  EXPECT_EQ(string_field(v, "lastModifiedDate"), string_field(before, "lastModifiedDate"));
  const std::string deleted_at = string_field(v, "deletedAt");
  EXPECT_TRUE(is_rfc3339_micro_utc(deleted_at)) << deleted_at;
  EXPECT_GE(deleted_at, string_field(before, "lastModifiedDate"));
  const std::string event_id = string_field(v, "eventId");
  EXPECT_TRUE(is_lower_uuid(event_id)) << event_id;
  ASSERT_EQ(event_id.size(), 36u);
  EXPECT_EQ(event_id[14], '7') << "event ids are UUIDv7: " << event_id;
  ASSERT_TRUE(v.at("price").is_number()) << *text;
}

TEST_F(EventsArchive, PricesAreWrittenWithExactlyTwoDecimals) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"7", "7.00"},          {"0.1", "0.10"},       {"\"3.5\"", "3.50"},
      {"999999999.99", "999999999.99"}, {"0.01", "0.01"}, {"1234.5", "1234.50"}};
  std::vector<std::pair<std::string, std::string>> deleted;  // id, expected text
  for (const auto& [json, expected] : cases) {
    const std::string id = create_order(client(), "price " + json, json);
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(delete_order(client(), id));
    deleted.emplace_back(id, expected);
  }
  for (const auto& [id, expected] : deleted) {
    const auto text = wait_for_archive(server(), id);
    ASSERT_TRUE(text) << id;
    EXPECT_TRUE(HasRawPriceText(*text, expected));
  }
}

TEST_F(EventsArchive, UpdatedOrderIsArchivedWithItsLastVersion) {
  const std::string id = create_order(client(), "before update", "1.00");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(HasStatus(client().request("PATCH", "/orders/" + id,
                                         R"({"price":"20","description":"after update"})"),
                        200));
  const auto updated = order_json(client(), id);
  ASSERT_TRUE(delete_order(client(), id));
  const auto text = wait_for_archive(server(), id);
  ASSERT_TRUE(text);
  EXPECT_TRUE(HasRawPriceText(*text, "20.00"));
  const boost::json::value v = boost::json::parse(*text);
  EXPECT_EQ(string_field(v, "description"), "after update");
  EXPECT_EQ(string_field(v, "lastModifiedDate"), string_field(updated, "lastModifiedDate"));
  EXPECT_EQ(string_field(v, "creationDate"), string_field(updated, "creationDate"));
}

TEST_F(EventsArchive, EachDeletedOrderHasOneObjectAndNothingElseIsLeftBehind) {
  std::set<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    const std::string id = create_order(client(), "bulk " + std::to_string(i), "2.25");
    ASSERT_FALSE(id.empty());
    if (i % 2 == 0) {
      ASSERT_TRUE(delete_order(client(), id));
      expected.insert(id + ".json");
    }
  }
  // An unknown or already deleted order changes nothing.
  EXPECT_TRUE(IsErrorCode(client().request("DELETE", "/orders/0190c1a2-0000-7000-8000-000000000000"),
                          404, "not_found"));
  const std::string first = expected.begin()->substr(0, 36);
  EXPECT_TRUE(IsErrorCode(client().request("DELETE", "/orders/" + first), 404, "not_found"));

  // The last delete is a barrier: once its object exists, the earlier ones were handled too
  // (the archive lane works through events in order).
  const auto [last_id, last_event] = delete_new_order("barrier", "1");
  ASSERT_FALSE(last_event.empty());
  expected.insert(last_id + ".json");
  std::vector<std::string> files;
  EXPECT_TRUE(eventually([&] {
    files = archive_files(server());
    return files.size() >= expected.size();
  }));
  EXPECT_EQ(std::set<std::string>(files.begin(), files.end()), expected)
      << "no temp files, no objects for unknown or repeated deletes";

  // One event per delete: the archive objects carry distinct event ids.
  std::set<std::string> event_ids;
  for (const auto& f : expected) event_ids.insert(archived_event_id(server(), f.substr(0, 36)));
  EXPECT_EQ(event_ids.size(), expected.size());
}

TEST_F(EventsArchive, ArchiveObjectsSurviveRestartAndAreNotRewrittenDifferently) {
  const auto [id, event_id] = delete_new_order("survives restart", "4.20");
  ASSERT_FALSE(event_id.empty());
  const auto before = read_archive(server(), id);
  ASSERT_TRUE(wait_until_delivered(client(), token(), {event_id}));
  ASSERT_NO_FATAL_FAILURE(restart_server());
  // A barrier delete after the restart: the dispatcher has run since.
  const auto [barrier_id, barrier_event] = delete_new_order("after restart", "1");
  ASSERT_FALSE(barrier_event.empty());
  EXPECT_EQ(read_archive(server(), id), before);
}

}  // namespace
}  // namespace orderflow::e2e
