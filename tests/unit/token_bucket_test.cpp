// Token buckets (issue 13: the API's and the subscriptions' rate limits), on a manual clock.
#include "domain/token_bucket.hpp"

#include <gtest/gtest.h>

namespace orderflow::domain {
namespace {

using namespace std::chrono_literals;

const Timestamp kT0 = Timestamp(std::chrono::seconds(1'800'000'000));

TEST(TokenBuckets, ABurstIsAllowedThenOneRequestPerRefill) {
  TokenBuckets buckets({3, 0.5});  // three at once, then one every 2 s
  for (int i = 0; i < 3; ++i) {
    const auto s = buckets.take("a", kT0);
    EXPECT_TRUE(s.allowed) << i;
    EXPECT_EQ(s.remaining, 2 - i);
  }
  const auto refused = buckets.take("a", kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, 2s);
  EXPECT_EQ(refused.full_in, 6s);

  EXPECT_FALSE(buckets.take("a", kT0 + 1s).allowed);
  EXPECT_EQ(buckets.take("a", kT0 + 1s).retry_after, 1s);
  EXPECT_TRUE(buckets.take("a", kT0 + 2s).allowed) << "a token came back after 2 s";
  EXPECT_FALSE(buckets.take("a", kT0 + 2s).allowed);
  EXPECT_TRUE(buckets.take("b", kT0).allowed) << "every caller has its own bucket";
}

TEST(TokenBuckets, ALongPauseRefillsOnlyUpToTheCapacity) {
  TokenBuckets buckets({2, 1});
  EXPECT_TRUE(buckets.take("a", kT0).allowed);
  EXPECT_TRUE(buckets.take("a", kT0).allowed);
  const Timestamp later = kT0 + 24h;
  EXPECT_TRUE(buckets.take("a", later).allowed);
  EXPECT_TRUE(buckets.take("a", later).allowed);
  EXPECT_FALSE(buckets.take("a", later).allowed);
}

TEST(TokenBuckets, PeekTellsWithoutTaking) {
  TokenBuckets buckets({1, 1.0 / 600});  // one mail per 10 minutes
  EXPECT_TRUE(buckets.peek("a", kT0).allowed);
  EXPECT_TRUE(buckets.peek("a", kT0).allowed);
  EXPECT_TRUE(buckets.take("a", kT0).allowed);
  const auto after = buckets.peek("a", kT0 + 1s);
  EXPECT_FALSE(after.allowed);
  EXPECT_EQ(after.retry_after, 599s);
}

TEST(TokenBuckets, WithoutAPolicyNothingIsLimited) {
  TokenBuckets off({0, 0});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(off.take("a", kT0).allowed);
}

TEST(TokenBuckets, AFloodOfCallersIsBoundedAndDropsOnlyFullBucketsFirst) {
  TokenBuckets buckets({1, 1}, 3);
  EXPECT_TRUE(buckets.take("limited", kT0).allowed);
  EXPECT_TRUE(buckets.take("b", kT0 - 10s).allowed);  // full again by kT0
  EXPECT_TRUE(buckets.take("c", kT0 - 10s).allowed);
  EXPECT_TRUE(buckets.take("d", kT0).allowed) << "room was made by dropping full buckets";
  EXPECT_FALSE(buckets.take("limited", kT0).allowed) << "the limited caller was kept";
}

}  // namespace
}  // namespace orderflow::domain
