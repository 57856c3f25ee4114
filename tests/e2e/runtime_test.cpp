// The runtime around the functions: health, readiness, metrics, the OpenAPI document,
// request ids, CORS, the command line and the process lifecycle.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;

class Runtime : public SharedServerTest<Runtime> {};

TEST_F(Runtime, HealthzIsOk) {
  const Response r = client().get("/healthz");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(r.json(), boost::json::parse(R"({"status":"ok"})"));
  EXPECT_THAT(r.header("Content-Type").value_or(""), StartsWith("application/json"));
}

TEST_F(Runtime, ReadyzIsReady) {
  const Response r = client().get("/readyz");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(string_field(r.json(), "status"), "ready");
}

// Sum of all samples of a counter (every label set) in Prometheus text format.
double counter_total(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  double total = 0;
  const std::regex sample("^" + name + R"((\{[^}]*\})?\s+([0-9.eE+-]+)(\s+[0-9]+)?\s*$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, sample)) total += std::stod(m[2].str());
  }
  return total;
}

TEST_F(Runtime, MetricsCountRequests) {
  const Response first = client().get("/metrics");
  ASSERT_TRUE(HasStatus(first, 200));
  const double before = counter_total(first.body, "orderflow_http_requests_total");

  ASSERT_TRUE(HasStatus(client().get("/healthz"), 200));
  ASSERT_EQ(client().get("/nope").status, 404);
  ASSERT_TRUE(HasStatus(client().post("/orders", order_body("metered", "1")), 201));
  ASSERT_TRUE(HasStatus(client().get("/orders?limit=1"), 200));

  const Response r = client().get("/metrics");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_THAT(r.header("Content-Type").value_or(""), StartsWith("text/plain"));
  EXPECT_THAT(r.body, HasSubstr("orderflow_http_requests_total"));
  EXPECT_GE(counter_total(r.body, "orderflow_http_requests_total"), before + 4) << r.body;
}

TEST_F(Runtime, OpenApiDocumentListsTheOrderRoutes) {
  const Response r = client().get("/openapi.json");
  ASSERT_TRUE(HasStatus(r, 200));
  const auto v = r.json();
  EXPECT_THAT(string_field(v, "openapi"), StartsWith("3.1."));
  ASSERT_TRUE(v.as_object().contains("paths")) << describe(r);
  const auto& paths = v.at("paths").as_object();
  EXPECT_TRUE(paths.contains("/orders"));
  EXPECT_TRUE(paths.contains("/orders/{orderId}"));
}

TEST_F(Runtime, ValidRequestIdIsEchoed) {
  for (const std::string& id :
       {std::string("abc-123._X"), std::string(64, 'z'), std::string("7")}) {
    SCOPED_TRACE(id);
    const Response r = client().get("/healthz", {{"X-Request-Id", id}});
    EXPECT_EQ(r.header("X-Request-Id").value_or("<absent>"), id);
    const Response err = client().get("/orders/not-a-uuid", {{"X-Request-Id", id}});
    EXPECT_EQ(err.header("X-Request-Id").value_or("<absent>"), id);
  }
}

TEST_F(Runtime, RequestIdIsGeneratedWhenAbsentOrInvalid) {
  const Response a = client().get("/healthz");
  const Response b = client().get("/healthz");
  ASSERT_TRUE(a.header("X-Request-Id").has_value()) << describe(a);
  ASSERT_TRUE(b.header("X-Request-Id").has_value()) << describe(b);
  EXPECT_FALSE(a.header("X-Request-Id")->empty());
  EXPECT_NE(*a.header("X-Request-Id"), *b.header("X-Request-Id"));

  for (const std::string& bad : {std::string("has space"), std::string(65, 'a'),
                                 std::string("<script>"), std::string("a/b"), std::string("")}) {
    SCOPED_TRACE("X-Request-Id: " + bad);
    const Response r = client().get("/healthz", {{"X-Request-Id", bad}});
    const auto got = r.header("X-Request-Id");
    ASSERT_TRUE(got.has_value()) << describe(r);
    EXPECT_NE(*got, bad);
    EXPECT_FALSE(got->empty());
  }
}

TEST_F(Runtime, EveryKindOfResponseCarriesARequestId) {
  const std::string id = create_order(client(), "request ids", "1");
  ASSERT_FALSE(id.empty());
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"GET", "/healthz"},      {"GET", "/readyz"},         {"GET", "/metrics"},
      {"GET", "/openapi.json"}, {"GET", "/orders"},         {"GET", "/orders/" + id},
      {"GET", "/nope"},         {"DELETE", "/orders"},      {"GET", "/orders/not-a-uuid"},
      {"POST", "/orders"},      {"GET", "/orders?limit=0"},
  };
  for (const auto& [method, target] : requests) {
    SCOPED_TRACE(method + " " + target);
    const Response r = client().request(method, target);
    EXPECT_EQ(r.header_count("X-Request-Id"), 1u) << describe(r);
  }
  const Response created = client().post("/orders", order_body("with id", "1"));
  EXPECT_EQ(created.header_count("X-Request-Id"), 1u) << describe(created);
  const Response not_modified = client().get("/orders/" + id, {{"If-None-Match", "\"1\""}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.header_count("X-Request-Id"), 1u) << describe(not_modified);
}

TEST_F(Runtime, CorsIsOffByDefault) {
  const Response r = client().get("/orders", {{"Origin", "http://a.example"}});
  EXPECT_TRUE(HasStatus(r, 200));
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value()) << describe(r);
  const Response preflight =
      client().request("OPTIONS", "/orders", {},
                       {{"Origin", "http://a.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_LT(preflight.status, 500);
  EXPECT_FALSE(preflight.header("Access-Control-Allow-Origin").has_value()) << describe(preflight);
}

class RuntimeCors : public SharedServerTest<RuntimeCors> {
 public:
  static ServerOptions server_options() {
    ServerOptions o;
    o.env = {{"ORDERFLOW_CORS_ORIGINS", "http://a.example"}};
    return o;
  }
};

TEST_F(RuntimeCors, AllowedOriginGetsTheHeader) {
  const Response r = client().get("/orders", {{"Origin", "http://a.example"}});
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<absent>"), "http://a.example");

  const Response created =
      client().post("/orders", order_body("cors", "1"), {{"Origin", "http://a.example"}});
  ASSERT_TRUE(HasStatus(created, 201));
  EXPECT_EQ(created.header("Access-Control-Allow-Origin").value_or("<absent>"), "http://a.example");
}

TEST_F(RuntimeCors, OtherOriginGetsNoHeader) {
  const Response r = client().get("/orders", {{"Origin", "http://evil.example"}});
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value()) << describe(r);
}

TEST_F(RuntimeCors, PreflightIs204) {
  const Response r = client().request("OPTIONS", "/orders", {},
                                      {{"Origin", "http://a.example"},
                                       {"Access-Control-Request-Method", "POST"},
                                       {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(r.status, 204) << describe(r);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or("<absent>"), "http://a.example");
  EXPECT_TRUE(r.body.empty());

  const Response one = client().request(
      "OPTIONS", "/orders/0190c1a2-0000-7000-8000-000000000000", {},
      {{"Origin", "http://a.example"}, {"Access-Control-Request-Method", "PATCH"}});
  EXPECT_EQ(one.status, 204) << describe(one);
  EXPECT_EQ(one.header("Access-Control-Allow-Origin").value_or("<absent>"), "http://a.example");
}

// --- Command line and process ------------------------------------------------------------------

TEST(RuntimeCli, VersionPrintsTheVersion) {
  const RunResult r = run_orderflow({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^orderflow [0-9]+\.[0-9]+\.[0-9]+)")))
      << "stdout: " << r.out;
}

TEST(RuntimeCli, BadListenExitsWith2AndNamesTheSetting) {
  TempDir dir;
  for (const char* listen : {"nonsense", "127.0.0.1:99999", "127.0.0.1:", "300.0.0.1:80"}) {
    SCOPED_TRACE(std::string("--listen ") + listen);
    const RunResult r =
        run_orderflow({"serve", "--listen", listen, "--data-dir", dir.path().string()});
    EXPECT_EQ(r.exit_code, 2) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_THAT(r.err, HasSubstr("listen"));
  }
}

TEST(RuntimeCli, BadListenFromTheEnvironmentExitsWith2) {
  TempDir dir;
  const RunResult r = run_orderflow({"serve", "--data-dir", dir.path().string()},
                                    {{"ORDERFLOW_LISTEN", "nonsense"}});
  EXPECT_EQ(r.exit_code, 2) << "stdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_THAT(r.err, HasSubstr("listen"));
}

TEST(RuntimeCli, ABadMailerUrlExitsWith2WithoutShowingItsPassword) {
  TempDir dir;
  for (const char* url : {"smtp://mailer:Hunter2-secret@", "smpt://mailer:Hunter2-secret@mail.example.com:587",
                          "smtp://mailer:Hunter2/secret@mail.example.com:587",
                          "smtp:mailer:Hunter2-secret@mail.example.com"}) {
    SCOPED_TRACE(url);
    const RunResult r = run_orderflow({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().string()},
                                      {{"ORDERFLOW_MAILER", url}});
    EXPECT_EQ(r.exit_code, 2) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_THAT(r.err, HasSubstr("mailer"));
    EXPECT_THAT(r.out + r.err, Not(HasSubstr("Hunter2")));
  }
}

using RuntimeProcess = FreshServerTest;

TEST_F(RuntimeProcess, SigtermExitsZero) {
  ASSERT_TRUE(HasStatus(client().post("/orders", order_body("before stop", "1")), 201));
  client().close();
  EXPECT_EQ(server().stop(), 0) << server().log();
}

TEST_F(RuntimeProcess, SigtermWithAnIdleKeepAliveConnectionExitsZero) {
  ASSERT_TRUE(HasStatus(client().get("/healthz"), 200));  // the connection stays open
  HttpClient other(port());
  ASSERT_TRUE(HasStatus(other.get("/orders"), 200));
  EXPECT_EQ(server().stop(), 0) << server().log();
}

TEST_F(RuntimeProcess, StartsAgainOnTheSameDataDirAfterSigterm) {
  const std::string id = create_order(client(), "survives", "1");
  ASSERT_FALSE(id.empty());
  client().close();
  ASSERT_EQ(server().stop(), 0);
  server().restart();
  HttpClient c(server().port());
  EXPECT_TRUE(HasStatus(c.get("/orders/" + id), 200));
  EXPECT_TRUE(HasStatus(c.get("/healthz"), 200));
}

}  // namespace
}  // namespace orderflow::e2e
