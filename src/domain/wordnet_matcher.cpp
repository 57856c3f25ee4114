#include "domain/wordnet_matcher.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace orderflow::domain {
namespace {

// Synsets a description may name without saying anything about the photo.
constexpr std::array<SynsetId, 12> kVacuous{
    1740,     // entity
    1930,     // physical entity
    2137,     // abstraction
    2452,     // thing
    2684,     // object
    3553,     // whole, unit
    4258,     // living thing
    4475,     // organism
    20827,    // matter
    21939,    // artifact
    3575240,  // instrumentality
    4424418,  // thing (an artifact)
};

// Ancestors too general to make two things siblings: every ImageNet ancestor that covers 20 or
// more classes except the specific ones (dog and its groups, bird, insect, snake, garment,
// motor vehicle, primate, ungulate), plus a few broad ones below that size.
constexpr std::array<SynsetId, 44> kGeneral{
    15388,     // animal
    17222,     // plant
    19128,     // natural object
    20090,     // substance
    21265,     // food (substance)
    1317541,   // domestic animal
    1466257,   // chordate
    1471682,   // vertebrate
    1473806,   // aquatic vertebrate
    1661091,   // reptile
    1661818,   // diapsid
    1767661,   // arthropod
    1844917,   // aquatic bird
    1861778,   // mammal
    1886756,   // placental
    1905661,   // invertebrate
    2075296,   // carnivore
    2083346,   // canine
    3051540,   // clothing
    3076708,   // commodity
    3093574,   // consumer goods
    3094503,   // container
    3100490,   // conveyance
    3122748,   // covering
    3125870,   // craft
    3183080,   // device
    3257877,   // durables
    3294048,   // equipment
    3405265,   // furnishing
    3405725,   // furniture
    3563967,   // implement
    3574816,   // instrument
    3699975,   // machine
    3738472,   // mechanism
    3800933,   // musical instrument
    4014297,   // protective covering
    4170037,   // self-propelled vehicle
    4341686,   // structure
    4524313,   // vehicle
    4531098,   // vessel (a container)
    4576211,   // wheeled vehicle
    7555863,   // food (solid)
    7705711,   // produce
    15046900,  // solid
};

// Hypernym edges WordNet lacks, where ImageNet's use of a synset differs from its gloss.
struct Correction {
  SynsetId synset;
  SynsetId hypernym;
};
constexpr std::array<Correction, 7> kCorrections{{
    // ImageNet's "cup" (n07930864) is WordNet's punch sense, but its photos are cups.
    {7930864, 3147509},  // cup (punch) -> cup (the container)
    // A cup and a drinking glass are drinking vessels like a mug (WordNet files both directly
    // under "container", so "cup" could never be a sibling of "coffee mug").
    {3147509, 3241496},  // cup -> drinking vessel
    {3438257, 3241496},  // glass, drinking glass -> drinking vessel
    // ImageNet's "television" (n04404412) is the broadcasting system; its photos are sets.
    {4404412, 4405907},  // television system -> television receiver
    // Drinks are photographed in their vessels: the espresso class shows cups of espresso, the
    // red wine class glasses of it. A "coffee cup" must not be contradicted by "espresso".
    {7920052, 3063073},  // espresso -> coffee cup
    {7892512, 4592099},  // red wine -> wineglass
    // "puppy" is a dog in WordNet, but "kitten" only a young mammal.
    {2122948, 2121808},  // kitten -> domestic cat
}};

// Words that carry no object meaning in a product description (WordNet has noun senses for
// many of them: "a" is vitamin A, "it" information technology, "set" a stage set).
const std::unordered_set<std::string_view>& stop_words() {
  static const std::unordered_set<std::string_view> words{
      "a",       "an",      "the",     "and",      "or",       "of",      "for",     "with",
      "without", "in",      "on",      "at",       "to",       "by",      "from",    "as",
      "is",      "are",     "was",     "be",       "it",       "its",     "this",    "that",
      "these",   "those",   "my",      "our",      "your",     "his",     "her",     "their",
      "i",       "me",      "we",      "you",      "he",       "she",     "they",    "very",
      "so",      "not",     "no",      "new",      "used",     "brand",   "set",     "pack",
      "kit",     "item",    "items",   "product",  "products", "thing",   "things",  "stuff",
      "piece",   "pieces",  "part",    "parts",    "article",  "object",  "objects", "goods",
      "unit",    "units",   "one",     "two",      "three",    "four",    "five",    "six",
      "ten",     "dozen",   "pair",    "pairs",    "size",     "color",   "colour",  "style",
      "type",    "model",   "quality", "original", "genuine",  "premium", "vintage", "mini",
      "large",   "small",   "big",     "little",   "extra",    "plus",    "pro",     "max",
      "edition", "version", "free",    "sale",     "cheap",    "good",    "nice",    "great",
      "best",    "lot",     "real",    "cm",       "mm",       "kg",      "ml",      "inch",
      "inches",  "x",
  };
  return words;
}

// Colours describe rather than name the product ("red mug"); a colour counts only when the
// description names nothing else (then it may be the product: "orange").
const std::unordered_set<std::string_view>& modifier_words() {
  static const std::unordered_set<std::string_view> words{
      "red",    "green",  "blue",  "black", "white",  "yellow",    "orange", "pink",
      "purple", "brown",  "grey",  "gray",  "silver", "gold",      "golden", "beige",
      "navy",   "violet", "cream", "tan",   "maroon", "turquoise",
  };
  return words;
}

bool has_digit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Lower-case words: letters, digits, inner '-' and '\''; other bytes separate words. Bytes of
// non-ASCII letters stay inside words (WordNet has none, so such words are simply unknown).
std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    while (!word.empty() && (word.back() == '-' || word.back() == '\'')) word.pop_back();
    std::size_t start = 0;
    while (start < word.size() && (word[start] == '-' || word[start] == '\'')) ++start;
    word.erase(0, start);
    if (word.size() > 2 && word.compare(word.size() - 2, 2, "'s") == 0)
      word.resize(word.size() - 2);
    if (!word.empty()) words.push_back(word);
    word.clear();
  };
  for (char raw : text) {
    const auto c = static_cast<unsigned char>(raw);
    if (c >= 'A' && c <= 'Z') {
      word += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 || c == '-' ||
               c == '\'') {
      word += static_cast<char>(c);
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string join(const std::vector<std::string>& words, std::size_t from, std::size_t n,
                 char separator) {
  std::string out = words[from];
  for (std::size_t i = from + 1; i < from + n; ++i) {
    out += separator;
    out += words[i];
  }
  return out;
}

std::string display(std::string phrase) {
  std::replace(phrase.begin(), phrase.end(), '_', ' ');
  return phrase;
}

constexpr std::size_t kLongestEntry = 5;  // words; longer WordNet collocations are rare

}  // namespace

std::string_view to_string(Verdict::Status status) {
  switch (status) {
    case Verdict::Status::match:
      return "match";
    case Verdict::Status::mismatch:
      return "mismatch";
    case Verdict::Status::uncertain:
      return "uncertain";
    case Verdict::Status::no_description:
      return "no_description";
  }
  return "uncertain";
}

DescriptionMatcher::DescriptionMatcher(WordNet wordnet, const std::vector<std::string>& class_wnids,
                                       MatchPolicy policy)
    : wordnet_(std::move(wordnet)), policy_(policy) {
  wordnet_.finish();  // a no-op for the loader's, which is finished
  for (const auto& c : kCorrections)
    if (wordnet_.has_synset(c.synset) && wordnet_.has_synset(c.hypernym))
      wordnet_.add_hypernym(c.synset, c.hypernym);
  wordnet_.finish();
  vacuous_.insert(kVacuous.begin(), kVacuous.end());
  general_.insert(kVacuous.begin(), kVacuous.end());
  general_.insert(kGeneral.begin(), kGeneral.end());

  classes_.reserve(class_wnids.size());
  for (const auto& wnid : class_wnids) {
    SynsetId id = 0;
    if (!parse_wnid(wnid, id)) throw std::invalid_argument("not a WordNet noun id: " + wnid);
    if (!wordnet_.has_synset(id))
      throw std::invalid_argument("class " + wnid + " is not a synset of this WordNet");
    const int index = static_cast<int>(classes_.size());
    classes_.push_back(id);
    class_of_.emplace(id, index);  // on a duplicate wnid the first index wins
    // The hypernym closure over every pointer, computed once here so requests never walk it.
    for (const auto& [ancestor, distance] : wordnet_.ancestors(id))
      below_[ancestor].push_back(Below{index, distance});
  }
}

const std::vector<DescriptionMatcher::Below>* DescriptionMatcher::classes_below(
    SynsetId synset) const {
  const auto it = below_.find(synset);
  return it == below_.end() ? nullptr : &it->second;
}

DescriptionMatcher::Relation DescriptionMatcher::relation(SynsetId sense, int class_index) const {
  if (class_index < 0 || static_cast<std::size_t>(class_index) >= classes_.size())
    return Relation::none;
  const SynsetId cls = classes_[static_cast<std::size_t>(class_index)];
  const auto up = wordnet_.ancestors(sense);
  if (!vacuous_.count(sense)) {
    if (const auto* below = classes_below(sense))
      for (const auto& b : *below)
        if (b.class_index == class_index) return Relation::ancestor;
  }
  for (const auto& [ancestor, distance] : up)
    if (ancestor == cls) return Relation::descendant;
  for (const auto& [ancestor, distance] : up) {
    if (distance < 1 || distance > policy_.sibling_up_description || general_.count(ancestor))
      continue;
    if (const auto* below = classes_below(ancestor))
      for (const auto& b : *below)
        if (b.class_index == class_index && b.distance <= policy_.sibling_up_class)
          return Relation::sibling;
  }
  return Relation::none;
}

void DescriptionMatcher::mark_consistent(SynsetId sense, std::vector<char>& consistent) const {
  if (!vacuous_.count(sense))
    if (const auto* below = classes_below(sense))
      for (const auto& b : *below) consistent[static_cast<std::size_t>(b.class_index)] = 1;
  for (const auto& [ancestor, distance] : wordnet_.ancestors(sense)) {
    if (const auto it = class_of_.find(ancestor); it != class_of_.end())
      consistent[static_cast<std::size_t>(it->second)] = 1;
    if (distance < 1 || distance > policy_.sibling_up_description || general_.count(ancestor))
      continue;
    if (const auto* below = classes_below(ancestor))
      for (const auto& b : *below)
        if (b.distance <= policy_.sibling_up_class)
          consistent[static_cast<std::size_t>(b.class_index)] = 1;
  }
}

// Close enough to a class that the model could have seen it: an ancestor or descendant of a
// class, or a true sibling of one (same direct parent, not a general one). A description the
// model cannot recognise is never called a mismatch.
bool DescriptionMatcher::is_recognisable(SynsetId sense) const {
  if (!vacuous_.count(sense) && classes_below(sense) != nullptr) return true;
  for (const auto& [ancestor, distance] : wordnet_.ancestors(sense)) {
    if (class_of_.count(ancestor)) return true;
    if (distance != 1 || general_.count(ancestor)) continue;
    if (const auto* below = classes_below(ancestor))
      for (const auto& b : *below)
        if (b.distance == 1) return true;
  }
  return false;
}

DescriptionReading DescriptionMatcher::read(std::string_view description) const {
  DescriptionReading out;
  std::vector<std::string> words = tokenize(description);
  out.empty = words.empty();
  std::vector<DescriptionReading::Term> modifiers;

  std::size_t i = 0;
  while (i < words.size()) {
    // Longest entry first: "golden retriever puppy" is "golden retriever" + "puppy". Entries
    // are written with '_' ("coffee_mug") or '-' ("bicycle-built-for-two").
    bool found = false;
    for (std::size_t n = std::min(kLongestEntry, words.size() - i); n >= 2 && !found; --n) {
      for (char separator : {'_', '-'}) {
        const std::string phrase = join(words, i, n, separator);
        auto senses = wordnet_.senses(phrase);
        if (senses.empty()) continue;
        out.terms.push_back({display(phrase), std::move(senses)});
        i += n;
        found = true;
        break;
      }
    }
    if (found) continue;

    const std::string word = words[i];
    if (stop_words().count(word) || has_digit(word)) {
      ++i;
      continue;
    }
    auto senses = wordnet_.senses(word);
    if (senses.empty() && word.find('-') != std::string::npos) {
      std::string underscored = word;
      std::replace(underscored.begin(), underscored.end(), '-', '_');
      senses = wordnet_.senses(underscored);
      if (senses.empty()) {
        // An unknown compound ("dog-friendly"): read its parts as words of their own.
        std::vector<std::string> parts;
        std::size_t start = 0;
        while (start <= word.size()) {
          const auto dash = word.find('-', start);
          const auto part =
              word.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
          if (!part.empty()) parts.push_back(part);
          if (dash == std::string::npos) break;
          start = dash + 1;
        }
        words.erase(words.begin() + static_cast<std::ptrdiff_t>(i));
        words.insert(words.begin() + static_cast<std::ptrdiff_t>(i), parts.begin(), parts.end());
        continue;
      }
    }
    if (senses.empty()) {
      out.unknown.push_back(word);
    } else if (modifier_words().count(word)) {
      modifiers.push_back({display(word), std::move(senses)});
    } else {
      out.terms.push_back({display(word), std::move(senses)});
    }
    ++i;
  }
  if (out.terms.empty()) out.terms = std::move(modifiers);

  out.consistent.assign(classes_.size(), 0);
  bool any_vacuous = false;
  for (const auto& term : out.terms) {
    for (SynsetId sense : term.senses) {
      mark_consistent(sense, out.consistent);
      if (is_recognisable(sense)) out.recognisable = true;
      if (vacuous_.count(sense)) any_vacuous = true;
    }
  }
  // Only filler ("new item", "the object") or only vacuous senses: nothing to compare.
  out.too_general = !out.empty && !out.recognisable &&
                    (any_vacuous || (out.terms.empty() && out.unknown.empty()));
  return out;
}

std::string DescriptionMatcher::class_name(int class_index) const {
  if (class_index < 0 || static_cast<std::size_t>(class_index) >= classes_.size()) return {};
  return std::string(wordnet_.name(classes_[static_cast<std::size_t>(class_index)]));
}

std::optional<DescriptionMatcher::Group> DescriptionMatcher::confident_group(
    std::span<const ClassProbability> weighed) const {
  if (weighed.empty()) return std::nullopt;
  const auto top = static_cast<std::size_t>(weighed.front().index);
  if (top >= classes_.size()) return std::nullopt;
  // Nearest first: the top class itself, then its parents, ... until one is sure enough.
  for (const auto& [ancestor, distance] : wordnet_.ancestors(classes_[top])) {
    if (distance > 0 && general_.count(ancestor)) continue;
    const auto* below = classes_below(ancestor);
    if (below == nullptr) continue;
    double mass = 0.0;
    for (const auto& c : weighed)
      for (const auto& b : *below)
        if (b.class_index == c.index) {
          mass += c.probability;
          break;
        }
    if (mass >= policy_.confident) return Group{ancestor, mass};
  }
  return std::nullopt;
}

// Loosely related: one is an ancestor of the other, or they share a specific ancestor a few
// steps above both.
bool DescriptionMatcher::related(const DescriptionReading& reading, SynsetId group) const {
  const auto group_up = wordnet_.ancestors(group);
  for (const auto& term : reading.terms) {
    for (SynsetId sense : term.senses) {
      for (const auto& [common, sense_distance] : wordnet_.ancestors(sense)) {
        // An init-capture: clang 14 (the fuzz build) cannot capture a structured binding.
        const auto in_group =
            std::find_if(group_up.begin(), group_up.end(),
                         [ancestor = common](const auto& a) { return a.first == ancestor; });
        if (in_group == group_up.end()) continue;
        if (common == group) return true;                            // the group is above the sense
        if (common == sense && !vacuous_.count(sense)) return true;  // the sense is above the group
        if (!general_.count(common) && sense_distance <= policy_.related_up_description &&
            in_group->second <= policy_.related_up_group)
          return true;
      }
    }
  }
  return false;
}

Verdict DescriptionMatcher::judge(const DescriptionReading& reading,
                                  std::span<const ClassProbability> top) const {
  Verdict v;
  const auto weighed = top.first(std::min(top.size(), static_cast<std::size_t>(policy_.top_k)));
  if (!weighed.empty()) {
    v.class_index = weighed.front().index;
    v.probability = weighed.front().probability;
    v.detected = class_name(v.class_index);
    v.detected_probability = v.probability;
  }
  if (reading.empty) {
    v.status = Verdict::Status::no_description;
    v.reason = Verdict::Reason::empty;
    return v;
  }
  const ClassProbability* best_consistent = nullptr;
  for (const auto& c : weighed) {
    const auto index = static_cast<std::size_t>(c.index);
    if (c.index < 0 || index >= reading.consistent.size() || !reading.consistent[index]) continue;
    v.consistent_mass += c.probability;
    if (best_consistent == nullptr) best_consistent = &c;
  }

  const bool top_is_consistent = best_consistent != nullptr && best_consistent == weighed.data();
  if (v.consistent_mass >= policy_.match_mass ||
      (top_is_consistent && best_consistent->probability >= policy_.top1_match)) {
    v.status = Verdict::Status::match;
    v.reason = Verdict::Reason::consistent;
    v.class_index = best_consistent->index;
    v.probability = best_consistent->probability;
    v.detected = class_name(v.class_index);
    v.detected_probability = v.probability;
    return v;
  }
  v.status = Verdict::Status::uncertain;
  if (reading.terms.empty() && !reading.unknown.empty()) {
    v.reason = Verdict::Reason::unknown_words;
    return v;
  }
  if (!reading.recognisable) {
    v.reason =
        reading.too_general ? Verdict::Reason::too_general : Verdict::Reason::not_recognisable;
    return v;
  }
  const auto group = confident_group(weighed);
  if (!group) {
    v.reason = Verdict::Reason::model_unsure;
    return v;
  }
  if (v.consistent_mass >= policy_.mismatch_mass || related(reading, group->synset)) {
    v.reason = Verdict::Reason::weak_evidence;
    return v;
  }
  v.status = Verdict::Status::mismatch;
  v.reason = Verdict::Reason::contradicted;
  v.detected = std::string(wordnet_.name(group->synset));
  v.detected_probability = group->mass;
  return v;
}

}  // namespace orderflow::domain
