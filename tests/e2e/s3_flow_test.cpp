// The archive and the report work unchanged on S3: the same binary, `objects = s3://…`, against
// a real S3 API server (s3rver) on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "e2e/harness.hpp"
#include "objects/object_test_support.hpp"

namespace orderflow::e2e {
namespace {

TEST(S3Flow, DeleteArchivesIntoS3AndTheReportIsServedFromS3) {
  const auto& s3 = testing::shared_s3rver();
  s3.create_bucket("flow");
  TempDir dir;
  ServerOptions options;
  options.env = {{"ORDERFLOW_OBJECTS", "s3://flow?endpoint=" + s3.endpoint() +
                                           "&region=us-east-1&access_key=S3RVER&secret_key=S3RVER"},
                 {"ORDERFLOW_RECOGNIZER", "none"}};
  ServerProcess server(dir.path(), options);
  HttpClient client(server.port());

  // Nothing archived yet: the seed's 404.
  const Response empty = client.get("/reports/deleted-orders");
  EXPECT_EQ(empty.status, 404) << describe(empty);
  EXPECT_NE(empty.body.find("No deleted orders found"), std::string::npos);

  std::vector<std::string> ids;
  for (const char* body : {R"({"description":"S3 mug","price":7.25})", R"({"description":"S3 kettle","price":30.10})"}) {
    const Response created = client.post("/orders", body);
    ASSERT_EQ(created.status, 201) << describe(created);
    ids.push_back(std::string(created.json().at("orderId").as_string()));
  }
  for (const auto& id : ids) ASSERT_EQ(client.request("DELETE", "/orders/" + id).status, 200);

  // The dispatcher archives into the bucket; the report then counts both.
  Response report;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    report = client.get("/reports/deleted-orders");
    if (report.status == 200 && report.json().at("orders").as_int64() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(report.status, 200) << describe(report) << server.log();
  EXPECT_EQ(report.json().at("orders").as_int64(), 2) << describe(report);

  // The link is a presigned S3 URL: it points at the S3 server, not at orderflow.
  const std::string url(report.json().at("pdf_url").as_string());
  EXPECT_EQ(url.rfind(s3.endpoint() + "/flow/reports/", 0), 0u) << url;
  EXPECT_NE(url.find("X-Amz-Signature="), std::string::npos) << url;
  const auto pdf = testing::http_get(url);
  EXPECT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.body.rfind("%PDF", 0), 0u);

  // Each archive object sits in the bucket, and nothing went to the local file store.
  for (const auto& id : ids) {
    const auto object = testing::http_get(s3.endpoint() + "/flow/deleted_orders/" + id + ".json");
    // s3rver serves unsigned GETs of its own objects; the content is the archive JSON.
    ASSERT_EQ(object.status, 200) << id;
    EXPECT_NE(object.body.find("\"orderId\":\"" + id + "\""), std::string::npos) << object.body;
    EXPECT_NE(object.body.find("\"deletedAt\":"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(server.data_dir() / "objects" / "deleted_orders"));
  EXPECT_EQ(server.stop(), 0) << last_chars(server.log(), 4000);
}

}  // namespace
}  // namespace orderflow::e2e
