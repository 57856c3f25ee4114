#include "adapters/mail/maildir_mailer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "adapters/files/private_files.hpp"
#include "adapters/files/stale_files.hpp"
#include "adapters/mail/mime_message.hpp"
#include "ports/errors.hpp"

namespace orderflow::adapters {
namespace fs = std::filesystem;
using ports::InfraError;

namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& p) {
  throw InfraError(InfraError::Kind::transient,
                   "maildir: " + what + " " + p.string() + ": " + std::strerror(errno));
}

// A file name safe in any filesystem, unique per Message-ID.
std::string file_name_for(const ports::Mail& mail) {
  std::string name;
  for (char c : mail.message_id)
    name.push_back((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_');
  return name;
}

}  // namespace

MaildirMailer::MaildirMailer(fs::path dir, const ports::Clock& clock)
    : dir_(std::move(dir)), clock_(clock) {
  for (const char* sub : {"tmp", "new", "cur"}) {
    if (const std::error_code ec = create_private_directories(dir_ / sub))
      throw InfraError(InfraError::Kind::permanent,
                       "mailer: cannot create " + (dir_ / sub).string() + ": " + ec.message());
  }
  // The maildir convention: a file in tmp/ untouched for 36 hours was left by a crash.
  remove_stale_files(dir_ / "tmp", std::chrono::hours(36));
}

void MaildirMailer::send(const ports::Mail& mail) {
  static std::atomic<std::uint64_t> counter{0};
  const std::string message = render_mime_message(mail, clock_.now());
  const std::string unique = mail.message_id.empty()
                                 ? std::to_string(clock_.now().time_since_epoch().count()) + "." +
                                       std::to_string(::getpid()) + "." + std::to_string(counter++)
                                 : file_name_for(mail);
  const fs::path tmp = dir_ / "tmp" / (unique + "." + std::to_string(counter++));
  const fs::path target = dir_ / "new" / (unique + ".eml");

  const int fd = open_private_file(tmp, O_WRONLY | O_TRUNC);
  if (fd < 0) fail("cannot create", tmp);
  std::string_view rest = message;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("cannot write", tmp);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot move into", target);
  }
  const int dfd = ::open((dir_ / "new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace orderflow::adapters
