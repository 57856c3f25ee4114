// The Mailer port: hands one composed mail to a transport (a maildir, an SMTP relay).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace orderflow::ports {

struct Mail {
  std::string from;        // address only, e.g. "orderflow@localhost"
  std::string to;          // address only
  std::string subject;     // UTF-8; the adapter encodes it for the wire
  std::string text;        // UTF-8 plain-text body
  std::string html;        // optional UTF-8 HTML alternative (empty: text only)
  std::string message_id;  // stable per (event, recipient), so a redelivery is recognisable
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. List-Unsubscribe
};

// send() returns once the transport has accepted the mail; failures throw InfraError
// (transient: try again later). Thread-safe.
class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual void send(const Mail& mail) = 0;
};

}  // namespace orderflow::ports
