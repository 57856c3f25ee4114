// The noun part of WordNet 3.0 that the description check needs: which synsets a word or
// collocation names (with WordNet's "morphy" rules for plurals), and each synset's hypernyms.
// Filled once at start-up by adapters/wordnet (which reads the Debian files); read-only after,
// so concurrent readers need no locking.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace orderflow::domain {

// A noun synset, named by its byte offset in data.noun; an ImageNet wnid "n02110063" is
// synset 2110063.
using SynsetId = std::uint32_t;

// Parses "n02110063" into 2110063; false for anything else.
bool parse_wnid(std::string_view wnid, SynsetId& out);

class WordNet {
 public:
  // Building (the loader calls these once per line of the files).
  // `hypernyms`: the synset's "@" and "@i" pointers to nouns; `name`: its first word, with
  // spaces ("golden retriever").
  void add_synset(SynsetId id, std::vector<SynsetId> hypernyms, std::string name = {});
  // `lemma` as index.noun spells it: lower case, words joined by '_'; senses most frequent first.
  void add_lemma(std::string lemma, std::vector<SynsetId> senses);
  // An irregular plural from noun.exc: "mice" -> "mouse".
  void add_exception(std::string inflected, std::string base);
  // Adds a hypernym edge the files lack (the matcher's few documented corrections).
  void add_hypernym(SynsetId id, SynsetId hypernym);

  bool has_synset(SynsetId id) const { return synsets_.count(id) != 0; }
  std::size_t synset_count() const { return synsets_.size(); }
  std::size_t lemma_count() const { return lemmas_.size(); }

  // Direct hypernyms of `id` (empty for a root or an unknown id).
  const std::vector<SynsetId>& hypernyms(SynsetId id) const;
  // The synset's first word ("malamute"), empty for an unknown id.
  std::string_view name(SynsetId id) const;

  // Every ancestor of `id` with its shortest distance (0 for `id` itself), following all
  // hypernym pointers, in breadth-first order.
  std::vector<std::pair<SynsetId, int>> ancestors(SynsetId id) const;

  // The base forms of a noun or collocation ("coffee_mugs" -> {"coffee_mug"}) that are in the
  // index: the form itself, the bases noun.exc lists for it, and WordNet's noun suffix rules
  // (-s, -ses, -xes, -zes, -ches, -shes, -men, -ies). Lower-case input, words joined by '_'.
  std::vector<std::string> base_forms(std::string_view phrase) const;

  // Every noun sense of every base form of `phrase`, most frequent sense of each form first,
  // without duplicates.
  std::vector<SynsetId> senses(std::string_view phrase) const;

 private:
  const std::vector<SynsetId>* lemma_senses(std::string_view lemma) const;

  struct Synset {
    std::vector<SynsetId> hypernyms;
    std::string name;
  };
  std::unordered_map<SynsetId, Synset> synsets_;
  std::unordered_map<std::string, std::vector<SynsetId>> lemmas_;
  std::unordered_map<std::string, std::vector<std::string>> exceptions_;
};

}  // namespace orderflow::domain
