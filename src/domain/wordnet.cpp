#include "domain/wordnet.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <utility>

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

// Sorts `rows` by key and keeps, of the rows with one key, the last one (stable, so the one
// added last).
template <typename Row, typename Key>
std::vector<Row> last_of_each(std::vector<Row> rows, Key key) {
  std::stable_sort(rows.begin(), rows.end(),
                   [&key](const Row& a, const Row& b) { return key(a) < key(b); });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (i + 1 == rows.size() || key(rows[i]) < key(rows[i + 1])) rows[kept++] = rows[i];
  rows.resize(kept);
  return rows;
}

// Frees what `table` holds: assigning an empty table instead would keep a std::string's buffer
// (libstdc++ copies a short string into the buffer it has).
template <typename Table>
void release(Table& table) {
  Table empty;
  std::swap(table, empty);
}

// Orders noun.exc entries and looks them up by the inflected form.
struct ByInflected {
  using Entry = std::pair<std::string, std::string>;
  bool operator()(const Entry& a, std::string_view b) const { return a.first < b; }
  bool operator()(std::string_view a, const Entry& b) const { return a < b.first; }
};

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

void WordNet::add_synset(SynsetId id, std::span<const SynsetId> hypernyms, std::string_view name) {
  pending_synsets_.ids.push_back(id);
  pending_synsets_.hypernyms.push_back(hypernyms);
  pending_synsets_.names.push_back(name);
}

void WordNet::add_lemma(std::string_view lemma, std::span<const SynsetId> senses) {
  pending_lemmas_.texts.push_back(lemma);
  pending_lemmas_.senses.push_back(senses);
}

void WordNet::add_exception(std::string_view inflected, std::string_view base) {
  pending_exceptions_.emplace_back(inflected, base);
}

void WordNet::add_hypernym(SynsetId id, SynsetId hypernym) {
  pending_corrections_.emplace_back(id, hypernym);
}

void WordNet::finish() {
  finish_synsets();
  finish_lemmas();
  finish_exceptions();
}

void WordNet::finish_synsets() {
  if (pending_synsets_.ids.empty() && pending_corrections_.empty()) return;
  struct Row {
    SynsetId id;
    std::span<const SynsetId> hypernyms;
    std::string_view name;
  };
  const auto id_of = [](const Row& row) { return row.id; };
  // The frozen rows first, then the added ones in order: the last row of an id wins.
  std::vector<Row> rows;
  rows.reserve(synsets_.ids.size() + pending_synsets_.ids.size());
  for (const Synsets* table : {&synsets_, &pending_synsets_})
    for (std::size_t i = 0; i < table->ids.size(); ++i)
      rows.push_back({table->ids[i], table->hypernyms[i], table->names[i]});
  rows = last_of_each(std::move(rows), id_of);

  // A correction may name synsets the files lack: they become empty synsets.
  const auto has_row = [&rows](SynsetId id) {
    const auto it = std::lower_bound(rows.begin(), rows.end(), id,
                                     [](const Row& row, SynsetId value) { return row.id < value; });
    return it != rows.end() && it->id == id;
  };
  std::vector<Row> missing;
  for (const auto& [id, hypernym] : pending_corrections_)
    for (SynsetId end : {id, hypernym})
      if (!has_row(end)) missing.push_back({end, {}, {}});
  if (!missing.empty()) {
    rows.insert(rows.end(), missing.begin(), missing.end());
    rows = last_of_each(std::move(rows), id_of);
  }
  // Each synset's corrections in the order they were added, after the files' own edges.
  auto corrections = std::exchange(pending_corrections_, {});
  std::stable_sort(corrections.begin(), corrections.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto correction = corrections.begin();

  Synsets out;
  out.ids.reserve(rows.size());
  std::vector<SynsetId> hypernyms;
  for (const auto& row : rows) {
    hypernyms.assign(row.hypernyms.begin(), row.hypernyms.end());
    for (; correction != corrections.end() && correction->first <= row.id; ++correction)
      if (correction->first == row.id &&
          std::find(hypernyms.begin(), hypernyms.end(), correction->second) == hypernyms.end())
        hypernyms.push_back(correction->second);
    out.ids.push_back(row.id);
    out.hypernyms.push_back(hypernyms);
    out.names.push_back(row.name);
  }
  out.hypernyms.shrink_to_fit();
  out.names.shrink_to_fit();
  // The rows point into the old tables: replace those only now.
  synsets_ = std::move(out);
  release(pending_synsets_);
}

void WordNet::finish_lemmas() {
  if (pending_lemmas_.texts.empty()) return;
  struct Row {
    std::string_view text;
    std::span<const SynsetId> senses;
  };
  std::vector<Row> rows;
  rows.reserve(lemmas_.texts.size() + pending_lemmas_.texts.size());
  for (const Lemmas* table : {&lemmas_, &pending_lemmas_})
    for (std::size_t i = 0; i < table->texts.size(); ++i)
      rows.push_back({table->texts[i], table->senses[i]});
  rows = last_of_each(std::move(rows), [](const Row& row) { return row.text; });

  Lemmas out;
  for (const auto& row : rows) {
    out.texts.push_back(row.text);
    out.senses.push_back(row.senses);
  }
  out.texts.shrink_to_fit();
  out.senses.shrink_to_fit();
  lemmas_ = std::move(out);
  release(pending_lemmas_);
}

void WordNet::finish_exceptions() {
  if (pending_exceptions_.empty()) return;
  // After the frozen ones, so a form's bases stay in the order added.
  exceptions_.insert(exceptions_.end(), std::make_move_iterator(pending_exceptions_.begin()),
                     std::make_move_iterator(pending_exceptions_.end()));
  std::stable_sort(exceptions_.begin(), exceptions_.end(),
                   [](const Exception& a, const Exception& b) { return a.first < b.first; });
  exceptions_.shrink_to_fit();
  release(pending_exceptions_);
}

std::size_t WordNet::synset_index(SynsetId id) const {
  const auto& ids = synsets_.ids;
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it != ids.end() && *it == id ? static_cast<std::size_t>(it - ids.begin()) : kNone;
}

std::span<const SynsetId> WordNet::hypernyms(SynsetId id) const {
  const auto i = synset_index(id);
  return i == kNone ? std::span<const SynsetId>() : synsets_.hypernyms[i];
}

std::string_view WordNet::name(SynsetId id) const {
  const auto i = synset_index(id);
  return i == kNone ? std::string_view() : synsets_.names[i];
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

std::size_t WordNet::lemma_index(std::string_view lemma) const {
  // A binary search over row numbers (clang 14, which lint and the fuzz build use, cannot
  // compile std::ranges::lower_bound over a std::views::iota with libstdc++ 12).
  std::size_t low = 0;
  std::size_t high = lemma_count();
  while (low < high) {
    const std::size_t middle = low + (high - low) / 2;
    if (lemmas_.texts[middle] < lemma)
      low = middle + 1;
    else
      high = middle;
  }
  return low < lemma_count() && lemmas_.texts[low] == lemma ? low : kNone;
}

std::span<const SynsetId> WordNet::lemma_senses(std::string_view lemma) const {
  const auto i = lemma_index(lemma);
  return i == kNone ? std::span<const SynsetId>() : lemmas_.senses[i];
}

std::vector<std::string> WordNet::base_forms(std::string_view phrase) const {
  std::vector<std::string> candidates{std::string(phrase)};
  const auto [first, last] =
      std::equal_range(exceptions_.begin(), exceptions_.end(), phrase, ByInflected());
  if (first != last) {
    for (auto it = first; it != last; ++it) add_unique(candidates, it->second);
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
    if (lemma_index(candidate) != kNone) found.push_back(std::move(candidate));
  return found;
}

std::vector<SynsetId> WordNet::senses(std::string_view phrase) const {
  std::vector<SynsetId> out;
  for (const auto& form : base_forms(phrase)) {
    for (SynsetId id : lemma_senses(form))
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

}  // namespace orderflow::domain
