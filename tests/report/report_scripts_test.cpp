// Every script a description may be written in comes out of the PDF as text (pdftotext) set in
// real, embedded outline fonts (pdffonts): no empty boxes, no Type 3 bitmaps, no images of
// emoji. DejaVu Sans covers Latin, Greek, Cyrillic, Arabic and Hebrew; the others come from
// the fallback fonts scripts/install-deps.sh installs.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "report_fixture.hpp"

namespace orderflow::report_test {
namespace {

using functions::Response;

struct Sample {
  const char* script;
  const char* text;
};

// One line per script, none of them in the first choice font alone.
const std::vector<Sample>& samples() {
  static const std::vector<Sample> all{
      {"Latin", "Gr\u00FC\u00DFe aus K\u00F6ln, fa\u00E7ade na\u00EFve \u0142\u00F3d\u017A"},
      {"Greek", "\u039A\u03B1\u03BB\u03B7\u03BC\u03AD\u03C1\u03B1 \u03BA\u03CC\u03C3\u03BC\u03B5"},
      {"Cyrillic", "\u041F\u0440\u0438\u0432\u0435\u0442, \u043C\u0438\u0440"},
      {"Arabic", "\u0645\u0631\u062D\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645"},
      {"Hebrew", "\u05E9\u05DC\u05D5\u05DD \u05E2\u05D5\u05DC\u05DD"},
      {"Thai", "\u0E2A\u0E27\u0E31\u0E2A\u0E14\u0E35\u0E0A\u0E32\u0E27\u0E42\u0E25\u0E01"},
      {"Japanese", "\u3053\u3093\u306B\u3061\u306F\u4E16\u754C\u3001\u30AB\u30BF\u30AB\u30CA"},
      {"Chinese", "\u4F60\u597D\uFF0C\u4E16\u754C\u3002\u6CE8\u6587"},
      {"Korean", "\uC548\uB155\uD558\uC138\uC694 \uC138\uACC4"},
      // Emoji DejaVu Sans lacks (U+1F389, U+1F680, U+1F355, U+1F44D) and two it has.
      {"Emoji", "\U0001F389 \U0001F680 \U0001F355 \U0001F44D \u2764 \U0001F600"},
  };
  return all;
}

// What pdftotext's word and direction guesses may add: spaces and line breaks (it splits an
// Arabic word where its letters do not join) and bidi embedding marks around right-to-left runs.
std::string without_layout(std::string_view text) {
  static const std::vector<std::string> marks{"\u200E", "\u200F", "\u202A", "\u202B",
                                              "\u202C", "\u202D", "\u202E", "\u2066",
                                              "\u2067", "\u2068", "\u2069"};
  std::string out(text);
  std::erase_if(out, [](char c) { return c == ' ' || c == '\n' || c == '\f'; });
  for (const std::string& mark : marks)
    for (auto at = out.find(mark); at != std::string::npos; at = out.find(mark, at))
      out.erase(at, mark.size());
  return out;
}

struct PdfFont {
  std::string name, type, encoding, embedded, subset, unicode;
};

// pdffonts' table: each column is as wide as the run of dashes under its heading.
std::vector<PdfFont> fonts_of(const std::string& table) {
  std::istringstream lines(table);
  std::string line;
  std::vector<std::pair<std::size_t, std::size_t>> columns;  // start, width
  std::vector<PdfFont> fonts;
  while (std::getline(lines, line)) {
    if (columns.empty()) {
      if (!line.starts_with("---")) continue;
      for (std::size_t at = 0; at < line.size();) {
        const std::size_t end = std::min(line.find(' ', at), line.size());
        columns.emplace_back(at, end - at);
        at = line.find_first_not_of(' ', end);
      }
      continue;
    }
    const auto cell = [&](std::size_t i) {
      if (i >= columns.size() || columns[i].first >= line.size()) return std::string();
      std::string s = line.substr(columns[i].first, columns[i].second);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s;
    };
    fonts.push_back(PdfFont{cell(0), cell(1), cell(2), cell(3), cell(4), cell(5)});
  }
  return fonts;
}

TEST_F(ReportTest, EveryScriptIsExtractableTextInEmbeddedOutlineFonts) {
  int n = 0;
  for (const Sample& s : samples()) archive(++n, s.text, "1.00");
  const Response r = generate();
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string pdf = pdf_bytes(report_key(r));

  const PdfText read = read_pdf(pdf, tmp_.path());
  const std::string extracted = without_layout(read.text);
  for (const Sample& s : samples())
    EXPECT_NE(extracted.find(without_layout(s.text)), std::string::npos)
        << s.script << ": " << s.text << "\n"
        << read.text;

  // A colour emoji font would put its glyphs in as images; the report draws none of its own.
  const std::string images = run_pdf_tool("pdfimages -list", pdf, tmp_.path());
  EXPECT_EQ(std::count(images.begin(), images.end(), '\n'), 2) << images;  // the heading only

  const std::vector<PdfFont> fonts = fonts_of(run_pdf_tool("pdffonts", pdf, tmp_.path()));
  ASSERT_FALSE(fonts.empty());
  std::string names;
  for (const PdfFont& f : fonts) {
    names += f.name + " (" + f.type + ")\n";
    EXPECT_EQ(f.embedded, "yes") << f.name;
    EXPECT_EQ(f.unicode, "yes") << f.name << ": no ToUnicode map, so no text to copy";
    EXPECT_FALSE(f.type.starts_with("Type 3")) << f.name << ": glyphs drawn as bitmaps";
  }
  // Fallback really happened: CJK, Thai and emoji are not in DejaVu Sans.
  std::size_t others = 0;
  for (const PdfFont& f : fonts)
    if (f.name.find("DejaVu") == std::string::npos) ++others;
  EXPECT_GE(others, 3u) << names;
}

}  // namespace
}  // namespace orderflow::report_test
