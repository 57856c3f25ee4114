// The flat WordNet store on a small hand-built graph (ids as in WordNet 3.0): lookups after
// finish(), entries added out of order or twice, a second batch, and added hypernym edges.
#include "domain/wordnet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace orderflow::domain {
namespace {

constexpr SynsetId kEntity = 1740;
constexpr SynsetId kObject = 2684;
constexpr SynsetId kAnimal = 15388;
constexpr SynsetId kDomesticAnimal = 1317541;
constexpr SynsetId kCanine = 2083346;
constexpr SynsetId kDog = 2084071;
constexpr SynsetId kMouse = 2330245;
constexpr SynsetId kBox = 2883344;
constexpr SynsetId kCoffeeMug = 3063599;
constexpr SynsetId kDevice = 3183080;
constexpr SynsetId kComputerMouse = 3793489;
constexpr SynsetId kMug = 3797390;
constexpr SynsetId kDrinkingVessel = 3241496;

std::vector<SynsetId> ids(std::span<const SynsetId> span) { return {span.begin(), span.end()}; }

// Added in no particular order, as the flat store must not rely on the files' order.
WordNet small_wordnet() {
  WordNet wn;
  wn.add_synset(kDog, std::vector<SynsetId>{kCanine, kDomesticAnimal}, "dog");
  wn.add_synset(kEntity, {}, "entity");
  wn.add_synset(kObject, std::vector<SynsetId>{kEntity}, "physical object");
  wn.add_synset(kAnimal, std::vector<SynsetId>{kObject}, "animal");
  wn.add_synset(kCanine, std::vector<SynsetId>{kAnimal}, "canine");
  wn.add_synset(kDomesticAnimal, std::vector<SynsetId>{kAnimal}, "domestic animal");
  wn.add_synset(kMouse, std::vector<SynsetId>{kAnimal}, "mouse");
  wn.add_synset(kDevice, std::vector<SynsetId>{kObject}, "device");
  wn.add_synset(kComputerMouse, std::vector<SynsetId>{kDevice}, "mouse");
  wn.add_synset(kMug, std::vector<SynsetId>{kObject}, "mug");
  wn.add_synset(kCoffeeMug, std::vector<SynsetId>{kMug}, "coffee mug");
  wn.add_synset(kBox, std::vector<SynsetId>{kObject}, "box");
  wn.add_lemma("mouse", std::vector<SynsetId>{kMouse, kComputerMouse});
  wn.add_lemma("dog", std::vector<SynsetId>{kDog});
  wn.add_lemma("coffee_mug", std::vector<SynsetId>{kCoffeeMug});
  wn.add_lemma("mug", std::vector<SynsetId>{kMug});
  wn.add_lemma("box", std::vector<SynsetId>{kBox});
  wn.add_lemma("entity", std::vector<SynsetId>{kEntity});
  wn.add_exception("mice", "mouse");
  wn.finish();
  return wn;
}

TEST(WordNet, CountsAndNames) {
  const auto wn = small_wordnet();
  EXPECT_EQ(wn.synset_count(), 12u);
  EXPECT_EQ(wn.lemma_count(), 6u);
  EXPECT_TRUE(wn.has_synset(kDog));
  EXPECT_EQ(wn.name(kDog), "dog");
  EXPECT_EQ(wn.name(kCoffeeMug), "coffee mug");
  EXPECT_EQ(wn.name(kEntity), "entity");
}

TEST(WordNet, SensesOfWordsAndMultiWordLemmas) {
  const auto wn = small_wordnet();
  EXPECT_EQ(wn.senses("coffee_mug"), std::vector<SynsetId>{kCoffeeMug});
  EXPECT_EQ(wn.senses("mouse"), (std::vector<SynsetId>{kMouse, kComputerMouse}));
  EXPECT_EQ(wn.senses("dog"), std::vector<SynsetId>{kDog});
}

TEST(WordNet, PluralsByRuleAndByException) {
  const auto wn = small_wordnet();
  EXPECT_EQ(wn.base_forms("coffee_mugs"), std::vector<std::string>{"coffee_mug"});
  EXPECT_EQ(wn.senses("coffee_mugs"), std::vector<SynsetId>{kCoffeeMug});
  EXPECT_EQ(wn.base_forms("boxes"), std::vector<std::string>{"box"});  // -xes, not "boxe"
  EXPECT_EQ(wn.base_forms("mice"), std::vector<std::string>{"mouse"});
  EXPECT_EQ(wn.senses("mice"), (std::vector<SynsetId>{kMouse, kComputerMouse}));
  EXPECT_EQ(wn.base_forms("dog"), std::vector<std::string>{"dog"});
}

TEST(WordNet, HypernymsAndAncestors) {
  const auto wn = small_wordnet();
  EXPECT_EQ(ids(wn.hypernyms(kDog)), (std::vector<SynsetId>{kCanine, kDomesticAnimal}));
  EXPECT_EQ(ids(wn.hypernyms(kCoffeeMug)), std::vector<SynsetId>{kMug});
  EXPECT_TRUE(wn.hypernyms(kEntity).empty());
  const std::vector<std::pair<SynsetId, int>> expected{
      {kDog, 0}, {kCanine, 1}, {kDomesticAnimal, 1}, {kAnimal, 2}, {kObject, 3}, {kEntity, 4}};
  EXPECT_EQ(wn.ancestors(kDog), expected);
}

TEST(WordNet, UnknownIdsAndLemmasAreEmpty) {
  const auto wn = small_wordnet();
  EXPECT_FALSE(wn.has_synset(999));
  EXPECT_TRUE(wn.hypernyms(999).empty());
  EXPECT_TRUE(wn.name(999).empty());
  EXPECT_EQ(wn.ancestors(999), (std::vector<std::pair<SynsetId, int>>{{999, 0}}));
  EXPECT_TRUE(wn.senses("zorblax").empty());
  EXPECT_TRUE(wn.base_forms("zorblaxes").empty());
  EXPECT_TRUE(wn.senses("").empty());
  EXPECT_TRUE(wn.senses("coffee").empty());  // a prefix of a lemma is not one
  EXPECT_TRUE(wn.senses("mugz").empty());
}

TEST(WordNet, AddedHypernymsAreVisibleAfterFinish) {
  auto wn = small_wordnet();
  wn.add_hypernym(kMug, kDrinkingVessel);  // a synset the graph lacks: added, empty
  wn.add_hypernym(kMug, kObject);          // already an edge: not doubled
  wn.add_hypernym(kBox, kDevice);
  wn.finish();
  EXPECT_EQ(ids(wn.hypernyms(kMug)), (std::vector<SynsetId>{kObject, kDrinkingVessel}));
  EXPECT_EQ(ids(wn.hypernyms(kBox)), (std::vector<SynsetId>{kObject, kDevice}));
  EXPECT_TRUE(wn.has_synset(kDrinkingVessel));
  EXPECT_TRUE(wn.name(kDrinkingVessel).empty());
  EXPECT_EQ(wn.synset_count(), 13u);
  const auto up = wn.ancestors(kCoffeeMug);
  EXPECT_NE(std::find(up.begin(), up.end(), std::pair<SynsetId, int>{kDrinkingVessel, 2}),
            up.end());
  // Everything else is unchanged.
  EXPECT_EQ(wn.name(kMug), "mug");
  EXPECT_EQ(wn.senses("coffee_mugs"), std::vector<SynsetId>{kCoffeeMug});
  EXPECT_EQ(ids(wn.hypernyms(kDog)), (std::vector<SynsetId>{kCanine, kDomesticAnimal}));
}

TEST(WordNet, LaterEntriesWinAndBatchesMerge) {
  auto wn = small_wordnet();
  wn.add_synset(kBox, std::vector<SynsetId>{kDevice}, "crate");
  wn.add_lemma("dog", std::vector<SynsetId>{kDog, kCanine});
  wn.add_lemma("canine", std::vector<SynsetId>{kCanine});
  wn.add_lemma("aardvark", std::vector<SynsetId>{kAnimal});
  wn.add_exception("mice", "mouse");
  wn.finish();
  EXPECT_EQ(wn.synset_count(), 12u);
  EXPECT_EQ(wn.name(kBox), "crate");
  EXPECT_EQ(ids(wn.hypernyms(kBox)), std::vector<SynsetId>{kDevice});
  EXPECT_EQ(wn.lemma_count(), 8u);
  EXPECT_EQ(wn.senses("dog"), (std::vector<SynsetId>{kDog, kCanine}));
  EXPECT_EQ(wn.senses("canines"), std::vector<SynsetId>{kCanine});
  EXPECT_EQ(wn.senses("aardvark"), std::vector<SynsetId>{kAnimal});
  EXPECT_EQ(wn.senses("mice"), (std::vector<SynsetId>{kMouse, kComputerMouse}));
  EXPECT_EQ(wn.name(kComputerMouse), "mouse");
}

TEST(WordNet, EmptyUntilFinished) {
  WordNet wn;
  EXPECT_EQ(wn.synset_count(), 0u);
  EXPECT_EQ(wn.lemma_count(), 0u);
  wn.add_synset(kEntity, {}, "entity");
  wn.add_lemma("entity", std::vector<SynsetId>{kEntity});
  wn.finish();
  wn.finish();  // a second call changes nothing
  EXPECT_EQ(wn.synset_count(), 1u);
  EXPECT_EQ(wn.senses("entity"), std::vector<SynsetId>{kEntity});
}

}  // namespace
}  // namespace orderflow::domain
