// API keys with scopes (issue 13, part 1), through the real binary.
//
// The scope walk is table-driven: it takes every operation from the server's own /openapi.json,
// whose `security` a unit test (OpenApi.EveryOperationDeclaresTheScopeItsRouteAsks) ties to the
// route table, and calls each one with no key, a bogus key and a key of each scope. A route
// added without a declared scope does not compile (Route::access has no default), and one
// missing from the document fails that unit test.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>

#include "e2e/events_support.hpp"
#include "e2e/harness.hpp"

namespace orderflow::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAdminToken = "e2e-access-admin-token-0123456789";

ServerOptions with_keys() {
  ServerOptions o;
  o.env = {{"ORDERFLOW_AUTH_MODE", "api_keys"},
           {"ORDERFLOW_ADMIN_TOKEN", std::string(kAdminToken)},
           {"ORDERFLOW_RECOGNIZER", "none"}};
  return o;
}

// A key made through the admin API; its text.
std::string make_key(HttpClient& c, std::string_view scopes_json, std::string_view name = "e2e") {
  const Response r =
      c.post("/admin/keys",
             R"({"name":")" + std::string(name) + R"(","scopes":)" + std::string(scopes_json) + "}",
             bearer(kAdminToken));
  EXPECT_TRUE(HasStatus(r, 201));
  if (r.status != 201) return "";
  return string_field(r.json(), "key");
}

// The gateway refused the caller: 401 for want of a valid key, 403 for want of a scope.
bool refused_for_key(const Response& r) {
  if (r.status != 401 && r.status != 403) return false;
  const boost::json::value body = r.json();
  const std::string code = body.is_object() ? string_field(body, "code") : "";
  if (r.status == 401) return code == "unauthorized";
  // A presigned link that fails its check is a 403 "forbidden" too, of the link, not of a key.
  const std::string message = body.is_object() ? string_field(body, "message") : "";
  return code == "forbidden" && message.rfind("This key lacks", 0) == 0;
}

// A concrete target for an operation's path template.
std::string concrete(std::string path, const std::string& order_id) {
  const std::map<std::string, std::string> values = {
      {"{orderId}", order_id}, {"{deliveryId}", "1"},    {"{keyId}", "0000000000000000"},
      {"{key}", "x%2Fy"},       {"{file}", "missing.js"},
      {"{reportId}", "00000000-0000-4000-8000-000000000000"},
  };
  for (const auto& [name, value] : values)
    if (auto at = path.find(name); at != std::string::npos) path.replace(at, name.size(), value);
  if (path == "/events") path += "?after=not-a-sequence";  // answers at once (400) when let in
  return path;
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

TEST(Access, EveryOperationAsksForTheScopeItsDocumentDeclares) {
  TempDir dir;
  ServerProcess server(dir.path(), with_keys());
  HttpClient c(server.port());

  const std::map<std::string, std::string> keys = {
      {"orders:read", make_key(c, R"(["orders:read"])")},
      {"orders:write", make_key(c, R"(["orders:write"])")},
      {"reports:read", make_key(c, R"("reports:read")")},
      {"admin", make_key(c, R"(["admin"])")},
  };
  for (const auto& [scope, key] : keys) ASSERT_FALSE(key.empty()) << scope;
  const std::string order_id = create_order(c, "a lamp", "19.99", bearer(keys.at("orders:write")));
  ASSERT_FALSE(order_id.empty());

  const Response doc = c.get("/openapi.json");
  ASSERT_TRUE(HasStatus(doc, 200));
  const boost::json::value doc_json = doc.json();
  const auto& paths = doc_json.at("paths").as_object();
  int checked = 0;
  for (const auto& [path, item] : paths) {
    for (const auto& [method_key, op] : item.as_object()) {
      if (!op.is_object() || !op.as_object().contains("responses")) continue;  // "parameters"
      const std::string method = upper(std::string(method_key));
      const auto& security = op.at("security").as_array();
      const std::string scope =
          security.empty() ? "" : std::string(security[0].at("apiKey").as_array()[0].as_string());
      const std::string target = concrete(std::string(path), order_id);
      const bool has_body = op.as_object().contains("requestBody");
      const auto call = [&](const Headers& headers) {
        return c.request(method, target, has_body ? "{}" : "", headers);
      };
      const std::string what = method + " " + target;

      if (scope.empty()) {
        EXPECT_FALSE(refused_for_key(call({}))) << what << " is open: " << describe(call({}));
        EXPECT_FALSE(refused_for_key(call(bearer("ofk_bogus")))) << what;
        ++checked;
        continue;
      }
      EXPECT_TRUE(IsErrorCode(call({}), 401, "unauthorized")) << what << " without a key";
      EXPECT_TRUE(IsErrorCode(call(bearer("ofk_0123456789abcdef_" + std::string(64, '0'))), 401,
                              "unauthorized"))
          << what << " with a made-up key";
      for (const auto& [key_scope, key] : keys) {
        const Response r = call(bearer(key));
        if (key_scope == scope || key_scope == "admin")
          EXPECT_FALSE(refused_for_key(r)) << what << " with " << key_scope << ": " << describe(r);
        else
          EXPECT_TRUE(IsErrorCode(r, 403, "forbidden")) << what << " with " << key_scope;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 25) << "every operation of the document was walked";
  // The admin token is a key with the admin scope.
  EXPECT_TRUE(HasStatus(c.get("/orders", bearer(kAdminToken)), 200));
}

TEST(Access, KeysAreShownOnceListedWithoutSecretsAndRevokedAtOnce) {
  TempDir dir;
  ServerProcess server(dir.path(), with_keys());
  HttpClient c(server.port());
  const Response created = c.post(
      "/admin/keys", R"({"name":"shop","scopes":"orders:read,orders:write","expiresIn":"90d"})",
      bearer(kAdminToken));
  ASSERT_TRUE(HasStatus(created, 201));
  const std::string key = string_field(created.json(), "key");
  const std::string id = string_field(created.json(), "id");
  EXPECT_EQ(created.header("Location"), "/admin/keys/" + id);
  EXPECT_TRUE(HasStatus(c.get("/orders", bearer(key)), 200));

  const Response listed = c.get("/admin/keys", bearer(kAdminToken));
  ASSERT_TRUE(HasStatus(listed, 200));
  EXPECT_EQ(listed.body.find(key.substr(21)), std::string::npos) << "never the secret";
  const boost::json::value listed_json = listed.json();
  const auto& list = listed_json.at("keys").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(string_field(list[0], "name"), "shop");
  EXPECT_TRUE(list[0].at("revokedAt").is_null());

  EXPECT_TRUE(
      IsErrorCode(c.request("DELETE", "/admin/keys/" + id, "", bearer(key)), 403, "forbidden"))
      << "an orders key cannot revoke keys";
  EXPECT_TRUE(HasStatus(c.request("DELETE", "/admin/keys/" + id, "", bearer(kAdminToken)), 204));
  EXPECT_TRUE(IsErrorCode(c.get("/orders", bearer(key)), 401, "unauthorized"));
  EXPECT_FALSE(c.get("/admin/keys", bearer(kAdminToken))
                   .json()
                   .at("keys")
                   .as_array()[0]
                   .at("revokedAt")
                   .is_null());
  EXPECT_TRUE(
      IsErrorCode(c.request("DELETE", "/admin/keys/ffffffffffffffff", "", bearer(kAdminToken)), 404,
                  "not_found"));

  // A key with the admin scope manages keys too; a refused body makes none.
  const std::string admin = make_key(c, R"(["admin"])");
  EXPECT_TRUE(IsErrorCode(
      c.post("/admin/keys", R"({"name":"x","scopes":["orders:delete"]})", bearer(admin)), 400,
      "validation"));
  EXPECT_EQ(c.get("/admin/keys", bearer(admin)).json().at("keys").as_array().size(), 2u);
}

TEST(Access, TheCliMakesListsAndRevokesKeysThatARunningServerHonours) {
  TempDir dir;
  ServerProcess server(dir.path(), with_keys());
  HttpClient c(server.port());

  const RunResult created = cli(server, {"keys", "create", "--name", "reporting", "--scopes",
                                         "reports:read", "--expires", "30d"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string key = created.out;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  ASSERT_EQ(key.rfind("ofk_", 0), 0u) << "stdout is the key alone: " << created.out;
  EXPECT_EQ(key.find('\n'), std::string::npos) << created.out;
  EXPECT_FALSE(refused_for_key(c.get("/reports/deleted-orders", bearer(key))));
  EXPECT_TRUE(IsErrorCode(c.get("/orders", bearer(key)), 403, "forbidden"));

  const RunResult listed = cli(server, {"keys", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out.find(key.substr(21)), std::string::npos) << "never the secret";
  boost::system::error_code ec;
  const auto line = boost::json::parse(listed.out.substr(0, listed.out.find('\n')), ec);
  ASSERT_FALSE(ec) << listed.out;
  const std::string id = string_field(line, "id");
  EXPECT_EQ(key.substr(4, 16), id);
  EXPECT_EQ(string_field(line, "name"), "reporting");

  const RunResult revoked = cli(server, {"keys", "revoke", id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  // The server trusts a looked-up key for 5 s; the revoke holds once that has passed.
  Response after;
  for (int i = 0; i < 100; ++i) {
    after = c.get("/reports/deleted-orders", bearer(key));
    if (after.status == 401) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(IsErrorCode(after, 401, "unauthorized"));

  EXPECT_EQ(cli(server, {"keys", "revoke", "ffffffffffffffff"}).exit_code, 1);
  EXPECT_EQ(cli(server, {"keys", "revoke", "nope"}).exit_code, 2);
  const RunResult bad_scope =
      cli(server, {"keys", "create", "--name", "x", "--scopes", "orders:all"});
  EXPECT_EQ(bad_scope.exit_code, 2);
  EXPECT_NE(bad_scope.err.find("orders:all"), std::string::npos) << bad_scope.err;
  EXPECT_EQ(cli(server, {"keys", "create", "--name", "x", "--scopes", "admin", "--expires", "soon"})
                .exit_code,
            2);
}

// The web app asks /auth/session what its key may do before it shows its controls.
TEST(Access, TheSessionRouteSaysWhatTheCallersKeyMayDo) {
  TempDir dir;
  ServerProcess server(dir.path(), with_keys());
  HttpClient c(server.port());
  const std::string reader = make_key(c, R"(["orders:read"])");
  ASSERT_FALSE(reader.empty());
  const auto scopes_of = [](const boost::json::value& body) {
    std::string out;
    for (const auto& s : body.at("scopes").as_array()) out += std::string(s.as_string()) + " ";
    return out;
  };

  const Response anonymous = c.get("/auth/session");
  ASSERT_TRUE(HasStatus(anonymous, 200));
  const boost::json::value a = anonymous.json();
  EXPECT_TRUE(a.at("keysRequired").as_bool());
  EXPECT_FALSE(a.at("authenticated").as_bool());
  EXPECT_EQ(scopes_of(a), "");

  const Response known = c.get("/auth/session", bearer(reader));
  ASSERT_TRUE(HasStatus(known, 200));
  const boost::json::value k = known.json();
  EXPECT_TRUE(k.at("authenticated").as_bool());
  EXPECT_FALSE(k.at("keyRejected").as_bool());
  EXPECT_EQ(scopes_of(k), "orders:read ");
  EXPECT_EQ(reader.substr(4, 16), std::string(k.at("keyId").as_string()));

  const Response bogus =
      c.get("/auth/session", bearer("ofk_0123456789abcdef_" + std::string(64, '0')));
  ASSERT_TRUE(HasStatus(bogus, 200));
  EXPECT_TRUE(bogus.json().at("keyRejected").as_bool());
  EXPECT_FALSE(bogus.json().at("authenticated").as_bool());

  // Without keys required, a caller without a key may do all but admin.
  TempDir open_dir;
  ServerProcess open_server(open_dir.path(), ServerOptions{});
  HttpClient o(open_server.port());
  const Response open = o.get("/auth/session");
  ASSERT_TRUE(HasStatus(open, 200));
  EXPECT_FALSE(open.json().at("keysRequired").as_bool());
  EXPECT_EQ(scopes_of(open.json()), "orders:read orders:write reports:read ");
}

// Operator actions leave one structured audit line each, with who did it, and are counted.
TEST(Access, KeyChangesAndRedrivesAreAudited) {
  TempDir dir;
  ServerProcess server(dir.path(), with_keys());
  HttpClient c(server.port());
  const std::string admin_key = make_key(c, R"(["admin"])", "ops");
  ASSERT_FALSE(admin_key.empty());
  const std::string admin_id = admin_key.substr(4, 16);
  const Response victim =
      c.post("/admin/keys", R"({"name":"temp","scopes":"orders:read"})", bearer(admin_key));
  ASSERT_TRUE(HasStatus(victim, 201));
  const std::string victim_id = string_field(victim.json(), "id");
  EXPECT_TRUE(
      HasStatus(c.request("DELETE", "/admin/keys/" + victim_id, "", bearer(admin_key)), 204));
  EXPECT_TRUE(
      HasStatus(c.post("/admin/deliveries/redrive?state=dead", "", bearer(kAdminToken)), 200));

  const Response metrics = c.get("/metrics", bearer(kAdminToken));
  ASSERT_TRUE(HasStatus(metrics, 200));
  EXPECT_NE(metrics.body.find("orderflow_audit_events_total{action=\"key_created\"} 2"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("orderflow_audit_events_total{action=\"key_revoked\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("orderflow_audit_events_total{action=\"redrive\"} 1"),
            std::string::npos);

  const auto logged = [&](const std::string& line) {
    return eventually([&] { return server.log().find(line) != std::string::npos; });
  };
  EXPECT_TRUE(logged("audit action=key_created by=\"the admin token\" key=" + admin_id +
                     " name=\"ops\" scopes=admin expires=never"))
      << server.log();
  EXPECT_TRUE(logged("audit action=key_created by=\"key " + admin_id + "\" key=" + victim_id));
  EXPECT_TRUE(logged("audit action=key_revoked by=\"key " + admin_id + "\" key=" + victim_id));
  EXPECT_TRUE(logged("audit action=redrive by=\"the admin token\" deliveries=all_dead redriven=0"));
}

// The API's rate limit: per key, a 429 with Retry-After once a key's bucket is empty, and the
// RateLimit headers on every answer; other keys and the public routes are not held back.
TEST(Access, EachKeyHasItsOwnRateLimit) {
  TempDir dir;
  ServerOptions o = with_keys();
  // One request a minute after a burst of three: the fourth is refused in any test run.
  o.env.emplace_back("ORDERFLOW_LIMITS_API_PER_MINUTE", "1");
  o.env.emplace_back("ORDERFLOW_LIMITS_API_BURST", "3");
  ServerProcess server(dir.path(), o);
  HttpClient c(server.port());
  const std::string first = make_key(c, R"(["orders:read"])");
  const std::string second = make_key(c, R"(["orders:read"])");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());

  for (int i = 0; i < 3; ++i) {
    const Response r = c.get("/orders", bearer(first));
    ASSERT_TRUE(HasStatus(r, 200)) << i;
    EXPECT_EQ(r.header("RateLimit-Limit").value_or(""), "3");
    EXPECT_EQ(r.header("RateLimit-Remaining").value_or(""), std::to_string(2 - i));
    EXPECT_TRUE(r.header("RateLimit-Reset").has_value());
  }
  const Response refused = c.get("/orders", bearer(first));
  EXPECT_TRUE(IsErrorCode(refused, 429, "rate_limited")) << describe(refused);
  ASSERT_TRUE(refused.header("Retry-After").has_value());
  EXPECT_GE(std::stoi(*refused.header("Retry-After")), 1);
  EXPECT_EQ(refused.header("RateLimit-Remaining").value_or(""), "0");

  EXPECT_TRUE(HasStatus(c.get("/orders", bearer(second)), 200)) << "another key has its own";
  EXPECT_TRUE(HasStatus(c.get("/healthz"), 200)) << "public routes are not counted";
  EXPECT_TRUE(HasStatus(c.get("/auth/session", bearer(first)), 200));
  const Response metrics = c.get("/metrics", bearer(kAdminToken));
  EXPECT_NE(metrics.body.find("orderflow_api_rate_limited_total 1"), std::string::npos)
      << metrics.body;
}

// Without keys the limit counts per client address, and by default it is off on loopback.
TEST(Access, WithoutKeysTheRateLimitCountsPerClientAndIsOffOnLoopbackByDefault) {
  {
    TempDir dir;
    ServerOptions o;
    o.env = {{"ORDERFLOW_LIMITS_API_PER_MINUTE", "1"}, {"ORDERFLOW_LIMITS_API_BURST", "2"}};
    ServerProcess server(dir.path(), o);
    HttpClient c(server.port());
    EXPECT_TRUE(HasStatus(c.get("/orders"), 200));
    // A made-up key does not buy a fresh bucket.
    EXPECT_TRUE(
        HasStatus(c.get("/orders", bearer("ofk_0123456789abcdef_" + std::string(64, '1'))), 200));
    EXPECT_TRUE(IsErrorCode(c.get("/orders"), 429, "rate_limited"));
  }
  {
    TempDir dir;
    ServerProcess server(dir.path(), ServerOptions{});
    HttpClient c(server.port());
    for (int i = 0; i < 50; ++i) {
      const Response r = c.get("/orders");
      ASSERT_TRUE(HasStatus(r, 200)) << i;
      EXPECT_FALSE(r.header("RateLimit-Limit").has_value());
    }
  }
}

TEST(Access, TheDefaultModeFollowsTheListenAddress) {
  {
    // Loopback: no keys, as `make run` has it; /admin/ still needs the token.
    TempDir dir;
    ServerProcess server(dir.path(), ServerOptions{});
    HttpClient c(server.port());
    EXPECT_TRUE(HasStatus(c.get("/orders"), 200));
    EXPECT_TRUE(IsErrorCode(c.get("/admin/keys"), 401, "unauthorized"));
  }
  {
    // All addresses: keys required.
    TempDir dir;
    ServerOptions o;
    o.args = {"--listen", "0.0.0.0:0"};
    ServerProcess server(dir.path(), o);
    HttpClient c(server.port());
    EXPECT_TRUE(IsErrorCode(c.get("/orders"), 401, "unauthorized"));
    EXPECT_TRUE(HasStatus(c.get("/healthz"), 200)) << "public routes stay public";
    EXPECT_TRUE(HasStatus(c.get("/"), 200));
  }
  {
    // All addresses with mode = none given: open, and start-up warns.
    TempDir dir;
    ServerOptions o;
    o.args = {"--listen", "0.0.0.0:0"};
    o.env = {{"ORDERFLOW_AUTH_MODE", "none"}};
    ServerProcess server(dir.path(), o);
    HttpClient c(server.port());
    EXPECT_TRUE(HasStatus(c.get("/orders"), 200));
    EXPECT_NE(server.log().find("not a loopback address"), std::string::npos) << server.log();
  }
}

}  // namespace
}  // namespace orderflow::e2e
