#include "adapters/wordnet/wordnet_files.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace orderflow::adapters {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read WordNet file " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

// Calls `on_line` for every line that is not part of the license header (which starts with
// two spaces) and not empty.
template <typename OnLine>
void for_each_entry(std::string_view text, OnLine on_line) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line[0] != ' ') on_line(line);
    pos = end + 1;
  }
}

// Space-separated fields of a line, in order.
class Fields {
 public:
  explicit Fields(std::string_view line) : rest_(line) {}
  bool next(std::string_view& field) {
    while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
    if (rest_.empty()) return false;
    const auto space = rest_.find(' ');
    field = rest_.substr(0, space);
    rest_.remove_prefix(space == std::string_view::npos ? rest_.size() : space);
    return true;
  }

 private:
  std::string_view rest_;
};

bool to_number(std::string_view text, std::uint32_t& out, int base = 10) {
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out, base);
  return ec == std::errc() && ptr == end;
}

[[noreturn]] void bad_line(const fs::path& file, std::string_view line) {
  throw std::runtime_error("unexpected line in WordNet file " + file.string() + ": " +
                           std::string(line.substr(0, 80)));
}

// data.noun: "offset lex_filenum n w_cnt(hex) {word lex_id} p_cnt {symbol offset pos st} | gloss"
void load_data(const fs::path& file, domain::WordNet& wordnet) {
  const std::string text = read_file(file);
  for_each_entry(text, [&](std::string_view line) {
    Fields f(line.substr(0, line.find(" | ")));
    std::string_view field;
    std::uint32_t offset = 0, words = 0, pointers = 0;
    if (!f.next(field) || !to_number(field, offset)) bad_line(file, line);
    if (!f.next(field) || !f.next(field)) bad_line(file, line);  // lex_filenum, ss_type
    if (!f.next(field) || !to_number(field, words, 16) || words == 0) bad_line(file, line);
    std::string name;
    for (std::uint32_t i = 0; i < 2 * words; ++i) {
      if (!f.next(field)) bad_line(file, line);
      if (i == 0) name = std::string(field.substr(0, field.find('(')));  // "ward(a)" marks
    }
    std::replace(name.begin(), name.end(), '_', ' ');
    if (!f.next(field) || !to_number(field, pointers)) bad_line(file, line);
    std::vector<domain::SynsetId> hypernyms;
    for (std::uint32_t i = 0; i < pointers; ++i) {
      std::string_view symbol, target, pos, source_target;
      if (!f.next(symbol) || !f.next(target) || !f.next(pos) || !f.next(source_target))
        bad_line(file, line);
      std::uint32_t id = 0;
      if ((symbol == "@" || symbol == "@i") && pos == "n") {
        if (!to_number(target, id)) bad_line(file, line);
        hypernyms.push_back(id);
      }
    }
    wordnet.add_synset(offset, hypernyms, name);
  });
}

// index.noun: "lemma n synset_cnt p_cnt {symbol} sense_cnt tagsense_cnt {offset}"
void load_index(const fs::path& file, domain::WordNet& wordnet) {
  const std::string text = read_file(file);
  for_each_entry(text, [&](std::string_view line) {
    std::vector<std::string_view> fields;
    Fields f(line);
    std::string_view field;
    while (f.next(field)) fields.push_back(field);
    std::uint32_t count = 0;
    if (fields.size() < 4 || !to_number(fields[2], count) || count == 0 ||
        count > fields.size() - 4)
      bad_line(file, line);
    std::vector<domain::SynsetId> senses;
    senses.reserve(count);
    for (std::size_t i = fields.size() - count; i < fields.size(); ++i) {
      std::uint32_t id = 0;
      if (!to_number(fields[i], id)) bad_line(file, line);
      senses.push_back(id);
    }
    wordnet.add_lemma(fields[0], senses);
  });
}

// noun.exc: "inflected base {base}"
void load_exceptions(const fs::path& file, domain::WordNet& wordnet) {
  const std::string text = read_file(file);
  for_each_entry(text, [&](std::string_view line) {
    Fields f(line);
    std::string_view inflected, base;
    if (!f.next(inflected)) return;
    while (f.next(base)) wordnet.add_exception(inflected, base);
  });
}

}  // namespace

std::unique_ptr<domain::DescriptionMatcher> load_description_matcher(
    const fs::path& dir, const std::vector<ports::ImageClass>& classes,
    domain::MatchPolicy policy) {
  std::vector<std::string> wnids;
  wnids.reserve(classes.size());
  for (const auto& c : classes) wnids.push_back(c.wnid);
  return std::make_unique<domain::DescriptionMatcher>(load_wordnet(dir), wnids, policy);
}

domain::WordNet load_wordnet(const fs::path& dir) {
  domain::WordNet wordnet;
  load_data(dir / "data.noun", wordnet);
  load_index(dir / "index.noun", wordnet);
  load_exceptions(dir / "noun.exc", wordnet);
  wordnet.finish();
  if (wordnet.synset_count() == 0 || wordnet.lemma_count() == 0)
    throw std::runtime_error("no WordNet nouns found in " + dir.string());
  return wordnet;
}

}  // namespace orderflow::adapters
