#include "adapters/mail/mime_message.hpp"

#include <openssl/evp.h>

#include <ctime>
#include <vector>

namespace orderflow::adapters {
namespace {

std::string base64(std::string_view bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

// Base64 body lines of 76 characters, CRLF-terminated (RFC 2045).
std::string base64_lines(std::string_view bytes) {
  const std::string b = base64(bytes);
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 76) {
    out.append(b, i, 76);
    out += "\r\n";
  }
  return out;
}

// Text in a mail has CRLF line ends (RFC 5322 §2.3), also inside base64 (RFC 2045 §6.8).
std::string crlf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

bool plain_ascii(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// Header values never carry line breaks from user text.
std::string one_line(std::string_view s) {
  std::string out;
  for (char ch : s) out.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
  return out;
}

std::string rfc5322_date(domain::Timestamp t) {
  const std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

std::string encode_header_words(const std::string& text) {
  std::string line = one_line(text);
  if (plain_ascii(line)) return line;
  // Encoded words are at most 75 characters: split the UTF-8 text at code point boundaries
  // into chunks of at most 45 bytes (60 base64 characters) and fold between them.
  std::string out;
  std::size_t i = 0;
  while (i < line.size()) {
    std::size_t end = std::min(line.size(), i + 45);
    while (end < line.size() && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(line).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string render_mime_message(const ports::Mail& mail, domain::Timestamp date) {
  std::string m;
  m += "Date: " + rfc5322_date(date) + "\r\n";
  m += "From: orderflow <" + one_line(mail.from) + ">\r\n";
  m += "To: <" + one_line(mail.to) + ">\r\n";
  m += "Subject: " + encode_header_words(mail.subject) + "\r\n";
  if (!mail.message_id.empty()) m += "Message-ID: <" + one_line(mail.message_id) + ">\r\n";
  for (const auto& [name, value] : mail.headers)
    m += one_line(name) + ": " + one_line(value) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  const auto text_part = [&](std::string_view subtype, std::string_view body) {
    return "Content-Type: text/" + std::string(subtype) +
           "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
           base64_lines(crlf_lines(body));
  };
  if (mail.html.empty()) {
    m += text_part("plain", mail.text);
    return m;
  }
  // The boundary is made of characters base64 never produces next to "=_".
  const std::string boundary = "=_orderflow_alt_" + std::to_string(mail.text.size()) + "_" +
                               std::to_string(mail.html.size());
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\n" + text_part("plain", mail.text);
  m += "--" + boundary + "\r\n" + text_part("html", mail.html);
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace orderflow::adapters
