#include "domain/wordnet.hpp"

#include <algorithm>
#include <array>

namespace orderflow::domain {
namespace {

struct SuffixRule {
  std::string_view suffix;
  std::string_view replacement;
};

// WordNet's detachment rules for nouns (morphy(7WN)).
constexpr std::array<SuffixRule, 8> kNounRules{{{"s", ""},
                                                {"ses", "s"},
                                                {"xes", "x"},
                                                {"zes", "z"},
                                                {"ches", "ch"},
                                                {"shes", "sh"},
                                                {"men", "man"},
                                                {"ies", "y"}}};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void add_unique(std::vector<std::string>& out, std::string value) {
  if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(std::move(value));
}

}  // namespace

bool parse_wnid(std::string_view wnid, SynsetId& out) {
  if (wnid.size() != 9 || wnid[0] != 'n') return false;
  SynsetId value = 0;
  for (char c : wnid.substr(1)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<SynsetId>(c - '0');
  }
  out = value;
  return true;
}

void WordNet::add_synset(SynsetId id, std::vector<SynsetId> hypernyms, std::string name) {
  synsets_[id] = Synset{std::move(hypernyms), std::move(name)};
}

void WordNet::add_lemma(std::string lemma, std::vector<SynsetId> senses) {
  lemmas_[std::move(lemma)] = std::move(senses);
}

void WordNet::add_exception(std::string inflected, std::string base) {
  exceptions_[std::move(inflected)].push_back(std::move(base));
}

void WordNet::add_hypernym(SynsetId id, SynsetId hypernym) {
  auto& list = synsets_[id].hypernyms;
  if (std::find(list.begin(), list.end(), hypernym) == list.end()) list.push_back(hypernym);
  synsets_.try_emplace(hypernym);
}

const std::vector<SynsetId>& WordNet::hypernyms(SynsetId id) const {
  static const std::vector<SynsetId> kNone;
  const auto it = synsets_.find(id);
  return it == synsets_.end() ? kNone : it->second.hypernyms;
}

std::string_view WordNet::name(SynsetId id) const {
  const auto it = synsets_.find(id);
  return it == synsets_.end() ? std::string_view() : std::string_view(it->second.name);
}

std::vector<std::pair<SynsetId, int>> WordNet::ancestors(SynsetId id) const {
  std::vector<std::pair<SynsetId, int>> out{{id, 0}};
  // Breadth-first, so the first visit of a synset is at its shortest distance. WordNet's noun
  // hierarchy is a small DAG (depth < 20), so a linear "seen" scan is cheaper than a set.
  for (std::size_t next = 0; next < out.size(); ++next) {
    const auto [current, distance] = out[next];
    for (SynsetId parent : hypernyms(current)) {
      const bool seen = std::any_of(out.begin(), out.end(),
                                    [parent](const auto& entry) { return entry.first == parent; });
      if (!seen) out.emplace_back(parent, distance + 1);
    }
  }
  return out;
}

const std::vector<SynsetId>* WordNet::lemma_senses(std::string_view lemma) const {
  const auto it = lemmas_.find(std::string(lemma));
  return it == lemmas_.end() ? nullptr : &it->second;
}

std::vector<std::string> WordNet::base_forms(std::string_view phrase) const {
  std::vector<std::string> candidates{std::string(phrase)};
  if (const auto it = exceptions_.find(std::string(phrase)); it != exceptions_.end()) {
    for (const auto& base : it->second) add_unique(candidates, base);
  } else if (phrase.size() > 2 && !ends_with(phrase, "ss")) {
    for (const auto& rule : kNounRules) {
      if (!ends_with(phrase, rule.suffix)) continue;
      std::string base(phrase.substr(0, phrase.size() - rule.suffix.size()));
      base += rule.replacement;
      // Two-letter "bases" are nearly always chemical symbols or abbreviations ("gas" is not
      // the plural of "Ga").
      if (base.size() > 2) add_unique(candidates, std::move(base));
    }
  }
  std::vector<std::string> found;
  for (auto& candidate : candidates)
    if (lemma_senses(candidate) != nullptr) found.push_back(std::move(candidate));
  return found;
}

std::vector<SynsetId> WordNet::senses(std::string_view phrase) const {
  std::vector<SynsetId> out;
  for (const auto& form : base_forms(phrase)) {
    for (SynsetId id : *lemma_senses(form))
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

}  // namespace orderflow::domain
