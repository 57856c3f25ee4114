#include "functions/image_validation.hpp"

#include <cmath>
#include <cstdio>

namespace orderflow::functions {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "\"malamute\" (75.1% confidence)"
std::string seen(const domain::Verdict& v, const std::vector<ports::ImageClass>& classes) {
  if (v.class_index < 0 || static_cast<std::size_t>(v.class_index) >= classes.size())
    return "nothing";
  return quoted(classes[static_cast<std::size_t>(v.class_index)].name) + " (" +
         percent_text(v.probability) + "% confidence)";
}

}  // namespace

std::string percent_text(double probability) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::round(probability * 1000.0) / 10.0);
  return buf;
}

ImageValidation describe_verdict(const domain::Verdict& v,
                                 const domain::DescriptionReading& reading,
                                 std::string_view description,
                                 const std::vector<ports::ImageClass>& classes) {
  using Reason = domain::Verdict::Reason;
  ImageValidation out{std::string(domain::to_string(v.status)), {}};
  const std::string what = quoted(description);
  switch (v.reason) {
    case Reason::consistent:
      out.message = "Description matches detected object " + seen(v, classes) + ".";
      break;
    case Reason::contradicted:
      out.message = "WARNING: Your description " + what + " does not match detected object " +
                    seen(v, classes) + ". Please verify!";
      break;
    case Reason::model_unsure:
      out.message = "Could not confirm that the photo shows " + what +
                    ": the image check is not sure what it shows (best guess " + seen(v, classes) +
                    "). Please verify.";
      break;
    case Reason::weak_evidence:
      out.message = "Could not confirm that the photo shows " + what + ": it most likely shows " +
                    seen(v, classes) + ", and only weakly what you described. Please verify.";
      break;
    case Reason::unknown_words: {
      std::string words;
      for (const auto& w : reading.unknown) words += (words.empty() ? "" : ", ") + quoted(w);
      out.message = "Could not check the description " + what +
                    ": the image check does not know the word" +
                    (reading.unknown.size() == 1 ? " " : "s ") + words + ". It sees " +
                    seen(v, classes) + ".";
      break;
    }
    case Reason::not_recognisable:
      out.message = "Could not check the description " + what +
                    ": the image check cannot recognise that kind of object. It sees " +
                    seen(v, classes) + ".";
      break;
    case Reason::too_general:
      out.message = "Could not check the description " + what +
                    ": it is too general to compare with the photo. It sees " + seen(v, classes) +
                    ".";
      break;
    case Reason::empty:
      out.message = "No description provided. The photo shows " + seen(v, classes) + ".";
      break;
  }
  return out;
}

ImageValidation unavailable_validation(bool has_description) {
  if (!has_description) return {"no_description", "No description provided."};
  return {"unavailable",
          "Image recognition is not available on this server; the description was not checked."};
}

}  // namespace orderflow::functions
