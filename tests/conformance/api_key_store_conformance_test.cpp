// The ApiKeyStore contract (src/ports/api_key_store.hpp), run against every adapter listed in
// store_factories.cpp.
#include <gtest/gtest.h>

#include <string>

#include "conformance/store_factories.hpp"

namespace orderflow::testing {
namespace {

using namespace std::chrono_literals;
using domain::Scope;
using domain::Scopes;
using domain::Timestamp;
using ports::ApiKeyRecord;

const Timestamp kT0{std::chrono::microseconds{1'795'606'034'000'000}};

ApiKeyRecord key(std::string id, std::string name, Scopes scopes, Timestamp created) {
  ApiKeyRecord k;
  k.id = std::move(id);
  k.name = std::move(name);
  k.scopes = scopes;
  k.secret_hash = std::string(64, 'a');
  k.created = created;
  return k;
}

class ApiKeyStoreConformance : public ::testing::TestWithParam<ApiKeyStoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(dir_.path()); }
  void TearDown() override { store_.reset(); }

  void reopen() {
    store_.reset();
    store_ = GetParam().make(dir_.path());
  }

  TempDir dir_;
  std::unique_ptr<ports::ApiKeyStore> store_;
};

TEST_P(ApiKeyStoreConformance, AKeyIsFoundByItsIdWithEverythingItWasGivenAlsoAfterAReopen) {
  ApiKeyRecord shop = key("0123456789abcdef", "shop — 店舗", Scopes(Scope::orders_read).with(Scope::orders_write), kT0);
  shop.secret_hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
  shop.expires = kT0 + 90 * 24h;
  ASSERT_TRUE(store_->add(shop));
  reopen();
  const auto found = store_->find("0123456789abcdef");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, shop.id);
  EXPECT_EQ(found->name, shop.name);
  EXPECT_EQ(found->scopes, shop.scopes);
  EXPECT_EQ(found->secret_hash, shop.secret_hash);
  EXPECT_EQ(found->created, kT0);
  EXPECT_EQ(found->expires, shop.expires);
  EXPECT_EQ(found->last_used, std::nullopt);
  EXPECT_EQ(found->revoked, std::nullopt);
  EXPECT_EQ(store_->find("fedcba9876543210"), std::nullopt);
}

TEST_P(ApiKeyStoreConformance, AKeyWithoutExpiryNeverExpires) {
  ASSERT_TRUE(store_->add(key("00000000000000aa", "forever", Scope::admin, kT0)));
  const auto found = store_->find("00000000000000aa");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->expires, std::nullopt);
  EXPECT_TRUE(found->active(kT0 + 3650 * 24h));
}

TEST_P(ApiKeyStoreConformance, ATakenIdIsRefusedAndTheFirstKeyStays) {
  ASSERT_TRUE(store_->add(key("00000000000000aa", "first", Scope::orders_read, kT0)));
  EXPECT_FALSE(store_->add(key("00000000000000aa", "second", Scope::admin, kT0 + 1s)));
  const auto found = store_->find("00000000000000aa");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "first");
  EXPECT_EQ(found->scopes, Scopes(Scope::orders_read));
}

TEST_P(ApiKeyStoreConformance, ListShowsEveryKeyOldestFirstRevokedOnesToo) {
  ASSERT_TRUE(store_->add(key("00000000000000b2", "second", Scope::orders_read, kT0 + 2s)));
  ASSERT_TRUE(store_->add(key("00000000000000a1", "first", Scope::reports_read, kT0 + 1s)));
  ASSERT_TRUE(store_->add(key("00000000000000c3", "third", Scope::admin, kT0 + 3s)));
  ASSERT_TRUE(store_->revoke("00000000000000b2", kT0 + 4s));
  const auto keys = store_->list();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].name, "first");
  EXPECT_EQ(keys[1].name, "second");
  EXPECT_EQ(keys[2].name, "third");
  EXPECT_EQ(keys[1].revoked, kT0 + 4s);
  EXPECT_EQ(keys[0].revoked, std::nullopt);
}

TEST_P(ApiKeyStoreConformance, RevokeKeepsTheFirstTimeAndAnUnknownIdIsFalse) {
  ASSERT_TRUE(store_->add(key("00000000000000aa", "shop", Scope::orders_write, kT0)));
  EXPECT_TRUE(store_->revoke("00000000000000aa", kT0 + 10s));
  EXPECT_TRUE(store_->revoke("00000000000000aa", kT0 + 20s));
  EXPECT_FALSE(store_->revoke("00000000000000ff", kT0 + 20s));
  reopen();
  const auto found = store_->find("00000000000000aa");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->revoked, kT0 + 10s);
  EXPECT_FALSE(found->active(kT0 + 11s));
}

TEST_P(ApiKeyStoreConformance, TouchRecordsTheLatestUseOnly) {
  ASSERT_TRUE(store_->add(key("00000000000000aa", "shop", Scope::orders_read, kT0)));
  store_->touch("00000000000000aa", kT0 + 2min);
  store_->touch("00000000000000aa", kT0 + 1min);  // an older use, flushed late
  store_->touch("00000000000000ff", kT0 + 1min);  // no such key: nothing happens
  reopen();
  const auto found = store_->find("00000000000000aa");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->last_used, kT0 + 2min);
  EXPECT_EQ(store_->find("00000000000000ff"), std::nullopt);
}

TEST_P(ApiKeyStoreConformance, AnExpiredKeyIsStillListedButNotActive) {
  ApiKeyRecord brief = key("00000000000000aa", "brief", Scope::orders_read, kT0);
  brief.expires = kT0 + 1h;
  ASSERT_TRUE(store_->add(brief));
  const auto found = store_->find("00000000000000aa");
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->active(kT0 + 59min));
  EXPECT_FALSE(found->active(kT0 + 1h));
  EXPECT_EQ(store_->list().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, ApiKeyStoreConformance,
                         ::testing::ValuesIn(api_key_store_factories()),
                         [](const ::testing::TestParamInfo<ApiKeyStoreFactory>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace orderflow::testing
