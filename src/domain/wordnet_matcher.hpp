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
//
// The decision: enough consistent probability mass is a match. A mismatch needs three things:
// the description names something the model could recognise, the model is sure of what it
// sees (the top class, or the most specific group of classes around it, e.g. "dog" for a
// spread over dog breeds, holds at least `confident` of the mass), and that group is not even
// loosely related to the description (no specific common ancestor within a few steps:
// "horse" is not contradicted by a confident "bovid", both being ungulates). Everything else
// is uncertain: the check never warns about what it cannot tell.
#pragma once

#include <optional>
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
  int top_k = 10;               // how many of the most probable classes are weighed
  double match_mass = 0.25;     // consistent mass that confirms the description
  double top1_match = 0.10;     // ... or the most probable class is consistent and this sure
  double confident = 0.50;      // mass of the top class (or its group) that makes the model sure
  double mismatch_mass = 0.10;  // a sure model contradicts when consistent mass is below this
  int sibling_up_description = 1;
  int sibling_up_class = 3;
  int related_up_description = 4;  // "loosely related": a specific common ancestor this close
  int related_up_group = 3;
};

// What a description names, read once per description.
struct DescriptionReading {
  struct Term {
    std::string text;  // as matched: "coffee mug"
    std::vector<SynsetId> senses;
  };
  std::vector<Term> terms;           // the nouns and collocations found
  std::vector<std::string> unknown;  // words that are in no noun entry
  std::vector<char> consistent;      // per class index: consistent with some sense of a term
  bool recognisable = false;         // some sense is close to a class the model knows
  bool too_general = false;          // only vacuous senses or filler words ("thing", "new item")
  bool empty = true;                 // no words at all
};

struct Verdict {
  enum class Status { match, mismatch, uncertain, no_description };
  enum class Reason {
    consistent,        // match
    contradicted,      // mismatch: a sure model sees something inconsistent
    model_unsure,      // uncertain: the model is not sure what the photo shows
    weak_evidence,     // uncertain: the model is sure of something related to the description,
                       // or what was described has some probability
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
  // What to tell the user the photo shows: the class above, or for a mismatch the group the
  // model is sure of ("dog", 0.81), which may be wider than one class.
  std::string detected;
  double detected_probability = 0.0;
};

std::string_view to_string(Verdict::Status status);

// Immutable after construction: every method is const and safe to call from many threads.
class DescriptionMatcher {
 public:
  enum class Relation { none, ancestor, descendant, sibling };

  // `class_wnids`: the recognizer's classes in output order ("n02110063"). Adds the matcher's
  // few hypernym corrections to `wordnet` and finishes it. Throws std::invalid_argument naming
  // a wnid that is malformed or missing from WordNet.
  DescriptionMatcher(WordNet wordnet, const std::vector<std::string>& class_wnids,
                     MatchPolicy policy = {});

  // Tokenises, lower-cases, finds the longest multi-word entries first ("golden retriever"),
  // reduces plurals with WordNet's rules, and marks the consistent classes.
  [[nodiscard]] DescriptionReading read(std::string_view description) const;

  // `top`: class probabilities, most probable first (the recognizer's order).
  [[nodiscard]] Verdict judge(const DescriptionReading& reading,
                              std::span<const ClassProbability> top) const;
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
  struct Group {
    SynsetId synset;
    double mass;
  };
  void mark_consistent(SynsetId sense, std::vector<char>& consistent) const;
  bool is_recognisable(SynsetId sense) const;
  // The most specific synset around the top class that holds `confident` of the mass.
  std::optional<Group> confident_group(std::span<const ClassProbability> weighed) const;
  bool related(const DescriptionReading& reading, SynsetId group) const;
  std::string class_name(int class_index) const;
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
