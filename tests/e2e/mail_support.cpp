#include "e2e/mail_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace orderflow::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr auto kPollInterval = 20ms;
constexpr const char* kPython = "/usr/bin/python3";  // Debian's, which has aiosmtpd (PATH has pyenv)

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The header block and the body of an entity whose line ends are already LF.
struct Entity {
  Headers headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (iequal(n, name)) return v;
    return std::nullopt;
  }
};

Entity split_entity(std::string_view lf_text) {
  Entity e;
  std::size_t pos = 0;
  bool split = false;
  while (pos < lf_text.size()) {
    const std::size_t eol = lf_text.find('\n', pos);
    const std::string_view line =
        lf_text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? lf_text.size() : eol + 1;
    if (line.empty()) {
      split = true;
      break;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !e.headers.empty()) {
      e.headers.back().second += std::string(line);  // unfolding removes only the line break
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    e.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                           std::string(trim(line.substr(colon + 1))));
  }
  if (!split) throw std::invalid_argument("message has no empty line between header and body");
  e.body = std::string(lf_text.substr(pos));
  return e;
}

// A parameter of a structured header value, e.g. boundary of Content-Type.
std::string header_parameter(std::string_view value, std::string_view name) {
  const std::string low = lower(value);
  const std::string key = lower(name) + "=";
  std::size_t at = 0;
  while ((at = low.find(key, at)) != std::string::npos) {
    if (at == 0 || low[at - 1] == ';' || std::isspace(static_cast<unsigned char>(low[at - 1]))) break;
    ++at;
  }
  if (at == std::string::npos) return {};
  std::string_view rest = value.substr(at + key.size());
  if (!rest.empty() && rest.front() == '"') {
    rest.remove_prefix(1);
    return std::string(rest.substr(0, rest.find('"')));
  }
  return std::string(trim(rest.substr(0, rest.find(';'))));
}

struct TextPart {
  std::string text;
  std::string content_type;
  std::string transfer_encoding;
};

std::optional<TextPart> find_text_part(const Entity& e) {
  const std::string type = e.header("Content-Type").value_or("text/plain");
  if (lower(type).rfind("multipart/", 0) == 0) {
    const std::string boundary = header_parameter(type, "boundary");
    if (boundary.empty()) return std::nullopt;
    const std::string delimiter = "--" + boundary;
    std::size_t pos = e.body.find(delimiter);
    while (pos != std::string::npos) {
      pos += delimiter.size();
      if (e.body.compare(pos, 2, "--") == 0) break;  // the closing delimiter
      const std::size_t start = e.body.find('\n', pos);
      if (start == std::string::npos) break;
      const std::size_t next = e.body.find("\n" + delimiter, start);
      const std::string part = e.body.substr(start + 1, next == std::string::npos
                                                            ? std::string::npos
                                                            : next - start);
      if (auto found = find_text_part(split_entity(part))) return found;
      pos = next == std::string::npos ? next : next + 1;
    }
    return std::nullopt;
  }
  if (lower(type).rfind("text/plain", 0) != 0) return std::nullopt;
  TextPart p;
  p.content_type = type;
  p.transfer_encoding = e.header("Content-Transfer-Encoding").value_or("");
  p.text = iequal(trim(p.transfer_encoding), "base64") ? base64_decode(e.body) : e.body;
  return p;
}

std::string q_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      out += ' ';
    } else if (s[i] == '=' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "scheme://host[:port]/path?query" -> "/path?query"; "" when it is not such a URL.
std::string path_and_query(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const std::size_t slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) return {};
  return std::string(url.substr(slash));
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

bool smtp_greets(const std::string& ipv4, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    throw std::invalid_argument("not an IPv4 address: " + ipv4);
  }
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    pollfd p{fd, POLLIN, 0};
    char buf[4] = {};
    if (::poll(&p, 1, 2000) == 1 && ::recv(fd, buf, 3, 0) == 3) ok = std::string_view(buf, 3) == "220";
    static constexpr char kQuit[] = "QUIT\r\n";
    (void)::send(fd, kQuit, sizeof kQuit - 1, MSG_NOSIGNAL);
  }
  ::close(fd);
  return ok;
}

// --- decoding ---------------------------------------------------------------------------------

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64_decode(std::string_view encoded) {
  std::string compact;
  for (const char c : encoded)
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  if (compact.size() % 4 != 0) throw std::invalid_argument("base64 length is not a multiple of 4");
  if (compact.empty()) return {};
  std::string out(compact.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(compact.data()),
                                static_cast<int>(compact.size()));
  if (n < 0) throw std::invalid_argument("malformed base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t padding = 0;
  if (compact.back() == '=') ++padding;
  if (compact.size() >= 2 && compact[compact.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::string decode_header_words(std::string_view value) {
  std::string out;
  std::size_t pos = 0;
  bool previous_was_word = false;
  while (pos < value.size()) {
    const std::size_t start = value.find("=?", pos);
    std::size_t charset_end = start == std::string_view::npos ? start : value.find('?', start + 2);
    std::size_t enc_end = charset_end == std::string_view::npos ? charset_end
                                                                : value.find('?', charset_end + 1);
    std::size_t end = enc_end == std::string_view::npos ? enc_end : value.find("?=", enc_end + 1);
    if (end == std::string_view::npos) {
      out += value.substr(pos);
      break;
    }
    const std::string_view between = value.substr(pos, start - pos);
    // Linear white space between two encoded words is not part of the text (RFC 2047 §6.2).
    if (!(previous_was_word && trim(between).empty())) out += between;
    const std::string_view encoding = value.substr(charset_end + 1, enc_end - charset_end - 1);
    const std::string_view payload = value.substr(enc_end + 1, end - enc_end - 1);
    if (iequal(encoding, "B")) out += base64_decode(payload);
    else if (iequal(encoding, "Q")) out += q_decode(payload);
    else out += value.substr(start, end + 2 - start);
    previous_was_word = true;
    pos = end + 2;
  }
  return out;
}

// --- MailMessage ------------------------------------------------------------------------------

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> MailMessage::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequal(n, name)) return v;
  return std::nullopt;
}

std::size_t MailMessage::header_count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(
      headers.begin(), headers.end(), [&](const auto& h) { return iequal(h.first, name); }));
}

std::string MailMessage::subject() const { return decode_header_words(header("Subject").value_or("")); }

std::string MailMessage::recipient() const {
  std::string to = header("To").value_or("");
  const std::size_t open = to.find('<');
  const std::size_t close = to.find('>', open == std::string::npos ? 0 : open);
  if (open != std::string::npos && close != std::string::npos)
    return to.substr(open + 1, close - open - 1);
  return std::string(trim(to));
}

std::string MailMessage::event_id() const {
  return std::string(trim(header("X-Orderflow-Event").value_or("")));
}

MailMessage parse_mail(std::string raw) {
  MailMessage m;
  std::string lf;
  lf.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i)
    if (!(raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n')) lf += raw[i];
  const Entity e = split_entity(lf);
  m.headers = e.headers;
  if (auto part = find_text_part(e)) {
    m.text = std::move(part->text);
    m.text_content_type = std::move(part->content_type);
    m.text_transfer_encoding = std::move(part->transfer_encoding);
  }
  m.raw = std::move(raw);
  return m;
}

std::vector<MailMessage> read_maildir(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    for (fs::directory_iterator it(dir / sub, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::vector<MailMessage> mails;
  for (const auto& f : files) {
    MailMessage m = parse_mail(slurp(f));
    m.file = f;
    mails.push_back(std::move(m));
  }
  return mails;
}

std::vector<MailMessage> wait_for_mail(
    const fs::path& dir, const std::function<bool(const std::vector<MailMessage>&)>& done,
    std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (true) {
    std::vector<MailMessage> mails = read_maildir(dir);
    if (done(mails) || std::chrono::steady_clock::now() >= deadline) return mails;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::vector<MailMessage> mails_to(const std::vector<MailMessage>& mails, std::string_view to,
                                  std::string_view event_id) {
  std::vector<MailMessage> out;
  for (const auto& m : mails)
    if (iequal(m.recipient(), to) && (event_id.empty() || m.event_id() == event_id))
      out.push_back(m);
  return out;
}

std::vector<MailMessage> confirmations_to(const std::vector<MailMessage>& mails,
                                          std::string_view to) {
  std::vector<MailMessage> out;
  for (const auto& m : mails_to(mails, to))
    if (!link_target(m, "/subscriptions/confirm").empty()) out.push_back(m);
  return out;
}

std::string link_target(const MailMessage& mail, std::string_view path) {
  const std::string& t = mail.text;
  std::size_t pos = 0;
  while ((pos = t.find("://", pos)) != std::string::npos) {
    std::size_t start = pos;
    while (start > 0 && std::isalpha(static_cast<unsigned char>(t[start - 1]))) --start;
    std::size_t end = pos + 3;
    while (end < t.size() && !std::isspace(static_cast<unsigned char>(t[end])) && t[end] != '>' &&
           t[end] != '"')
      ++end;
    const std::string target = path_and_query(std::string_view(t).substr(start, end - start));
    if (target.rfind(path, 0) == 0 &&
        (target.size() == path.size() || target[path.size()] == '?'))
      return target;
    pos = end;
  }
  return {};
}

std::string list_unsubscribe_target(const MailMessage& mail) {
  const std::string value = std::string(trim(mail.header("List-Unsubscribe").value_or("")));
  if (value.size() < 2 || value.front() != '<' || value.back() != '>') return {};
  return path_and_query(std::string_view(value).substr(1, value.size() - 2));
}

// --- ports and the SMTP sink ------------------------------------------------------------------

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    throw_errno("bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

SmtpSink::SmtpSink(fs::path work_dir, std::string listen_host)
    : work_dir_(std::move(work_dir)), maildir_(work_dir_ / "smtp-maildir"),
      listen_host_(std::move(listen_host)), port_(free_loopback_port()) {}

SmtpSink::~SmtpSink() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void SmtpSink::start() {
  if (running()) throw std::logic_error("SMTP sink already running");
  fs::create_directories(work_dir_);
  const fs::path log_path = work_dir_ / ("smtp-" + std::to_string(logs_.size() + 1) + ".log");
  logs_.push_back(log_path);

  std::vector<std::string> args = {kPython, "-m", "aiosmtpd", "-n", "-l",
                                   listen_host_ + ":" + std::to_string(port_), "-c",
                                   "aiosmtpd.handlers.Mailbox", maildir_.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw_errno("open " + log_path.string());
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) throw_errno("open /dev/null");

  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  ::close(null_fd);
  ::close(log_fd);
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (smtp_greets("127.0.0.1", port_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("aiosmtpd exited before listening; log:\n" + slurp(log_path));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  stop();
  throw std::runtime_error("aiosmtpd did not greet on port " + std::to_string(port_) +
                           " within 20 s; log:\n" + slurp(log_path));
}

void SmtpSink::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  pid_ = -1;
}

std::string SmtpSink::log() const {
  std::string all;
  for (const auto& p : logs_) all += "=== " + p.filename().string() + "\n" + slurp(p);
  return all;
}

}  // namespace orderflow::e2e
