// Renders a ports::Mail as an RFC 5322 / MIME message (UTF-8 subject as an RFC 2047 encoded
// word, bodies in base64). One renderer serves every transport, so the maildir and SMTP carry
// the same bytes; libcurl's MIME API cannot render to a file, which the maildir needs.
#pragma once

#include <string>

#include "domain/time.hpp"
#include "ports/mailer.hpp"

namespace orderflow::adapters {

std::string render_mime_message(const ports::Mail& mail, domain::Timestamp date);

// "=?UTF-8?B?...?=" when `text` is not plain printable ASCII; `text` itself otherwise.
std::string encode_header_words(const std::string& text);

}  // namespace orderflow::adapters
