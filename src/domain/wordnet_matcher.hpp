// Does a product photo show what its description says? The recognizer gives probabilities
// over a fixed set of classes (ImageNet-1k: each class is a WordNet noun synset); this file
// reads the description into WordNet synsets and decides, from the probability mass of the
// classes that are consistent with it, whether the photo matches, contradicts it, or cannot
// tell. Pure rules over an in-memory WordNet; no I/O.
//
// A class C is consistent with a description sense D when D is an ancestor of C ("dog" for a
// malamute), a descendant of C ("tabby" for "cat"... when "cat" is a class), or a close
// sibling: they share a specific ancestor A (not in a stop-list of overly general synsets)
// with D at most `sibling_up_description` and C at most `sibling_up_class` steps below A
// ("kettle" and "teapot" under "pot"; "husky" and "malamute" under "working dog").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "domain/wordnet.hpp"

namespace orderflow::domain {

struct ClassProbability {
  int index = 0;  // class index, as in the matcher's `class_wnids`
  double probability = 0.0;
};

// The thresholds of the decision, in one place (tuned on bench/images' evaluation set).
struct MatchPolicy {
  int top_k = 10;                // how many of the most probable classes are weighed
  double match_mass = 0.25;      // consistent mass that confirms the description
  double top1_match = 0.10;      // ... or the most probable class is consistent and this sure
  double confident = 0.50;       // top-1 probability from which the model is considered sure
  double mismatch_mass = 0.10;   // a sure model contradicts when consistent mass is below this
  int sibling_up_description = 1;
  int sibling_up_class = 3;
};

// What a description names, read once per description.
struct DescriptionReading {
  struct Term {
    std::string text;  // as matched: "coffee mug"
    std::vector<SynsetId> senses;
  };
  std::vector<Term> terms;            // the nouns and collocations found
  std::vector<std::string> unknown;   // words that are in no noun entry
  std::vector<char> consistent;       // per class index: consistent with some sense of a term
  bool recognisable = false;          // some sense is close to a class the model knows
  bool too_general = false;           // the only senses found are vacuous ("thing", "object")
};

struct Verdict {
  enum class Status { match, mismatch, uncertain, no_description };
  enum class Reason {
    consistent,        // match
    contradicted,      // mismatch: a sure model sees something inconsistent
    model_unsure,      // uncertain: the model is not sure what the photo shows
    weak_evidence,     // uncertain: the model is fairly sure, and what was described is possible
    unknown_words,     // uncertain: no word of the description is a known noun
    not_recognisable,  // uncertain: the description names nothing near any class
    too_general,       // uncertain: "thing", "object"...
    empty,             // no_description
  };
  Status status = Status::uncertain;
  Reason reason = Reason::model_unsure;
  // match: the most probable consistent class; otherwise the most probable class (-1: none).
  int class_index = -1;
  double probability = 0.0;      // of class_index
  double consistent_mass = 0.0;  // over the top_k classes
};

std::string_view to_string(Verdict::Status status);

class DescriptionMatcher {
 public:
  enum class Relation { none, ancestor, descendant, sibling };

  // `class_wnids`: the recognizer's classes in output order ("n02110063"). Adds the matcher's
  // few hypernym corrections to `wordnet`. Throws std::invalid_argument naming a wnid that is
  // malformed or missing from WordNet.
  DescriptionMatcher(WordNet wordnet, const std::vector<std::string>& class_wnids,
                     MatchPolicy policy = {});

  // Tokenises, lower-cases, finds the longest multi-word entries first ("golden retriever"),
  // reduces plurals with WordNet's rules, and marks the consistent classes.
  DescriptionReading read(std::string_view description) const;

  // `top`: class probabilities, most probable first (the recognizer's order).
  Verdict judge(const DescriptionReading& reading, std::span<const ClassProbability> top) const;
  Verdict judge(std::string_view description, std::span<const ClassProbability> top) const {
    return judge(read(description), top);
  }

  // How a description sense relates to a class (none when not consistent).
  Relation relation(SynsetId sense, int class_index) const;

  const WordNet& wordnet() const { return wordnet_; }
  const MatchPolicy& policy() const { return policy_; }
  std::size_t class_count() const { return classes_.size(); }

 private:
  struct Below {
    int class_index;
    int distance;  // steps from the class up to the synset
  };
  void mark_consistent(SynsetId sense, std::vector<char>& consistent) const;
  bool is_recognisable(SynsetId sense) const;
  const std::vector<Below>* classes_below(SynsetId synset) const;

  WordNet wordnet_;
  MatchPolicy policy_;
  std::vector<SynsetId> classes_;
  std::unordered_map<SynsetId, int> class_of_;
  // For every ancestor of a class: the classes under it and how far below.
  std::unordered_map<SynsetId, std::vector<Below>> below_;
  std::unordered_set<SynsetId> vacuous_;  // never count as an ancestor ("entity", "object")
  std::unordered_set<SynsetId> general_;  // too general to make two things siblings
};

}  // namespace orderflow::domain
