// API keys and scopes (issue 13): the text forms (domain/access.hpp) and the gateway's check
// (runtime/access_control.hpp) over a real SQLite key store and a clock the test moves.
#include "domain/access.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "adapters/crypto/api_key_material.hpp"
#include "adapters/sqlite/sqlite_stores.hpp"
#include "runtime/access_control.hpp"
#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"

namespace orderflow::runtime {
namespace {

using namespace std::chrono_literals;
using domain::Scope;
using domain::Scopes;

const domain::Timestamp kT0{std::chrono::microseconds{1'795'606'034'000'000}};

int status_of(const std::optional<functions::Response>& r) { return r ? r->status : 0; }

TEST(Scopes, AdminIncludesEveryOtherScopeAndTheOthersOnlyThemselves) {
  const Scopes admin(Scope::admin);
  for (const Scope s : {Scope::orders_read, Scope::orders_write, Scope::reports_read, Scope::admin})
    EXPECT_TRUE(admin.allow(s)) << domain::scope_name(s);
  const Scopes read(Scope::orders_read);
  EXPECT_TRUE(read.allow(Scope::orders_read));
  EXPECT_FALSE(read.allow(Scope::orders_write));
  EXPECT_FALSE(read.allow(Scope::reports_read));
  EXPECT_FALSE(read.allow(Scope::admin));
  EXPECT_FALSE(Scopes(Scope::orders_write).allow(Scope::orders_read)) << "write is not read";
}

TEST(Scopes, ListsParseWithCommasOrBlanksAndUnknownNamesAreNamed) {
  EXPECT_EQ(domain::parse_scopes("orders:read,orders:write"),
            Scopes(Scope::orders_read).with(Scope::orders_write));
  EXPECT_EQ(domain::parse_scopes(" reports:read  admin "),
            Scopes(Scope::reports_read).with(Scope::admin));
  std::string bad;
  EXPECT_EQ(domain::parse_scopes("orders:read,orders:delete", &bad), std::nullopt);
  EXPECT_EQ(bad, "orders:delete");
  EXPECT_EQ(domain::parse_scopes(" , ", &bad), std::nullopt);
  EXPECT_EQ(bad, "");
  EXPECT_EQ(domain::scope_names(Scopes(Scope::admin).with(Scope::orders_read), ","),
            "orders:read,admin");
}

TEST(KeyLifetime, TakesAWholeNumberAndAUnit) {
  EXPECT_EQ(domain::parse_lifetime("90d"), std::chrono::seconds(90 * 86400));
  EXPECT_EQ(domain::parse_lifetime("12h"), std::chrono::seconds(12 * 3600));
  EXPECT_EQ(domain::parse_lifetime("30m"), std::chrono::seconds(1800));
  EXPECT_EQ(domain::parse_lifetime("45s"), std::chrono::seconds(45));
  for (const char* bad : {"", "d", "0d", "-1d", "1.5d", "10y", "d10", "99999999999d", "1 d"})
    EXPECT_EQ(domain::parse_lifetime(bad), std::nullopt) << bad;
}

TEST(KeyText, AMintedKeyHasTheFormAndItsHashIsSha256) {
  const auto minted = adapters::mint_api_key();
  const auto text = domain::parse_key_text(minted.text);
  ASSERT_TRUE(text.has_value()) << minted.text;
  EXPECT_EQ(text->id, minted.id);
  EXPECT_EQ(text->secret.size(), 64u);
  EXPECT_EQ(minted.hash, adapters::hash_api_key(minted.text));
  EXPECT_EQ(adapters::hash_api_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(adapters::mint_api_key().text, minted.text);
  for (const std::string& bad :
       {std::string(), std::string("ofk_"), minted.text.substr(1), minted.text + "0",
        "ofk_" + std::string(16, 'G') + "_" + std::string(64, 'a'),
        "ofk_" + std::string(16, 'a') + "-" + std::string(64, 'a')})
    EXPECT_EQ(domain::parse_key_text(bad), std::nullopt) << bad;
}

class AccessCheck : public ::testing::Test {
 protected:
  std::string key(const char* scopes, std::optional<std::chrono::seconds> lifetime = {}) {
    return create_api_key(*stores_.keys, clock_, "test", *domain::parse_scopes(scopes), lifetime)
        .text;
  }
  static int status(const std::optional<functions::Response>& r) { return status_of(r); }
  static std::string code(const std::optional<functions::Response>& r) {
    if (!r) return "";
    return std::string(boost::json::parse(r->body).at("code").as_string());
  }

  test_support::TempDir dir_;
  adapters::SqliteStores stores_ =
      adapters::open_sqlite_stores({(dir_.path() / "orderflow.db").string()});
  test_support::ManualClock clock_{kT0};
};

TEST_F(AccessCheck, WithoutKeysOnlyAdminRoutesAskForOne) {
  AccessControl access(*stores_.keys, clock_, {false, "the-admin-token-0123456789"});
  for (const Access a : {Access::open, Access::orders_read, Access::orders_write,
                         Access::reports_read, Access::metrics})
    EXPECT_EQ(status(access.check(a, "")), 0) << access_name(a);
  EXPECT_EQ(status(access.check(Access::admin, "")), 401);
  EXPECT_EQ(status(access.check(Access::admin, "Bearer the-admin-token-0123456789")), 0);
  EXPECT_EQ(status(access.check(Access::admin, "bearer the-admin-token-0123456789")), 0)
      << "the scheme is case-insensitive";
  EXPECT_EQ(status(access.check(Access::admin, "Bearer the-admin-token-012345678")), 401);
  EXPECT_EQ(status(access.check(Access::admin, "Bearer " + key("admin"))), 0);
  const auto denied = access.check(Access::admin, "Bearer " + key("orders:read,orders:write"));
  EXPECT_EQ(status(denied), 403);
  EXPECT_EQ(code(denied), "forbidden");
}

TEST_F(AccessCheck, WithKeysEveryScopedRouteAsksForItsScope) {
  AccessControl access(*stores_.keys, clock_, {true, "the-admin-token-0123456789"});
  const std::string reader = "Bearer " + key("orders:read");
  const std::string writer = "Bearer " + key("orders:write");
  const std::string reports = "Bearer " + key("reports:read");
  EXPECT_EQ(status(access.check(Access::open, "")), 0);
  const auto missing = access.check(Access::orders_read, "");
  EXPECT_EQ(status(missing), 401);
  EXPECT_EQ(code(missing), "unauthorized");
  ASSERT_TRUE(missing.has_value());
  ASSERT_FALSE(missing->headers.empty());
  EXPECT_EQ(missing->headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(status(access.check(Access::orders_read, "Basic dXNlcjpwYXNz")), 401);
  EXPECT_EQ(status(access.check(Access::orders_read, reader)), 0);
  EXPECT_EQ(status(access.check(Access::orders_write, reader)), 403);
  EXPECT_EQ(status(access.check(Access::orders_write, writer)), 0);
  EXPECT_EQ(status(access.check(Access::orders_read, writer)), 403);
  EXPECT_EQ(status(access.check(Access::reports_read, reports)), 0);
  EXPECT_EQ(status(access.check(Access::reports_read, reader)), 403);
  EXPECT_EQ(status(access.check(Access::metrics, reader)), 403);
  EXPECT_EQ(status(access.check(Access::metrics, "Bearer the-admin-token-0123456789")), 0);
  // A key of the right form whose secret is wrong is no key at all.
  std::string forged = reader;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(status(access.check(Access::orders_read, forged)), 401);
  const std::string metrics = access.render_metrics();
  EXPECT_NE(metrics.find("orderflow_auth_refused_total{status=\"401\"} 3"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("orderflow_auth_refused_total{status=\"403\"} 4"), std::string::npos)
      << metrics;
}

TEST_F(AccessCheck, AnExpiredKeyIsRefusedAndARevokedOneAtOnceInThisProcess) {
  AccessControl access(*stores_.keys, clock_, {true, ""});
  const std::string brief = "Bearer " + key("orders:read", 1h);
  const std::string other = key("orders:read");
  EXPECT_EQ(status(access.check(Access::orders_read, brief)), 0);
  clock_.advance(1h);
  EXPECT_EQ(status(access.check(Access::orders_read, brief)), 401);

  EXPECT_EQ(status(access.check(Access::orders_read, "Bearer " + other)), 0);
  const auto id = std::string(domain::parse_key_text(other)->id);
  ASSERT_TRUE(stores_.keys->revoke(id, clock_.now()));
  access.forget(id);
  EXPECT_EQ(status(access.check(Access::orders_read, "Bearer " + other)), 401);
}

TEST_F(AccessCheck, ARevokeByAnotherProcessHoldsOnceTheCacheEntryIsOld) {
  AccessControl access(*stores_.keys, clock_, {true, "", std::chrono::milliseconds(0)});
  const std::string k = key("orders:read");
  EXPECT_EQ(status(access.check(Access::orders_read, "Bearer " + k)), 0);
  // Revoked in the store behind this AccessControl's back (another replica, the CLI).
  ASSERT_TRUE(stores_.keys->revoke(std::string(domain::parse_key_text(k)->id), clock_.now()));
  EXPECT_EQ(status(access.check(Access::orders_read, "Bearer " + k)), 401);
}

TEST_F(AccessCheck, UsesAreRecordedInTheStoreToTheMinute) {
  const std::string k = key("orders:read");
  const auto id = std::string(domain::parse_key_text(k)->id);
  {
    AccessControl access(*stores_.keys, clock_, {true, ""});
    EXPECT_EQ(status(access.check(Access::orders_read, "Bearer " + k)), 0);
    access.flush_uses();
    EXPECT_EQ(stores_.keys->find(id)->last_used, kT0);
    clock_.advance(10s);  // within the minute: not written again
    EXPECT_EQ(status(access.check(Access::orders_read, "Bearer " + k)), 0);
    access.flush_uses();
    EXPECT_EQ(stores_.keys->find(id)->last_used, kT0);
    clock_.advance(2min);
    EXPECT_EQ(status(access.check(Access::orders_read, "Bearer " + k)), 0);
  }  // the destructor writes what is left
  EXPECT_EQ(stores_.keys->find(id)->last_used, kT0 + 10s + 2min);
}

TEST(KeyRoutes, CreateValidatesItsBodyAndListNeverShowsTheKey) {
  test_support::TempDir dir;
  auto stores = adapters::open_sqlite_stores({(dir.path() / "orderflow.db").string()});
  test_support::ManualClock clock{kT0};
  AccessControl access(*stores.keys, clock, {true, ""});
  const auto post = [&](std::string body) {
    functions::Request req;
    req.method = "POST";
    req.body = body;
    return create_key_route(access, req);
  };
  for (const char* bad :
       {"[]", "{}", R"({"name":"x"})", R"({"name":"","scopes":["admin"]})",
        R"({"name":"x","scopes":[]})", R"({"name":"x","scopes":["orders:delete"]})",
        R"({"name":"x","scopes":[1]})", R"({"name":"x","scopes":"admin","expiresIn":"forever"})",
        R"({"name":"x","scopes":"admin","extra":1})", R"({"name":"a\u0007b","scopes":"admin"})"}) {
    const auto r = post(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("\"code\":\"validation\""), std::string::npos) << bad << " " << r.body;
  }
  EXPECT_TRUE(stores.keys->list().empty()) << "a refused body stores nothing";

  const auto created =
      post(R"({"name":"shop","scopes":["orders:read","orders:write"],"expiresIn":"90d"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto json = boost::json::parse(created.body).as_object();
  const std::string text(json.at("key").as_string());
  ASSERT_TRUE(domain::parse_key_text(text).has_value());
  EXPECT_EQ(json.at("expiresAt").as_string(), domain::format_rfc3339(kT0 + 90 * 24h));
  EXPECT_EQ(status_of(access.check(Access::orders_write, "Bearer " + text)), 0);

  const auto listed = list_keys_route(access, {});
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(text.substr(21)), std::string::npos) << "the secret is never listed";
  EXPECT_EQ(listed.body.find(stores.keys->list()[0].secret_hash), std::string::npos);
  EXPECT_NE(listed.body.find("\"name\":\"shop\""), std::string::npos);

  const auto revoke = [&](std::string id) {
    functions::Request req;
    req.method = "DELETE";
    req.path_params = {{"keyId", std::move(id)}};
    return revoke_key_route(access, req);
  };
  EXPECT_EQ(revoke("not-a-key-id").status, 400);
  EXPECT_EQ(revoke("0000000000000000").status, 404);
  const std::string id(json.at("id").as_string());
  EXPECT_EQ(revoke(id).status, 204);
  EXPECT_EQ(revoke(id).status, 204) << "revoking again is no error";
  EXPECT_EQ(status_of(access.check(Access::orders_write, "Bearer " + text)), 401)
      << "refused at once by the process that revoked it";
}

// The audited actions are counted in /metrics: a created and a revoked key here (the line in
// the log is checked end to end in tests/e2e/access_test.cpp), and a burst of refusals once
// its window has ended.
TEST(Audit, KeyChangesAndBurstsOfRefusalsAreCounted) {
  test_support::TempDir dir;
  auto stores = adapters::open_sqlite_stores({(dir.path() / "orderflow.db").string()});
  test_support::ManualClock clock{kT0};
  AccessControl access(*stores.keys, clock, {true, ""});
  const auto count = [&](std::string_view action) {
    const std::string metrics = access.render_metrics();
    const std::string line = fmt::format("orderflow_audit_events_total{{action=\"{}\"}} ", action);
    const auto at = metrics.find(line);
    return at == std::string::npos ? -1 : std::stoi(metrics.substr(at + line.size()));
  };
  for (const char* action : {"key_created", "key_revoked", "redrive", "refusal_burst"})
    EXPECT_EQ(count(action), 0) << action;

  functions::Request create;
  create.method = "POST";
  const std::string body = R"({"name":"shop","scopes":"orders:read"})";
  create.body = body;
  const auto created = create_key_route(access, create);
  ASSERT_EQ(created.status, 201);
  functions::Request revoke;
  revoke.method = "DELETE";
  revoke.path_params = {
      {"keyId", std::string(boost::json::parse(created.body).at("id").as_string())}};
  EXPECT_EQ(revoke_key_route(access, revoke).status, 204);
  EXPECT_EQ(count("key_created"), 1);
  EXPECT_EQ(count("key_revoked"), 1);

  // 19 refusals in a window are not a burst; 20 are, once the window ends.
  for (int i = 0; i < 19; ++i) (void)access.check(Access::orders_read, "");
  clock.advance(11s);
  (void)access.check(Access::orders_read, "");
  EXPECT_EQ(count("refusal_burst"), 0);
  for (int i = 0; i < 19; ++i) (void)access.check(Access::orders_read, "Bearer ofk_nonsense");
  clock.advance(11s);
  (void)access.check(Access::orders_read, "");
  EXPECT_EQ(count("refusal_burst"), 1);
}

}  // namespace
}  // namespace orderflow::runtime
