// The SubscriptionStore port: e-mail subscribers to deletion notices (double opt-in), and the
// record of which notices were claimed and sent, so a redelivered event never mails anyone
// twice, even when workers in several processes handle it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"

namespace orderflow::ports {

enum class SubscriberState { pending, confirmed };

enum class NoticeClaim { claimed, sent, busy };

// What a mailed link does.
enum class LinkPurpose { confirm, unsubscribe };
// "confirm" or "unsubscribe", as the stores keep it.
inline std::string_view link_purpose_name(LinkPurpose purpose) {
  return purpose == LinkPurpose::confirm ? "confirm" : "unsubscribe";
}

struct SubscribeResult {
  enum class Kind { created, still_pending, already_confirmed };
  Kind kind;
};

// Addresses are compared case-insensitively (the store keeps a lower-case key and the address
// as given). Infrastructure failures throw InfraError; thread-safe.
class SubscriptionStore {
 public:
  virtual ~SubscriptionStore() = default;
  virtual SubscribeResult subscribe(std::string_view email, domain::Timestamp now) = 0;
  // pending -> confirmed. False when the address has no subscription (e.g. unsubscribed since).
  virtual bool confirm(std::string_view email, domain::Timestamp now) = 0;
  virtual std::optional<SubscriberState> state(std::string_view email) = 0;
  // Removes the subscription; true when there was one.
  virtual bool unsubscribe(std::string_view email) = 0;
  // Confirmed addresses (as given) whose lower-case key is > `after`, ascending, at most `limit`.
  virtual std::vector<std::string> confirmed(std::string_view after, int limit) = 0;

  // A deletion notice is claimed per (event id, address) before it is sent and marked sent once
  // the mail server accepted it, so that senders in several processes never both send it.
  //   claimed: this caller holds the claim until `lease_until`: send, then mark_notice_sent.
  //   sent:    it went already; nothing to do.
  //   busy:    another sender holds an unexpired claim; try again later.
  // A claim whose holder died (never marked) can be claimed again once its lease has ended.
  virtual NoticeClaim claim_notice(std::string_view event_id, std::string_view email,
                                   domain::Timestamp now, domain::Timestamp lease_until) = 0;
  virtual void mark_notice_sent(std::string_view event_id, std::string_view email,
                                domain::Timestamp at) = 0;
  // Gives back a claim whose send failed, so the next attempt can claim the notice at once
  // instead of after the lease. Only the claim that ends at `lease_until` (the caller's own) is
  // given back: one taken over by another sender meanwhile stays.
  virtual void release_notice(std::string_view event_id, std::string_view email,
                              domain::Timestamp lease_until) = 0;
  // True when the notice for (event id, address) was marked sent.
  virtual bool notice_sent(std::string_view event_id, std::string_view email) = 0;

  // The tokens in mailed links are opaque; the store keeps only a keyed hash of each (the
  // caller hashes), with what the link does, the address and when it stops working (none:
  // never). Keeping a hash kept already changes nothing. Links past their end are dropped on
  // the way.
  virtual void keep_link(std::string_view token_hash, LinkPurpose purpose, std::string_view email,
                         std::optional<domain::Timestamp> expires, domain::Timestamp now) = 0;
  // The address (as given) of a link that works at `now`, or nullopt.
  virtual std::optional<std::string> find_link(std::string_view token_hash, LinkPurpose purpose,
                                               domain::Timestamp now) = 0;
  // Ends the address's links of this purpose (a confirmation link works once).
  virtual void drop_links(std::string_view email, LinkPurpose purpose) = 0;
};

}  // namespace orderflow::ports
