// The description matcher on the real WordNet 3.0 (Debian wordnet-base) and the model's 1000
// ImageNet classes: reading descriptions, the relations, and the decision over probabilities.
#include "adapters/wordnet/wordnet_files.hpp"
#include "image_test_support.hpp"

namespace orderflow::image_test {
namespace {

using domain::ClassProbability;
using domain::DescriptionMatcher;
using domain::Verdict;
using Relation = DescriptionMatcher::Relation;

class WordNetMatcher : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_WITHOUT_MODEL(); }

  static const DescriptionMatcher& m() { return shared_matcher(); }

  static int cls(std::string_view wnid) {
    static const auto classes =
        adapters::load_imagenet_labels(model_dir() / adapters::OpenCvRecognizer::kLabelsFile);
    for (std::size_t i = 0; i < classes.size(); ++i)
      if (classes[i].wnid == wnid) return static_cast<int>(i);
    ADD_FAILURE() << "no class " << wnid;
    return -1;
  }

  // Is the class consistent with the description?
  static bool consistent(std::string_view description, std::string_view wnid) {
    const auto reading = m().read(description);
    return reading.consistent.at(static_cast<std::size_t>(cls(wnid))) != 0;
  }

  static Verdict judge(std::string_view description,
                       std::vector<std::pair<std::string_view, double>> top) {
    std::vector<ClassProbability> probabilities;
    for (const auto& [wnid, p] : top) probabilities.push_back({cls(wnid), p});
    return m().judge(description, probabilities);
  }

  static domain::SynsetId sense(std::string_view lemma, std::size_t n = 0) {
    return m().wordnet().senses(lemma).at(n);
  }
};

constexpr std::string_view kMalamute = "n02110063";
constexpr std::string_view kEskimoDog = "n02109961";
constexpr std::string_view kSiberianHusky = "n02110185";
constexpr std::string_view kTandem = "n02835271";
constexpr std::string_view kMountainBike = "n03792782";
constexpr std::string_view kGoldenRetriever = "n02099601";
constexpr std::string_view kCoffeeMug = "n03063599";
constexpr std::string_view kHotdog = "n07697537";
constexpr std::string_view kElectricGuitar = "n03272010";
constexpr std::string_view kTeapot = "n04398044";
constexpr std::string_view kPizza = "n07873807";
constexpr std::string_view kCheeseburger = "n07697313";
constexpr std::string_view kZebra = "n02391049";
constexpr std::string_view kBaldEagle = "n01614925";
constexpr std::string_view kVulture = "n01616318";
constexpr std::string_view kComputerMouse = "n03793489";
constexpr std::string_view kTimberWolf = "n02114367";
constexpr std::string_view kGoose = "n01855672";
constexpr std::string_view kCup = "n07930864";
constexpr std::string_view kOx = "n02403003";
constexpr std::string_view kWaterBuffalo = "n02408429";
constexpr std::string_view kParachute = "n03888257";

TEST_F(WordNetMatcher, LoadsTheNounDatabase) {
  const auto& wn = m().wordnet();
  EXPECT_GT(wn.synset_count(), 80000u);
  EXPECT_GT(wn.lemma_count(), 110000u);
  EXPECT_EQ(wn.name(2110063), "malamute");
  EXPECT_EQ(m().class_count(), 1000u);
  // The closure over every hypernym pointer: dog has two parents (canine, domestic animal).
  std::vector<domain::SynsetId> ancestors;
  for (const auto& [id, distance] : wn.ancestors(2110063)) ancestors.push_back(id);
  for (domain::SynsetId expected : {2084071u /*dog*/, 1317541u /*domestic animal*/, 2083346u /*canine*/,
                                    15388u /*animal*/, 1740u /*entity*/})
    EXPECT_NE(std::find(ancestors.begin(), ancestors.end(), expected), ancestors.end()) << expected;
}

// The flat store answers as the files say (data.noun, index.noun, noun.exc of WordNet 3.0).
TEST_F(WordNetMatcher, LooksUpTheFilesEntries) {
  const auto& wn = m().wordnet();
  const auto list = [](std::span<const domain::SynsetId> s) {
    return std::vector<domain::SynsetId>(s.begin(), s.end());
  };
  using Ids = std::vector<domain::SynsetId>;
  EXPECT_EQ(list(wn.hypernyms(2110063)), Ids{2109811});  // malamute -> sled dog
  EXPECT_EQ(wn.name(2109811), "sled dog");
  EXPECT_EQ(wn.senses("golden_retriever"), Ids{2099601});
  EXPECT_EQ(wn.senses("golden_retrievers"), Ids{2099601});
  EXPECT_EQ(wn.senses("coffee_mugs"), Ids{3063599});
  // Irregular plurals: every sense of "mouse" and "wolf", most frequent first.
  EXPECT_EQ(wn.senses("mice"), (Ids{2330245, 14289387, 10335563, 3793489}));
  EXPECT_EQ(wn.senses("wolves"), (Ids{2114100, 11394398, 11394214, 10787197, 9845589}));
  EXPECT_EQ(wn.base_forms("mice"), std::vector<std::string>{"mouse"});
  const auto up = wn.ancestors(2110063);
  ASSERT_GE(up.size(), 3u);
  EXPECT_EQ(up[0], (std::pair<domain::SynsetId, int>{2110063, 0}));
  EXPECT_EQ(up[1], (std::pair<domain::SynsetId, int>{2109811, 1}));
  EXPECT_EQ(up[2], (std::pair<domain::SynsetId, int>{2103406, 2}));  // working dog
  EXPECT_EQ(up.back().first, 1740u);                                  // entity
  // Unknown ids and words.
  EXPECT_FALSE(wn.has_synset(1));
  EXPECT_TRUE(wn.hypernyms(1).empty());
  EXPECT_TRUE(wn.name(1).empty());
  EXPECT_TRUE(wn.senses("zorblax").empty());
  EXPECT_TRUE(wn.senses("coffee_mu").empty());
  // The matcher's corrections come after the files' own edges.
  EXPECT_EQ(list(wn.hypernyms(7930864)), (Ids{7930554, 3147509}));           // cup (punch)
  EXPECT_EQ(list(wn.hypernyms(3147509)), (Ids{3133538, 3094503, 3241496}));  // cup
}

TEST_F(WordNetMatcher, AncestorDescendantAndSiblingRelations) {
  EXPECT_EQ(m().relation(sense("dog"), cls(kMalamute)), Relation::ancestor);
  EXPECT_EQ(m().relation(sense("bird"), cls(kBaldEagle)), Relation::ancestor);
  // "sausage pizza" is a kind of pizza, a class.
  EXPECT_EQ(m().relation(sense("sausage_pizza"), cls(kPizza)), Relation::descendant);
  EXPECT_EQ(m().relation(sense("gander"), cls(kGoose)), Relation::descendant);
  // Close siblings under a specific ancestor.
  EXPECT_EQ(m().relation(sense("kettle"), cls(kTeapot)), Relation::sibling);  // pot
  EXPECT_EQ(m().relation(sense("puppy"), cls(kMalamute)), Relation::sibling);  // dog
  // Not consistent.
  EXPECT_EQ(m().relation(sense("bicycle"), cls(kMalamute)), Relation::none);
  EXPECT_EQ(m().relation(sense("pizza"), cls(kCheeseburger)), Relation::none);  // only "dish" in common
  EXPECT_EQ(m().relation(sense("dog"), cls(kTandem)), Relation::none);
}

TEST_F(WordNetMatcher, ReadsWordsPluralsIrregularsAndMultiWordTerms) {
  EXPECT_TRUE(consistent("dog", kMalamute));
  EXPECT_TRUE(consistent("Dogs", kMalamute));
  EXPECT_TRUE(consistent("husky", kEskimoDog));
  EXPECT_TRUE(consistent("husky", kMalamute));  // working dogs, one step apart
  EXPECT_TRUE(consistent("puppy", kMalamute));
  // Irregular plurals from noun.exc.
  EXPECT_TRUE(consistent("mice", kComputerMouse));
  EXPECT_TRUE(consistent("wolves", kTimberWolf));
  EXPECT_TRUE(consistent("geese", kGoose));
  // Multi-word entries win over their words.
  const auto golden = m().read("Golden Retriever puppy");
  ASSERT_EQ(golden.terms.size(), 2u);
  EXPECT_EQ(golden.terms[0].text, "golden retriever");
  EXPECT_EQ(golden.terms[1].text, "puppy");
  EXPECT_TRUE(consistent("golden retrievers", kGoldenRetriever));
  const auto mug = m().read("a red coffee mug, 350ml");
  ASSERT_EQ(mug.terms.size(), 1u);  // "red" is a colour, "a" and "350ml" are not nouns here
  EXPECT_EQ(mug.terms[0].text, "coffee mug");
  EXPECT_TRUE(mug.unknown.empty());
  EXPECT_TRUE(consistent("coffee mugs", kCoffeeMug));
  EXPECT_TRUE(consistent("hot dog", kHotdog));
  EXPECT_TRUE(consistent("hot-dog", kHotdog));
  EXPECT_TRUE(consistent("electric guitar", kElectricGuitar));
  EXPECT_TRUE(consistent("bicycle built for two", kTandem));
  // Every noun sense counts: "mouse" the animal and the computer mouse.
  EXPECT_TRUE(consistent("mouse", kComputerMouse));
  // WordNet files "cup" directly under "container"; the matcher's correction makes cups and
  // mugs drinking vessels, and ImageNet's "cup" (a punch in WordNet) a cup.
  EXPECT_TRUE(consistent("cup", kCoffeeMug));
  EXPECT_TRUE(consistent("mug", kCup));
  EXPECT_FALSE(consistent("bicycle", kMalamute));
  EXPECT_FALSE(consistent("cat", kMalamute));
}

TEST_F(WordNetMatcher, UnknownAndVacuousWords) {
  const auto unknown = m().read("Zorblax 3000 Pro");
  EXPECT_TRUE(unknown.terms.empty());
  EXPECT_EQ(unknown.unknown, std::vector<std::string>{"zorblax"});
  EXPECT_FALSE(m().read("thing").recognisable);
  EXPECT_FALSE(m().read("giraffe").recognisable);  // a noun, but no class anywhere near it
  EXPECT_TRUE(m().read("dog").recognisable);
  EXPECT_TRUE(m().read("the").terms.empty());
}

TEST_F(WordNetMatcher, MatchWhenConsistentMassIsHigh) {
  const auto v = judge("dog", {{kMalamute, 0.751}, {kTandem, 0.068}, {kEskimoDog, 0.049}});
  EXPECT_EQ(v.status, Verdict::Status::match);
  EXPECT_EQ(v.class_index, cls(kMalamute));
  EXPECT_EQ(v.detected, "malamute");
  EXPECT_NEAR(v.consistent_mass, 0.80, 1e-9);
  // The seed's example: pizza is not a cheeseburger.
  EXPECT_EQ(judge("pizza", {{kCheeseburger, 0.95}}).status, Verdict::Status::mismatch);
  EXPECT_EQ(judge("cheeseburger", {{kCheeseburger, 0.95}}).status, Verdict::Status::match);
  // Lower-ranked consistent classes add up: 0.2 + 0.15 is enough.
  const auto spread = judge("bird", {{kParachute, 0.3}, {kBaldEagle, 0.2}, {kVulture, 0.15}});
  EXPECT_EQ(spread.status, Verdict::Status::match);
  EXPECT_EQ(spread.detected, "bald eagle");
}

TEST_F(WordNetMatcher, MismatchOnlyWhenTheModelIsSureOfSomethingElse) {
  const auto bicycle = judge("bicycle", {{kMalamute, 0.751}, {kTandem, 0.068}, {kEskimoDog, 0.049}});
  EXPECT_EQ(bicycle.status, Verdict::Status::mismatch);
  EXPECT_EQ(bicycle.detected, "malamute");
  EXPECT_NEAR(bicycle.detected_probability, 0.751, 1e-9);
  // Spread over dog breeds, no breed above 50 %: the model is still sure it is a dog.
  const auto breeds = judge("bicycle", {{kMalamute, 0.30}, {kEskimoDog, 0.25}, {kSiberianHusky, 0.2}});
  EXPECT_EQ(breeds.status, Verdict::Status::mismatch);
  EXPECT_EQ(breeds.detected, "sled dog");
  EXPECT_NEAR(breeds.detected_probability, 0.5, 1e-9);
  // Not sure of anything: uncertain.
  const auto unsure = judge("bicycle", {{kMalamute, 0.30}, {kParachute, 0.25}, {kPizza, 0.2}});
  EXPECT_EQ(unsure.status, Verdict::Status::uncertain);
  EXPECT_EQ(unsure.reason, Verdict::Reason::model_unsure);
  // Sure of bovids, but horses are ungulates too: related, so not a mismatch.
  const auto horse = judge("horse", {{kOx, 0.40}, {kWaterBuffalo, 0.30}});
  EXPECT_EQ(horse.status, Verdict::Status::uncertain);
  EXPECT_EQ(horse.reason, Verdict::Reason::weak_evidence);
  EXPECT_EQ(judge("laptop", {{kOx, 0.40}, {kWaterBuffalo, 0.30}}).status, Verdict::Status::mismatch);
}

TEST_F(WordNetMatcher, UncertainWhenTheDescriptionCannotBeChecked) {
  const auto giraffe = judge("giraffe", {{kZebra, 0.754}});
  EXPECT_EQ(giraffe.status, Verdict::Status::uncertain);
  EXPECT_EQ(giraffe.reason, Verdict::Reason::not_recognisable);
  const auto unknown = judge("zorblax", {{kZebra, 0.754}});
  EXPECT_EQ(unknown.status, Verdict::Status::uncertain);
  EXPECT_EQ(unknown.reason, Verdict::Reason::unknown_words);
  const auto vague = judge("object", {{kZebra, 0.754}});
  EXPECT_EQ(vague.status, Verdict::Status::uncertain);
  EXPECT_EQ(vague.reason, Verdict::Reason::too_general);
  const auto empty = judge("", {{kZebra, 0.754}});
  EXPECT_EQ(empty.status, Verdict::Status::no_description);
  EXPECT_EQ(empty.detected, "zebra");
}

TEST_F(WordNetMatcher, ColoursCountOnlyWhenNothingElseIsNamed) {
  const auto red_mug = m().read("red mug");
  ASSERT_EQ(red_mug.terms.size(), 1u);
  EXPECT_EQ(red_mug.terms[0].text, "mug");
  const auto orange = m().read("orange");
  ASSERT_EQ(orange.terms.size(), 1u);
  EXPECT_EQ(orange.terms[0].text, "orange");
}

TEST(WordNetFiles, MissingDirectoryNamesTheFile) {
  try {
    adapters::load_wordnet("/nonexistent/wordnet");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/wordnet/data.noun"), std::string::npos) << e.what();
  }
}

TEST(WordNetFiles, WrongClassIdsAreRejected) {
  domain::WordNet wn;
  wn.add_synset(1740, {}, "entity");
  EXPECT_THROW(domain::DescriptionMatcher(wn, {"n00001740", "x123"}), std::invalid_argument);
  EXPECT_THROW(domain::DescriptionMatcher(wn, {"n09999999"}), std::invalid_argument);
  EXPECT_NO_THROW(domain::DescriptionMatcher(wn, {"n00001740"}));
}

}  // namespace
}  // namespace orderflow::image_test
