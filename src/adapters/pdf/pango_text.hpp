// Text for the PDF adapter: a Pango context with fixed metrics and reusable one-style text
// boxes. Internal to adapters/pdf.
#pragma once

#include <pango/pangocairo.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace orderflow::adapters::pdf {

struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

// Text a box may show: valid UTF-8 (bad bytes become U+FFFD), control characters turned
// into spaces (a newline must not start a paragraph of its own inside a cell), and at most
// `max_chars` code points, far more than any box shows, so a huge text costs little.
std::string printable_text(std::string_view raw, std::size_t max_chars);

// One Pango context whose metrics do not depend on a surface: 72 dpi (1 pt = 1 unit), no
// hinting. Boxes measured here without drawing have the sizes they have on the PDF, which
// the page count of the measuring pass relies on.
class Typesetter {
 public:
  Typesetter();
  PangoContext* context() const { return context_.get(); }

 private:
  GObjectPtr<PangoFontMap> font_map_;
  GObjectPtr<PangoContext> context_;
};

struct TextStyle {
  double size = 10;  // points
  bool bold = false;
  double width = -1;  // points; -1: unbounded (no wrapping, no ellipsis)
  int max_lines = 1;  // more lines wrap at word (or, for long words, character) breaks
  PangoAlignment align = PANGO_ALIGN_LEFT;
};

// A PangoLayout kept for one style and reused for every text drawn in it. Text is always set
// with pango_layout_set_text, never as markup, so "<b>" and "&" show as they are. Text that
// does not fit in `max_lines` lines of `width` ends with an ellipsis.
class TextBox {
 public:
  TextBox(const Typesetter& typesetter, const TextStyle& style);
  void set_text(std::string_view utf8);  // `utf8` must come from printable_text()
  double width() const;                  // logical size of the current text, points
  double height() const;
  // Draws with the top-left corner of the box at (x, y).
  void draw(cairo_t* cr, double x, double y) const;

 private:
  GObjectPtr<PangoLayout> layout_;
};

}  // namespace orderflow::adapters::pdf
