// order.deleted -> one notice per confirmed subscriber, claimed per (event, address) before it
// is sent (see event_functions.hpp for the one window in which it can go twice).
#include "domain/email.hpp"
#include "functions/deleted_order.hpp"
#include "functions/event_functions.hpp"
#include "functions/subscription_tokens.hpp"

namespace orderflow::functions {
namespace {

constexpr int kPage = 200;

std::string short_text(std::string_view s, std::size_t max_code_points) {
  std::size_t count = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && count++ == max_code_points) break;
  }
  std::string out(s.substr(0, i));
  for (char& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return i < s.size() ? out + "…" : out;
}

ports::Mail deletion_notice(NotifyContext& ctx, const DeletedOrder& d, const std::string& to) {
  const std::string unsubscribe =
      unsubscribe_link(ctx.signer, ctx.subscriptions, ctx.mail.public_url, to, ctx.clock.now());
  ports::Mail mail;
  mail.from = ctx.mail.from;
  mail.to = to;
  mail.subject = "Order \"" + short_text(d.order.description, 59) + "\" deleted";  // ≤ 60 with "…"
  mail.text =
      "An order was deleted.\n\n"
      "Order ID:    " +
      d.order.id +
      "\n"
      "Description: " +
      d.order.description +
      "\n"
      "Price:       " +
      d.order.price.to_string() +
      "\n"
      "Created:     " +
      domain::format_rfc3339(d.order.created) +
      "\n"
      "Deleted at:  " +
      domain::format_rfc3339(d.deleted_at) +
      "\n\n"
      "You receive this because you subscribed to deletion notices.\n"
      "Unsubscribe: " +
      unsubscribe + "\n";
  // Stable per (event, address): a resend after a crash is recognisably the same message.
  mail.message_id = d.event_id + "." +
                    ctx.signer.sign("message-id\n" + domain::email_key(to)).substr(0, 16) +
                    "@orderflow";
  mail.headers.emplace_back("List-Unsubscribe", "<" + unsubscribe + ">");
  mail.headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  mail.headers.emplace_back("X-Orderflow-Event", d.event_id);
  return mail;
}

}  // namespace

void notify_subscribers(NotifyContext& ctx, const domain::Event& event) {
  const auto deleted = read_deleted_event(event);
  if (!deleted) throw PermanentFailure("order.deleted event " + event.id + " has malformed data");
  int busy = 0;
  std::string after;
  while (true) {
    const auto page = ctx.subscriptions.confirmed(after, kPage);
    for (const std::string& to : page) {
      const auto now = ctx.clock.now();
      const auto lease_until = now + ctx.lease;
      switch (ctx.subscriptions.claim_notice(event.id, to, now, lease_until)) {
        case ports::NoticeClaim::sent:
          continue;
        case ports::NoticeClaim::busy:
          ++busy;  // another send holds it; the retry of this delivery sees how that ended
          continue;
        case ports::NoticeClaim::claimed:
          try {
            ctx.mailer.send(deletion_notice(ctx, *deleted, to));
          } catch (...) {
            // Not sent: give the claim back, so the retry does not wait out the lease.
            try {
              ctx.subscriptions.release_notice(event.id, to, lease_until);
            } catch (const std::exception&) {
              // The claim then simply ends with its lease.
            }
            throw;
          }
          ctx.subscriptions.mark_notice_sent(event.id, to, ctx.clock.now());
          continue;
      }
    }
    if (static_cast<int>(page.size()) < kPage) break;
    after = domain::email_key(page.back());
  }
  if (busy > 0)
    throw RetryLater("the notices of event " + event.id + " to " + std::to_string(busy) +
                     " address(es) are claimed by a send whose lease has not ended");
}

}  // namespace orderflow::functions
