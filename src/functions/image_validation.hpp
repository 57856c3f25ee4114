// What the image check tells the user, in the seed's words: the validation status and
// message for a verdict of the description matcher.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/wordnet_matcher.hpp"
#include "ports/image_recognizer.hpp"

namespace orderflow::functions {

struct ImageValidation {
  std::string status;  // match | mismatch | uncertain | no_description | unavailable
  std::string message;
};

// A probability as the seed shows confidence: percent with one decimal, "75.1".
std::string percent_text(double probability);

// `description`: the user's (trimmed) description as they wrote it.
ImageValidation describe_verdict(const domain::Verdict& verdict,
                                 const domain::DescriptionReading& reading,
                                 std::string_view description,
                                 const std::vector<ports::ImageClass>& classes);

// Recognition is off (recognizer = none) or failed to say anything.
ImageValidation unavailable_validation(bool has_description);

}  // namespace orderflow::functions
