// Reading the mail orderflow sent: maildir files (the server's own maildir, or the one an SMTP
// sink writes) parsed into unfolded headers and the decoded text part; and an aiosmtpd SMTP sink
// on loopback that the tests start and stop to simulate an SMTP outage.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "e2e/harness.hpp"

namespace orderflow::e2e {

// Base64 (RFC 4648, whitespace ignored) via OpenSSL; throws std::invalid_argument when malformed.
std::string base64_decode(std::string_view encoded);
// Base64 (RFC 4648, padded, no line breaks) via OpenSSL.
std::string base64_encode(std::string_view bytes);
// Decodes RFC 2047 encoded words (UTF-8, B or Q); whitespace between adjacent words is dropped.
std::string decode_header_words(std::string_view value);

struct MailMessage {
  std::filesystem::path file;
  std::string raw;
  Headers headers;   // unfolded, in file order
  std::string text;  // the text/plain part, transfer-decoded
  std::string text_content_type;
  std::string text_transfer_encoding;

  std::optional<std::string> header(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
  std::string subject() const;      // decoded
  std::string recipient() const;    // the To: address without angle brackets
  std::string event_id() const;     // X-Orderflow-Event, "" when absent
  bool is_notification() const { return !event_id().empty(); }
};

// Parses one RFC 5322 message (CRLF or LF line ends); throws when it has no header/body split.
MailMessage parse_mail(std::string raw);
// Every message in <dir>/new and <dir>/cur, ordered by file name; none when the dir is missing.
std::vector<MailMessage> read_maildir(const std::filesystem::path& dir);
// Polls the maildir until `done` holds for its contents or `bound` passes; returns the last read.
std::vector<MailMessage> wait_for_mail(const std::filesystem::path& dir,
                                       const std::function<bool(const std::vector<MailMessage>&)>& done,
                                       std::chrono::milliseconds bound);

bool iequal(std::string_view a, std::string_view b);
// Messages addressed to `to` (case-insensitive); with a non-empty event id, only its notices.
std::vector<MailMessage> mails_to(const std::vector<MailMessage>& mails, std::string_view to,
                                  std::string_view event_id = {});
// Confirmation mails (those with a confirm link) addressed to `to`.
std::vector<MailMessage> confirmations_to(const std::vector<MailMessage>& mails,
                                          std::string_view to);
// Path and query of the first link in the text with this path, e.g. "/subscriptions/confirm";
// "" when there is none.
std::string link_target(const MailMessage& mail, std::string_view path);
// Path and query of the List-Unsubscribe URL; "" when absent or malformed.
std::string list_unsubscribe_target(const MailMessage& mail);

// A loopback TCP port that was free a moment ago (bound to port 0, then released).
std::uint16_t free_loopback_port();

// True once something on <ipv4>:port accepts a connection and greets with "220".
bool smtp_greets(const std::string& ipv4, std::uint16_t port);

// `/usr/bin/python3 -m aiosmtpd -n -l <listen_host>:<port> -c aiosmtpd.handlers.Mailbox <maildir>`
// (no STARTTLS, no AUTH). The port is chosen at construction and kept across stop()/start(), so a
// server configured with url() sees the same SMTP server come and go. listen_host "0.0.0.0" makes
// it reachable at every address of this machine, not only at loopback.
class SmtpSink {
 public:
  explicit SmtpSink(std::filesystem::path work_dir, std::string listen_host = "127.0.0.1");
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // Returns once the sink answers SMTP on its port (bounded; throws otherwise).
  void start();
  void stop();
  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& maildir() const { return maildir_; }
  std::string log() const;

 private:
  std::filesystem::path work_dir_;
  std::filesystem::path maildir_;
  std::string listen_host_;
  std::vector<std::filesystem::path> logs_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace orderflow::e2e
