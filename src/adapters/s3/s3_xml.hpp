// The few S3 XML answers the adapter reads: ListObjectsV2 results and <Error> documents.
// A small pull reader, not a general XML parser: elements, text, the five named entities and
// numeric character references, CDATA; declarations, comments and attributes are skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ports/object_store.hpp"

namespace orderflow::adapters::s3xml {

// Replaces &amp; &lt; &gt; &quot; &apos; &#N; &#xH; with the characters they stand for.
// Throws std::runtime_error on an unknown or unterminated reference.
std::string unescape(std::string_view text);

struct ListResult {
  std::vector<ports::ObjectInfo> objects;  // in the order the server sent them
  bool truncated = false;
  std::string next_token;  // NextContinuationToken, when truncated
};

// Reads a <ListBucketResult>. Throws std::runtime_error when the document is not one.
ListResult parse_list_objects_v2(std::string_view xml);

// The <Code> and <Message> of an <Error> document; empty when `xml` is not one.
struct ErrorInfo {
  std::string code;
  std::string message;
};
ErrorInfo parse_error(std::string_view xml);

}  // namespace orderflow::adapters::s3xml
