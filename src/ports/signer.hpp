#pragma once

#include <string>
#include <string_view>

namespace orderflow::ports {

// Signs short messages with a secret only this deployment knows (HMAC-SHA256), for links that
// must not be forged: subscription confirmations, unsubscribe links, presigned object URLs.
// Thread-safe.
class Signer {
 public:
  virtual ~Signer() = default;
  // Lower-case hex signature of `message`.
  virtual std::string sign(std::string_view message) const = 0;
  // Constant-time comparison of `signature` with sign(message).
  virtual bool verify(std::string_view message, std::string_view signature) const = 0;
};

}  // namespace orderflow::ports
