#include "e2e/postgres_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

extern char** environ;

namespace orderflow::e2e {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::string script_path() {
  return (fs::path(ORDERFLOW_SOURCE_DIR) / "scripts" / "postgres-server.sh").string();
}

// `url` with its database (the last path segment) replaced by `database`.
std::string with_database(std::string_view url, std::string_view database) {
  const std::size_t query = url.find('?');
  const std::string_view base = url.substr(0, query);
  const std::size_t authority = base.find("://");
  const std::size_t slash = base.find('/', authority == std::string_view::npos ? 0 : authority + 3);
  std::string out(base.substr(0, slash));
  out += "/";
  out += database;
  if (query != std::string_view::npos) out += url.substr(query);
  return out;
}

struct CommandResult {
  int exit_code = -1;  // 128 + signal when it died of one
  std::string output;  // stdout and stderr together
};

// Runs argv[0] (looked up in PATH) from "/" with our environment, to completion.
CommandResult run_command(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // runuser'd tools must be able to stat their working directory.
  posix_spawn_file_actions_addchdir_np(&actions, "/");

  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    throw_errno(spawned, "posix_spawnp " + argv[0]);
  }
  CommandResult result;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0)
      result.output.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  return result;
}

}  // namespace

std::optional<std::string> test_postgres_url() { return test_support::postgres_admin_url(); }

bool e2e_store_is_postgres() {
  const char* store = std::getenv("ORDERFLOW_E2E_STORE");
  return store != nullptr && std::string_view(store) == "postgres";
}

// --- PostgresDatabase -------------------------------------------------------------------------

PostgresDatabase::PostgresDatabase() : shared_(test_support::PostgresTestDatabase::create()) {
  if (!shared_)
    throw std::runtime_error(
        "ORDERFLOW_TEST_POSTGRES is not set (scripts/test.sh starts a PostgreSQL and sets it; by "
        "hand: scripts/postgres-server.sh start DIR fast)");
  url_ = shared_->url();
}

PostgresDatabase::PostgresDatabase(const std::string& admin_url, const std::string& name)
    : url_(with_database(admin_url, name)) {
  (void)test_support::postgres_query_text(admin_url, "CREATE DATABASE \"" + name + "\"");
}

// --- PrivatePostgres --------------------------------------------------------------------------

PrivatePostgres::PrivatePostgres() {
  const CommandResult r =
      run_command({"bash", script_path(), "start", dir_.path().string(), "fast"});
  const std::size_t at = r.output.rfind("postgresql://");
  if (r.exit_code != 0 || at == std::string::npos)
    throw std::runtime_error("postgres-server.sh start failed (" + std::to_string(r.exit_code) +
                             "): " + r.output + "\n" + log());
  admin_url_ = trimmed(r.output.substr(at));
  port_ = trimmed(slurp(dir_.path() / "port"));
  running_ = true;
}

PrivatePostgres::~PrivatePostgres() {
  if (running_) (void)run_command({"bash", script_path(), "stop", dir_.path().string()});
}

void PrivatePostgres::stop() {
  const CommandResult r = run_command({"bash", script_path(), "stop", dir_.path().string()});
  if (r.exit_code != 0) throw std::runtime_error("postgres-server.sh stop failed: " + r.output);
  running_ = false;
}

void PrivatePostgres::start() {
  // The options of `postgres-server.sh start DIR fast`, on the port it chose the first time.
  const char* pgbin = std::getenv("PGBIN");
  const std::string pg_ctl =
      std::string(pgbin != nullptr ? pgbin : "/usr/lib/postgresql/15/bin") + "/pg_ctl";
  const std::string dir = dir_.path().string();
  const std::string options = "-c listen_addresses=127.0.0.1 -k " + dir +
                              " -c max_connections=300 -c shared_buffers=64MB -c fsync=off"
                              " -c full_page_writes=off -c synchronous_commit=off -p " +
                              port_;
  std::vector<std::string> argv;
  if (::geteuid() == 0) argv = {"runuser", "-u", "postgres", "--"};
  for (const std::string& a : {pg_ctl, std::string("-D"), dir + "/data", std::string("-l"),
                               dir + "/server.log", std::string("-w"), std::string("-t"),
                               std::string("30"), std::string("-o"), options, std::string("start")})
    argv.push_back(a);
  const CommandResult r = run_command(argv);
  if (r.exit_code != 0)
    throw std::runtime_error("pg_ctl start failed (" + std::to_string(r.exit_code) +
                             "): " + r.output + "\n" + log());
  running_ = true;
}

std::string PrivatePostgres::log() const { return slurp(dir_.path() / "server.log"); }

}  // namespace orderflow::e2e
