// The noun part of WordNet 3.0 that the description check needs: which synsets a word or
// collocation names (with WordNet's "morphy" rules for plurals), and each synset's hypernyms.
// Filled once at start-up by adapters/wordnet (which reads the Debian files), then frozen by
// finish(); read-only after, so concurrent readers need no locking.
//
// Stored flat, in sorted arrays and string arenas (about 5 MB for the 82,115 synsets and
// 117,798 lemmas, where hash maps of strings and vectors took about 27 MB): lookups are binary
// searches that allocate nothing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
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
  // Building (the loader calls these once per line of the files). What is added is visible to
  // the readers below after the next finish(); of two entries with the same id or lemma the
  // later one wins.
  // `hypernyms`: the synset's "@" and "@i" pointers to nouns; `name`: its first word, with
  // spaces ("golden retriever").
  void add_synset(SynsetId id, std::span<const SynsetId> hypernyms, std::string_view name = {});
  // `lemma` as index.noun spells it: lower case, words joined by '_'; senses most frequent first.
  void add_lemma(std::string_view lemma, std::span<const SynsetId> senses);
  // An irregular plural from noun.exc: "mice" -> "mouse".
  void add_exception(std::string_view inflected, std::string_view base);
  // Adds a hypernym edge the files lack (the matcher's few documented corrections); applied by
  // finish() after every synset, adding either end as an empty synset when it is unknown.
  void add_hypernym(SynsetId id, SynsetId hypernym);
  // Sorts what was added into the lookup arrays and releases the building buffers. Cheap when
  // nothing was added since the last call.
  void finish();

  bool has_synset(SynsetId id) const { return synset_index(id) != kNone; }
  std::size_t synset_count() const { return synsets_.ids.size(); }
  std::size_t lemma_count() const { return lemmas_.texts.size(); }

  // Direct hypernyms of `id` (empty for a root or an unknown id).
  std::span<const SynsetId> hypernyms(SynsetId id) const;
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
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // One variable-length value per row, all in one array: row i's value is
  // values[begin[i] .. begin[i + 1]). `Values` is std::string or std::vector<SynsetId>.
  template <typename Values>
  struct Packed {
    std::vector<std::uint32_t> begin{0};
    Values values;

    std::size_t size() const { return begin.size() - 1; }
    bool empty() const { return begin.size() == 1; }
    auto operator[](std::size_t i) const {
      if constexpr (std::is_same_v<Values, std::string>)
        return std::string_view(values).substr(begin[i], begin[i + 1] - begin[i]);
      else
        return std::span<const SynsetId>(values).subspan(begin[i], begin[i + 1] - begin[i]);
    }
    template <typename Range>
    void push_back(const Range& value) {
      values.insert(values.end(), value.begin(), value.end());
      begin.push_back(static_cast<std::uint32_t>(values.size()));
    }
    void shrink_to_fit() {
      begin.shrink_to_fit();
      values.shrink_to_fit();
    }
  };
  // Row i: synset ids[i]; after finish() sorted by id.
  struct Synsets {
    std::vector<SynsetId> ids;
    Packed<std::vector<SynsetId>> hypernyms;
    Packed<std::string> names;
  };
  // Row i: lemma texts[i]; after finish() sorted bytewise.
  struct Lemmas {
    Packed<std::string> texts;
    Packed<std::vector<SynsetId>> senses;
  };
  using Exception = std::pair<std::string, std::string>;  // inflected form, base

  std::size_t synset_index(SynsetId id) const;
  std::size_t lemma_index(std::string_view lemma) const;
  std::span<const SynsetId> lemma_senses(std::string_view lemma) const;
  void finish_synsets();
  void finish_lemmas();
  void finish_exceptions();

  Synsets synsets_;
  Lemmas lemmas_;
  std::vector<Exception> exceptions_;  // sorted by the inflected form, a form's bases in order

  // Added since the last finish().
  Synsets pending_synsets_;
  Lemmas pending_lemmas_;
  std::vector<Exception> pending_exceptions_;
  std::vector<std::pair<SynsetId, SynsetId>> pending_corrections_;
};

}  // namespace orderflow::domain
