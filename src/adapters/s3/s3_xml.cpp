#include "adapters/s3/s3_xml.hpp"

#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace orderflow::adapters::s3xml {
namespace {

[[noreturn]] void malformed(const std::string& why) {
  throw std::runtime_error("S3 answered with unreadable XML: " + why);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    malformed("bad character reference");
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Pulls elements and text out of a document, one event at a time.
class Reader {
 public:
  enum class Event { start, end, text, done };

  explicit Reader(std::string_view doc) : doc_(doc) {}

  Event next() {
    if (pending_end_) {  // the second half of <empty/>
      pending_end_ = false;
      return Event::end;
    }
    while (pos_ < doc_.size()) {
      if (doc_[pos_] != '<') {
        const std::size_t lt = doc_.find('<', pos_);
        const std::size_t stop = lt == std::string_view::npos ? doc_.size() : lt;
        text_ = unescape(doc_.substr(pos_, stop - pos_));
        pos_ = stop;
        return Event::text;
      }
      const std::string_view rest = doc_.substr(pos_);
      if (rest.starts_with("<?")) {
        skip_past("?>");
      } else if (rest.starts_with("<!--")) {
        skip_past("-->");
      } else if (rest.starts_with("<![CDATA[")) {
        const std::size_t close = doc_.find("]]>", pos_);
        if (close == std::string_view::npos) malformed("unterminated CDATA");
        text_ = std::string(doc_.substr(pos_ + 9, close - pos_ - 9));
        pos_ = close + 3;
        return Event::text;
      } else if (rest.starts_with("<!")) {
        skip_past(">");
      } else {
        return read_tag();
      }
    }
    return Event::done;
  }

  std::string_view name() const { return name_; }
  const std::string& text() const { return text_; }

 private:
  void skip_past(std::string_view marker) {
    const std::size_t at = doc_.find(marker, pos_);
    if (at == std::string_view::npos) malformed("unterminated markup");
    pos_ = at + marker.size();
  }

  Event read_tag() {
    const bool closing = pos_ + 1 < doc_.size() && doc_[pos_ + 1] == '/';
    std::size_t i = pos_ + (closing ? 2 : 1);
    const std::size_t name_start = i;
    while (i < doc_.size() && doc_[i] != '>' && doc_[i] != '/' && doc_[i] != ' ' &&
           doc_[i] != '\t' && doc_[i] != '\r' && doc_[i] != '\n')
      ++i;
    name_ = doc_.substr(name_start, i - name_start);
    if (name_.empty()) malformed("empty tag name");
    // Skip attributes; a quoted value may hold '>' or '/'.
    char quote = 0;
    for (; i < doc_.size(); ++i) {
      const char c = doc_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (i >= doc_.size()) malformed("unterminated tag");
    pending_end_ = !closing && doc_[i - 1] == '/';
    pos_ = i + 1;
    return closing ? Event::end : Event::start;
  }

  std::string_view doc_;
  std::size_t pos_ = 0;
  std::string_view name_;
  std::string text_;
  bool pending_end_ = false;
};

std::uint64_t parse_size(const std::string& text) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) malformed("bad Size " + text);
  return value;
}

// Walks `xml`, calling on_leaf(path, text) at the end of every element with the element names
// from the root down; checks that tags nest properly.
template <typename OnLeaf>
void walk(std::string_view xml, OnLeaf&& on_leaf) {
  Reader reader(xml);
  std::vector<std::string_view> path;
  std::string text;
  for (auto event = reader.next(); event != Reader::Event::done; event = reader.next()) {
    switch (event) {
      case Reader::Event::start:
        if (path.empty() && !text.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos)
          malformed("text outside the root element");
        path.push_back(reader.name());
        text.clear();
        break;
      case Reader::Event::text:
        text += reader.text();
        break;
      case Reader::Event::end:
        if (path.empty() || path.back() != reader.name())
          malformed("mismatched </" + std::string(reader.name()) + ">");
        on_leaf(path, text);
        path.pop_back();
        text.clear();
        break;
      case Reader::Event::done:
        break;
    }
  }
  if (!path.empty()) malformed("unclosed <" + std::string(path.back()) + ">");
}

}  // namespace

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t amp = text.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, amp - i));
    const std::size_t semi = text.find(';', amp);
    if (semi == std::string_view::npos || semi - amp > 12) malformed("unterminated entity");
    const std::string_view entity = text.substr(amp + 1, semi - amp - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (entity.size() > 1 && entity[0] == '#') {
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      const std::string_view digits = entity.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      const auto [ptr, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size())
        malformed("bad character reference &" + std::string(entity) + ";");
      append_utf8(out, cp);
    } else {
      malformed("unknown entity &" + std::string(entity) + ";");
    }
    i = semi + 1;
  }
  return out;
}

ListResult parse_list_objects_v2(std::string_view xml) {
  ListResult result;
  ports::ObjectInfo current;
  bool saw_root = false;
  walk(xml, [&](const std::vector<std::string_view>& path, const std::string& text) {
    if (path.front() != "ListBucketResult") malformed("expected <ListBucketResult>");
    saw_root = true;
    if (path.size() == 2) {
      if (path[1] == "IsTruncated")
        result.truncated = text == "true";
      else if (path[1] == "NextContinuationToken")
        result.next_token = text;
      else if (path[1] == "Contents") {
        if (current.key.empty()) malformed("<Contents> without <Key>");
        result.objects.push_back(std::move(current));
        current = {};
      }
    } else if (path.size() == 3 && path[1] == "Contents") {
      if (path[2] == "Key") {
        current.key = text;
      } else if (path[2] == "Size") {
        current.size = parse_size(text);
      } else if (path[2] == "LastModified") {
        const auto t = domain::parse_rfc3339(text);
        if (!t) malformed("bad LastModified " + text);
        current.modified = *t;
      }
    }
  });
  if (!saw_root) malformed("no <ListBucketResult>");
  if (result.truncated && result.next_token.empty())
    malformed("IsTruncated without NextContinuationToken");
  return result;
}

ErrorInfo parse_error(std::string_view xml) {
  ErrorInfo info;
  try {
    walk(xml, [&](const std::vector<std::string_view>& path, const std::string& text) {
      if (path.size() != 2 || path[0] != "Error") return;
      if (path[1] == "Code")
        info.code = text;
      else if (path[1] == "Message")
        info.message = text;
    });
  } catch (const std::runtime_error&) {
    return {};  // an error body we cannot read still leaves the HTTP status to report
  }
  return info;
}

}  // namespace orderflow::adapters::s3xml
