// A small, strict reader of multipart/form-data bodies (RFC 7578) for the image upload.
// Boost.Beast has no multipart support and no Debian package offers a parser for it, so this
// one is our own: it works on views into the body (no copies of the file) and checks every
// bound, and whatever the input it returns parts or an error, never crashes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace orderflow::functions {

struct FormPart {
  std::string name;      // from Content-Disposition: form-data; name="..."
  std::string filename;  // empty when the part is not a file
  bool has_filename = false;
  std::string content_type;  // the part's Content-Type, empty when absent
  std::string_view body;     // points into the request body
};

// The boundary parameter of a "multipart/form-data; boundary=..." Content-Type (quoted or
// not), or nullopt when the type is something else or the boundary is missing or invalid.
[[nodiscard]] std::optional<std::string> multipart_boundary(std::string_view content_type);

// The parts of `body`, in order, or a failure that says what is malformed: a missing
// delimiter or closing delimiter, a part without a form-data name, headers that do not end,
// more than `max_parts` parts.
domain::Result<std::vector<FormPart>> parse_multipart(std::string_view body,
                                                      std::string_view boundary,
                                                      std::size_t max_parts = 16);

}  // namespace orderflow::functions
