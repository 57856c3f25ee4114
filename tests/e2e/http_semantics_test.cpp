// HTTP semantics third-party tools rely on (issue 15, RFC 9110): conditional requests with
// lists, "*" and weak tags; a replayed idempotent create answers like the first; Allow names
// HEAD; and the contract itself is served with validators and gzip.
#include <gtest/gtest.h>

#include <string>

#include "e2e/events_support.hpp"
#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

ServerOptions without_recognizer() {
  ServerOptions o;
  o.env = {{"ORDERFLOW_RECOGNIZER", "none"}};
  return o;
}

class HttpSemantics : public ::testing::Test {
 protected:
  TempDir dir_;
  ServerProcess server_{dir_.path(), without_recognizer()};
  HttpClient c_{server_.port()};
};

TEST_F(HttpSemantics, IfNoneMatchComparesWeaklyAndTakesListsAndStar) {
  const std::string id = create_order(c_, "a lamp", "19.99");
  ASSERT_FALSE(id.empty());
  const std::string path = "/orders/" + id;
  for (const char* matching : {"\"1\"", "W/\"1\"", "*", "\"7\", W/\"1\"", "\"x,y\", \"1\""}) {
    const Response r = c_.get(path, {{"If-None-Match", matching}});
    EXPECT_EQ(r.status, 304) << matching << ": " << describe(r);
    EXPECT_EQ(r.header("ETag").value_or(""), "\"1\"") << matching;
    EXPECT_TRUE(r.body.empty());
  }
  for (const char* other : {"\"2\"", "W/\"11\"", "1", "\"2\", \"3\""})
    EXPECT_TRUE(HasStatus(c_.get(path, {{"If-None-Match", other}}), 200)) << other;
}

TEST_F(HttpSemantics, IfMatchComparesStronglyAndTakesLists) {
  const std::string id = create_order(c_, "a lamp", "19.99");
  ASSERT_FALSE(id.empty());
  const std::string path = "/orders/" + id;
  const auto patch = [&](const char* if_match) {
    return c_.request("PATCH", path, R"({"price":"20.00"})", {{"If-Match", if_match}});
  };
  EXPECT_TRUE(IsErrorCode(patch("W/\"1\""), 412, "precondition_failed"))
      << "a weak tag never matches strongly";
  EXPECT_TRUE(IsErrorCode(patch("\"abc\""), 412, "precondition_failed")) << "not one of ours";
  EXPECT_TRUE(IsErrorCode(patch("\"5\", \"6\""), 412, "precondition_failed"));
  EXPECT_TRUE(IsErrorCode(patch("no quotes"), 400, "validation"));
  const Response listed = patch("\"4\", \"1\"");
  ASSERT_TRUE(HasStatus(listed, 200)) << "a list that names the current version";
  EXPECT_EQ(listed.header("ETag").value_or(""), "\"2\"");
  EXPECT_TRUE(HasStatus(patch("*"), 200));
  EXPECT_TRUE(IsErrorCode(c_.request("DELETE", path, "", {{"If-Match", "\"1\", \"2\""}}), 412,
                          "precondition_failed"))
      << "version 3 now";
  EXPECT_TRUE(HasStatus(c_.request("DELETE", path, "", {{"If-Match", "\"1\", \"3\""}}), 200));
  EXPECT_TRUE(IsErrorCode(patch("\"9\", \"8\""), 404, "not_found"))
      << "no order: 404 whatever the condition";
}

TEST_F(HttpSemantics, AReplayedIdempotentCreateCarriesTheFirstAnswersETag) {
  const Headers key = {{"Idempotency-Key", "semantics-1"}};
  const Response first = c_.post("/orders", R"({"description":"a lamp","price":1})", key);
  ASSERT_TRUE(HasStatus(first, 201));
  const std::string id = string_field(first.json(), "orderId");
  ASSERT_TRUE(HasStatus(c_.request("PATCH", "/orders/" + id, R"({"price":2})"), 200));
  const Response replay = c_.post("/orders", R"({"description":"a lamp","price":1})", key);
  ASSERT_TRUE(HasStatus(replay, 201));
  EXPECT_EQ(replay.header("Idempotent-Replayed").value_or(""), "true");
  EXPECT_EQ(replay.header("ETag"), first.header("ETag"));
  EXPECT_EQ(replay.header("Location"), first.header("Location"));
}

TEST_F(HttpSemantics, AllowNamesHeadWhereGetIsServed) {
  const Response r = c_.request("DELETE", "/healthz", "");
  ASSERT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow").value_or(""), "GET, HEAD, OPTIONS");
  EXPECT_TRUE(HasStatus(c_.request("HEAD", "/healthz", ""), 200));
}

TEST_F(HttpSemantics, TheContractIsServedWithAValidatorGzipAndRevalidation) {
  const Response plain = c_.get("/openapi.json");
  ASSERT_TRUE(HasStatus(plain, 200));
  const std::string etag = plain.header("ETag").value_or("");
  EXPECT_FALSE(etag.empty());
  EXPECT_EQ(plain.header("Cache-Control").value_or(""), "no-cache");
  EXPECT_EQ(plain.json().at("openapi").as_string().subview().substr(0, 3), "3.1");
  const Response again = c_.get("/openapi.json", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304) << describe(again);
  const Response packed = c_.get("/openapi.json", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(HasStatus(packed, 200));
  EXPECT_EQ(packed.header("Content-Encoding").value_or(""), "gzip");
  EXPECT_LT(packed.body.size(), plain.body.size() / 3);
}


// The web app's files and the file store's presigned objects compare If-None-Match as the
// orders do: weakly, in lists, and "*".
TEST_F(HttpSemantics, StaticFilesAndPresignedObjectsCompareIfNoneMatchWeaklyInLists) {
  const std::string id = create_order(c_, "a lamp", "19.99");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(delete_order(c_, id));
  ASSERT_TRUE(wait_for_archive(server_, id).has_value());
  const Response report = c_.get("/reports/deleted-orders");
  ASSERT_TRUE(HasStatus(report, 200));
  const std::string url = string_field(report.json(), "pdf_url");
  const std::string object = url.substr(url.find("/objects/"));
  for (const std::string& path : {object, std::string("/openapi.json")}) {
    const Response full = c_.get(path);
    ASSERT_TRUE(HasStatus(full, 200)) << path;
    const std::string etag = full.header("ETag").value_or("");
    ASSERT_FALSE(etag.empty()) << path;
    for (const std::string& matching : {etag, "W/" + etag, std::string("*"), "\"x\", " + etag})
      EXPECT_EQ(c_.get(path, {{"If-None-Match", matching}}).status, 304) << path << " " << matching;
    for (const std::string& other : {std::string("\"x\""), etag + ", junk"})
      EXPECT_TRUE(HasStatus(c_.get(path, {{"If-None-Match", other}}), 200)) << path << " " << other;
  }
}

}  // namespace
}  // namespace orderflow::e2e
