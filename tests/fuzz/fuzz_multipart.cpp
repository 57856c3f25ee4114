// multipart/form-data uploads: the input's first line is the Content-Type header, the rest the
// body. Properties: a boundary found is one RFC 2046 allows; parsed parts are named, at most
// max_parts, view into the body and never hold a delimiter; and the parts, written back as a
// canonical body, parse to the same parts.
#include <string>
#include <vector>

#include "functions/image_multipart.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using orderflow::functions::FormPart;
using orderflow::fuzz::require;

constexpr std::size_t kMaxParts = 4;  // below the upload's 16, so the limit is reached too

std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The parts as a client would send them; nullopt when a part's headers would not fit the
// parser's bound on a header block (escaping may double a long name).
std::optional<std::string> write_back(const std::vector<FormPart>& parts,
                                      std::string_view boundary) {
  std::string out;
  for (const auto& part : parts) {
    std::string headers = "Content-Disposition: form-data; name=" + quoted(part.name);
    if (part.has_filename) headers += "; filename=" + quoted(part.filename);
    if (!part.content_type.empty()) headers += "\r\nContent-Type: " + part.content_type;
    if (headers.size() > 8 * 1024) return std::nullopt;
    out += "--" + std::string(boundary) + "\r\n" + headers + "\r\n\r\n";
    out += part.body;
    out += "\r\n";
  }
  return out + "--" + std::string(boundary) + "--\r\n";
}

bool same_parts(const std::vector<FormPart>& a, const std::vector<FormPart>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].filename != b[i].filename ||
        a[i].has_filename != b[i].has_filename || a[i].content_type != b[i].content_type ||
        a[i].body != b[i].body)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [content_type, body] =
      orderflow::fuzz::split_once(orderflow::fuzz::as_text(data, size), "\n");

  const auto found = orderflow::functions::multipart_boundary(content_type);
  if (found)
    require(!found->empty() && found->size() <= 70 && found->back() != ' ', "a valid boundary");
  // Without a usable boundary the body is still read, with the one the seeds use.
  const std::string boundary = found ? *found : "b0undary";

  const auto parts = orderflow::functions::parse_multipart(body, boundary, kMaxParts);
  if (!parts) {
    require(!parts.why().empty(), "a rejected body says why");
    return 0;
  }
  require(parts->size() <= kMaxParts, "no more parts than max_parts");
  const std::string next_delimiter = "\r\n--" + boundary;
  for (const auto& part : *parts) {
    require(!part.name.empty(), "every part is named");
    require(part.body.data() >= body.data() &&
                part.body.data() + part.body.size() <= body.data() + body.size(),
            "a part's body views into the request body");
    require(part.body.find(next_delimiter) == std::string_view::npos,
            "a part's body holds no delimiter");
  }
  if (const auto canonical = write_back(*parts, boundary)) {
    const auto again = orderflow::functions::parse_multipart(*canonical, boundary, kMaxParts);
    require(again && same_parts(*parts, *again), "parts written back parse the same");
  }
  return 0;
}
