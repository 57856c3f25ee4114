#include "adapters/pdf/pango_text.hpp"

#include <algorithm>

#include "ports/errors.hpp"

namespace orderflow::adapters::pdf {
namespace {

// The first choice, not the only one: Pango falls back, per character, to the installed font
// fontconfig ranks best for it (WenQuanYi Micro Hei for CJK, Loma for Thai, Symbola for emoji
// DejaVu lacks). Install outline fonts only: a colour bitmap emoji font (Noto Color Emoji)
// would win the emoji and be drawn as images, which no reader can search or copy.
constexpr const char* kFontFamily = "DejaVu Sans";

bool breaks_lines(gunichar c) {
  return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029;
}

}  // namespace

std::string printable_text(std::string_view raw, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(raw.size(), max_chars * 4));
  std::size_t chars = 0;
  const char* p = raw.data();
  const char* const end = raw.data() + raw.size();
  while (p < end && chars < max_chars) {
    const gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that does not start a valid sequence
      ++p;
    } else {
      const char* next = g_utf8_next_char(p);
      if (breaks_lines(c))
        out.push_back(' ');
      else
        out.append(p, next);
      p = next;
    }
    ++chars;
  }
  if (p < end) out += "\xE2\x80\xA6";  // U+2026: the cut is visible if it ever shows
  return out;
}

Typesetter::Typesetter()
    : font_map_(pango_cairo_font_map_new()),
      context_(pango_font_map_create_context(font_map_.get())) {
  if (!font_map_ || !context_)
    throw ports::InfraError(ports::InfraError::Kind::permanent,
                            "pdf: cannot create a Pango context");
  pango_cairo_context_set_resolution(context_.get(), 72.0);
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options(context_.get(), options);
  cairo_font_options_destroy(options);
}

TextBox::TextBox(const Typesetter& typesetter, const TextStyle& style)
    : layout_(pango_layout_new(typesetter.context())) {
  PangoFontDescription* font = pango_font_description_new();
  pango_font_description_set_family_static(font, kFontFamily);
  pango_font_description_set_weight(font, style.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_size(font, static_cast<gint>(style.size * PANGO_SCALE));
  pango_layout_set_font_description(layout_.get(), font);
  pango_font_description_free(font);

  PangoLayout* l = layout_.get();
  // Newlines were flattened already; this also keeps U+2029 and friends on one paragraph.
  pango_layout_set_single_paragraph_mode(l, TRUE);
  pango_layout_set_alignment(l, style.align);
  if (style.width > 0) {
    pango_layout_set_width(l, static_cast<int>(style.width * PANGO_SCALE));
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    if (style.max_lines > 1) {
      pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
      pango_layout_set_height(l, -style.max_lines);  // negative: a line count
    }
  }
}

void TextBox::set_text(std::string_view utf8) {
  pango_layout_set_text(layout_.get(), utf8.data(), static_cast<int>(utf8.size()));
}

double TextBox::width() const {
  int w = 0;
  int h = 0;
  pango_layout_get_size(layout_.get(), &w, &h);
  return static_cast<double>(w) / PANGO_SCALE;
}

double TextBox::height() const {
  int w = 0;
  int h = 0;
  pango_layout_get_size(layout_.get(), &w, &h);
  return static_cast<double>(h) / PANGO_SCALE;
}

void TextBox::draw(cairo_t* cr, double x, double y) const {
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout_.get());
}

}  // namespace orderflow::adapters::pdf
