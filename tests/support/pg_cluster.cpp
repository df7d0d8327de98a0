// tests/support/pg_cluster.cpp — initdb, pg_ctl and psql run as child processes with a chosen
// identity and environment; a detached watchdog cleans up after a killed test process.
#include "tests/support/pg_cluster.hpp"

#include "tests/support/subprocess.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace testsupport {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kPreferredBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kVersionsDir = "/usr/lib/postgresql";
constexpr const char* kServerUser = "nobody";
constexpr const char* kServerGroup = "nogroup";
constexpr uid_t kNobodyId = 65534;  // Debian's nobody and nogroup, if the names do not resolve
// The binaries the cluster runs; a directory lacking any of them is not a PostgreSQL installation.
constexpr const char* kRequiredBinaries[] = {"initdb", "pg_ctl", "postgres", "psql", "pg_isready"};
// pg_ctl's own wait (-t) for start and stop; our deadline on the pg_ctl process is longer.
constexpr int kPgCtlWaitSeconds = 60;
constexpr seconds kPgCtlDeadline{90};
constexpr seconds kInitdbDeadline{180};
constexpr seconds kAcceptingDeadline{60};
constexpr seconds kPsqlDeadline{120};
constexpr int kPortAttempts = 5;
constexpr std::size_t kLogTailBytes = 4096;

constexpr bool is_uri_unreserved(const char* text) {
  for (; *text; ++text) {
    const char c = *text;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}
static_assert(is_uri_unreserved(PgCluster::kPassword) && is_uri_unreserved(PgCluster::kUser),
              "uri() puts the user and password in as they are");

std::atomic<int> next_database_number{1};

// Who a child runs as: the current user, or (when we are root) the server account.
struct Identity {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Writes a fixed message in the forked child, where only async-signal-safe calls are allowed.
[[noreturn]] void child_fail(const char* message) {
  [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  ::_exit(127);
}

// In the forked child: drops to `identity` (supplementary groups first, uid last).
void become(const Identity& identity) {
  if (!identity.switch_user) return;
  if (::setgroups(0, nullptr) != 0) child_fail("pg_cluster: setgroups failed\n");
  if (::setgid(identity.gid) != 0) child_fail("pg_cluster: setgid failed\n");
  if (::setuid(identity.uid) != 0) child_fail("pg_cluster: setuid failed\n");
}

// Our environment less anything that steers libpq or the locale (PGHOST, PGPASSWORD, LANG, ...),
// plus LC_ALL=C and, for clients, PGPASSWORD: the password never goes on a command line.
std::vector<std::string> child_environment(bool with_password) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with("PG") || text.starts_with("LC_") || text.starts_with("LANG=") || text.starts_with("LANGUAGE="))
      continue;
    entries.emplace_back(text);
  }
  entries.emplace_back("LC_ALL=C");
  // No SSL or GSSAPI probes: the server offers neither, and a Kerberos setup can make the probe slow.
  entries.emplace_back("PGSSLMODE=disable");
  entries.emplace_back("PGGSSENCMODE=disable");
  entries.emplace_back("PGCONNECT_TIMEOUT=10");
  if (with_password) entries.emplace_back(std::string("PGPASSWORD=") + PgCluster::kPassword);
  return entries;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::string read_whole(int fd) {
  std::string text;
  ::lseek(fd, 0, SEEK_SET);
  char chunk[4096];
  for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;) text.append(chunk, static_cast<std::size_t>(n));
  return text;
}

// Runs argv (an absolute path first) as `identity` in `directory`, stdout and stderr captured in
// memory files (no pipe to fill, and a daemon that keeps them open cannot stall us), killed past
// `deadline`.
ProcessResult run(std::vector<std::string> argv, const Identity& identity, const std::string& directory,
                  bool with_password, milliseconds deadline) {
  std::vector<std::string> environment = child_environment(with_password);
  const std::vector<char*> arguments = pointers_to(argv);
  const std::vector<char*> environment_pointers = pointers_to(environment);
  const int out = ::memfd_create("pg-cluster-out", MFD_CLOEXEC);
  const int err = ::memfd_create("pg-cluster-err", MFD_CLOEXEC);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || err < 0 || in < 0) {
    for (const int fd : {out, err, in})
      if (fd >= 0) ::close(fd);
    throw std::runtime_error("PgCluster: cannot create output files: " + std::string(std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    // The server account cannot enter root's working directory; initdb and postgres complain.
    if (::chdir(directory.c_str()) != 0) child_fail("pg_cluster: chdir failed\n");
    become(identity);
    ::execve(arguments[0], arguments.data(), environment_pointers.data());
    child_fail("pg_cluster: exec failed\n");
  }
  ::close(in);
  ProcessResult result;
  if (pid < 0) {
    ::close(out);
    ::close(err);
    throw std::runtime_error("PgCluster: fork failed: " + std::string(std::strerror(errno)));
  }
  const auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  for (;;) {
    const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid || (reaped < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= until) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  result.out = read_whole(out);
  result.err = read_whole(err);
  ::close(out);
  ::close(err);
  return result;
}

std::string describe(const std::vector<std::string>& argv, const ProcessResult& result) {
  std::ostringstream text;
  text << fs::path(argv.front()).filename().string();
  for (std::size_t i = 1; i < argv.size(); ++i) text << ' ' << argv[i];
  if (result.timed_out) text << " timed out";
  else text << " exited with " << result.exit_code;
  std::string output = result.out + result.err;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  if (!output.empty()) text << ":\n" << output;
  return text.str();
}

bool is_executable(const fs::path& path) { return ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path); }

bool has_server_binaries(const fs::path& directory) {
  return std::all_of(std::begin(kRequiredBinaries), std::end(kRequiredBinaries),
                     [&](const char* name) { return is_executable(directory / name); });
}

std::optional<fs::path> find_on_path(const char* name) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::istringstream entries(path);
  for (std::string directory; std::getline(entries, directory, ':');) {
    if (directory.empty()) continue;
    const fs::path candidate = fs::path(directory) / name;
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

// /usr/lib/postgresql/15/bin, else what `pg_config --bindir` says, else the highest version under
// /usr/lib/postgresql; throws naming every place looked at.
std::string find_bin_dir() {
  std::vector<std::string> tried{kPreferredBinDir};
  if (has_server_binaries(kPreferredBinDir)) return kPreferredBinDir;
  if (const auto pg_config = find_on_path("pg_config")) {
    const auto result = run({pg_config->string(), "--bindir"}, Identity{}, "/", false, seconds(10));
    std::string directory = result.out.substr(0, result.out.find('\n'));
    if (result.exit_code == 0 && !directory.empty()) {
      if (has_server_binaries(directory)) return directory;
      tried.push_back(directory + " (pg_config --bindir)");
    }
  }
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kVersionsDir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }))
      continue;
    if (!has_server_binaries(entry.path() / "bin")) continue;
    best_version = std::max(best_version, std::stoi(name));
  }
  if (best_version >= 0) return (fs::path(kVersionsDir) / std::to_string(best_version) / "bin").string();
  tried.push_back(std::string(kVersionsDir) + "/*/bin");
  std::string message = "PgCluster: no PostgreSQL server binaries (initdb, pg_ctl, postgres, psql, pg_isready) in";
  for (const auto& place : tried) message += " " + place + ";";
  message += " run scripts/setup-deps.sh, which installs Debian's postgresql (PostgreSQL 15)";
  throw std::runtime_error(message);
}

Identity server_identity() {
  if (::geteuid() != 0) return Identity{};
  Identity identity{true, kNobodyId, kNobodyId};
  if (const passwd* user = ::getpwnam(kServerUser)) {
    identity.uid = user->pw_uid;
    identity.gid = user->pw_gid;
  }
  if (const group* server_group = ::getgrnam(kServerGroup)) identity.gid = server_group->gr_gid;
  return identity;
}

// A port nobody listens on right now (the kernel's pick for 127.0.0.1:0). Another process may take
// it before the server binds; the caller retries.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("PgCluster: socket failed: " + std::string(std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("PgCluster: cannot pick a loopback port: " + reason);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

void create_owned_file(const fs::path& path, const std::string& content, const Identity& owner) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("PgCluster: cannot create " + path.string() + ": " + std::strerror(errno));
  const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  const bool owned = !owner.switch_user || ::fchown(fd, owner.uid, owner.gid) == 0;
  ::close(fd);
  if (!written || !owned)
    throw std::runtime_error("PgCluster: cannot write or chown " + path.string() + ": " + std::strerror(errno));
}

void make_owned_directory(const fs::path& path, const Identity& owner) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("PgCluster: cannot create " + path.string() + ": " + std::strerror(errno));
  if (owner.switch_user && ::chown(path.c_str(), owner.uid, owner.gid) != 0)
    throw std::runtime_error("PgCluster: cannot chown " + path.string() + ": " + std::strerror(errno));
}

// The watchdog's script: a line "done" on stdin means the cluster was torn down by its owner;
// EOF without it means the owning process died, so stop the server at once and remove the directory.
constexpr const char* kWatchdogScript =
    "read -r line; [ \"$line\" = done ] && exit 0; dir=$1; shift; \"$@\" >/dev/null 2>&1; rm -rf -- \"$dir\"";

}  // namespace

PgCluster::PgCluster(Options options) : options_(options) {
  bin_dir_ = find_bin_dir();
  const Identity identity = server_identity();
  as_nobody_ = identity.switch_user;
  server_uid_ = identity.uid;
  server_gid_ = identity.gid;
  // /tmp itself, not TMPDIR: the server account must be able to reach the directory.
  std::string pattern = "/tmp/cjcrawl-pg-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error("PgCluster: cannot create /tmp/cjcrawl-pg-XXXXXX: " + std::string(std::strerror(errno)));
  directory_ = pattern;
  try {
    // Owned by the server account, so the watchdog (running as that account) can remove it.
    make_owned_directory(directory_, identity);
    start_watchdog();
    initialize_data_directory();
    bool started = false;
    for (int attempt = 0; attempt < kPortAttempts && !started; ++attempt) {
      port_ = free_loopback_port();
      started = try_start();
    }
    if (!started)
      throw std::runtime_error("PgCluster: every loopback port picked was taken before the server could bind it (" +
                               std::to_string(kPortAttempts) + " tries); server log:\n" + log_tail());
    wait_until_accepting();
  } catch (...) {
    tear_down();
    throw;
  }
}

PgCluster::~PgCluster() { tear_down(); }

void PgCluster::tear_down() noexcept {
  try {
    if (running()) {
      const Identity identity{as_nobody_, server_uid_, server_gid_};
      const auto result = run({bin_dir_ + "/pg_ctl", "stop", "-D", directory_ + "/data", "-m", "immediate", "-w", "-t",
                               std::to_string(kPgCtlWaitSeconds)},
                              identity, directory_, false, kPgCtlDeadline);
      // pg_ctl failed or hung: kill the postmaster; its children exit when they notice it gone.
      if (result.exit_code != 0) {
        std::ifstream pid_file(directory_ + "/data/postmaster.pid");
        pid_t pid = 0;
        if (pid_file >> pid && pid > 0) ::kill(pid, SIGKILL);
      }
    }
  } catch (...) {
    // Nothing more to do: the directory goes below, and the watchdog is told we are done.
  }
  std::error_code ec;
  if (!directory_.empty()) fs::remove_all(directory_, ec);
  if (watchdog_fd_ >= 0) {
    // MSG_NOSIGNAL: a watchdog killed by someone must not take us down with SIGPIPE.
    ::send(watchdog_fd_, "done\n", 5, MSG_NOSIGNAL);
    ::close(watchdog_fd_);
    watchdog_fd_ = -1;
  }
}

PgCluster& PgCluster::shared() {
  static PgCluster cluster;
  return cluster;
}

std::string PgCluster::uri(std::string_view database) const {
  return "postgresql://" + std::string(kUser) + ":" + kPassword + "@127.0.0.1:" + std::to_string(port_) + "/" +
         std::string(database);
}

std::string PgCluster::uri_without_password(std::string_view database) const {
  return "postgresql://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

std::string PgCluster::psql(std::string_view sql, std::string_view database) const {
  const std::vector<std::string> argv{
      bin_dir_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", uri_without_password(database), "-c",
      std::string(sql)};
  // The client runs as ourselves; only the server binaries refuse root.
  const auto result = run(argv, Identity{}, directory_, true, kPsqlDeadline);
  if (result.exit_code != 0 || result.timed_out) throw std::runtime_error("PgCluster: " + describe(argv, result));
  return result.out;
}

std::string PgCluster::create_database() {
  std::string name = "t" + std::to_string(next_database_number++);
  psql("CREATE DATABASE " + name);
  return name;
}

void PgCluster::stop(std::string_view mode) {
  if (mode != "smart" && mode != "fast" && mode != "immediate")
    throw std::invalid_argument("PgCluster::stop: mode must be smart, fast or immediate, not " + std::string(mode));
  if (!running()) return;
  const std::vector<std::string> argv{bin_dir_ + "/pg_ctl",
                                      "stop",
                                      "-D",
                                      directory_ + "/data",
                                      "-m",
                                      std::string(mode),
                                      "-w",
                                      "-t",
                                      std::to_string(kPgCtlWaitSeconds)};
  const auto result = run(argv, Identity{as_nobody_, server_uid_, server_gid_}, directory_, false, kPgCtlDeadline);
  if (result.exit_code != 0 || result.timed_out)
    throw std::runtime_error("PgCluster: " + describe(argv, result) + "\nserver log:\n" + log_tail());
}

void PgCluster::start() {
  if (running()) return;
  if (!try_start())
    throw std::runtime_error("PgCluster: port " + std::to_string(port_) +
                             " was taken while the server was stopped; server log:\n" + log_tail());
  wait_until_accepting();
}

bool PgCluster::running() const {
  // The postmaster removes postmaster.pid when it exits, even in immediate mode; a stale file after a
  // crash names a pid that is gone.
  std::ifstream pid_file(directory_ + "/data/postmaster.pid");
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

std::string PgCluster::log_tail() const {
  std::ifstream log(directory_ + "/server.log", std::ios::binary | std::ios::ate);
  if (!log) return "(no server log)";
  const std::streamoff size = log.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - static_cast<std::streamoff>(kLogTailBytes));
  log.seekg(from);
  std::string text(static_cast<std::size_t>(size - from), '\0');
  log.read(text.data(), static_cast<std::streamsize>(text.size()));
  // Start at a line boundary when the cut fell inside a line.
  if (from > 0) {
    const auto newline = text.find('\n');
    if (newline != std::string::npos) text.erase(0, newline + 1);
  }
  return text;
}

void PgCluster::initialize_data_directory() {
  const Identity identity{as_nobody_, server_uid_, server_gid_};
  const fs::path directory(directory_);
  make_owned_directory(directory / "data", identity);
  create_owned_file(directory / "server.log", "", identity);
  // initdb reads the superuser's password from a file; it lives only until initdb is done.
  const fs::path password_file = directory / "password";
  create_owned_file(password_file, std::string(kPassword) + "\n", identity);
  // --no-sync: a crash before the first checkpoint loses a throwaway cluster, durable or not; what
  // `durable` keeps is the server's own fsync behaviour, which benchmarks measure.
  const std::vector<std::string> argv{bin_dir_ + "/initdb",
                                      "-D",
                                      (directory / "data").string(),
                                      std::string("--username=") + kUser,
                                      "--pwfile=" + password_file.string(),
                                      "--auth=scram-sha-256",
                                      "--encoding=UTF8",
                                      "--locale=C",
                                      "--no-sync",
                                      "--no-instructions"};
  const auto result = run(argv, identity, directory_, false, kInitdbDeadline);
  std::error_code ec;
  fs::remove(password_file, ec);
  if (result.exit_code != 0 || result.timed_out) throw std::runtime_error("PgCluster: " + describe(argv, result));
  // Later settings win, so these override initdb's. No Unix socket: TCP on loopback with a password
  // is the only way in. The port is given on each start (-p), so a retry can pick another.
  std::ofstream conf(directory / "data" / "postgresql.conf", std::ios::app);
  conf << "\n# tests/support/pg_cluster.cpp\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = ''\n"
       << "max_connections = 200\n";
  if (!options_.durable) conf << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
  if (!conf.flush()) throw std::runtime_error("PgCluster: cannot append to " + directory_ + "/data/postgresql.conf");
}

bool PgCluster::try_start() {
  const std::uintmax_t log_size_before = fs::file_size(directory_ + "/server.log");
  const std::vector<std::string> argv{bin_dir_ + "/pg_ctl",
                                      "start",
                                      "-D",
                                      directory_ + "/data",
                                      "-l",
                                      directory_ + "/server.log",
                                      "-o",
                                      "-p " + std::to_string(port_),
                                      "-w",
                                      "-t",
                                      std::to_string(kPgCtlWaitSeconds)};
  const auto result = run(argv, Identity{as_nobody_, server_uid_, server_gid_}, directory_, false, kPgCtlDeadline);
  if (result.exit_code == 0 && !result.timed_out) return true;
  std::string log = log_tail();
  std::ifstream log_file(directory_ + "/server.log", std::ios::binary);
  log_file.seekg(static_cast<std::streamoff>(log_size_before));
  const std::string this_attempt{std::istreambuf_iterator<char>(log_file), std::istreambuf_iterator<char>()};
  // Someone took the port between our pick and the server's bind: the postmaster has exited.
  if (this_attempt.find("Address already in use") != std::string::npos && !running()) return false;
  throw std::runtime_error("PgCluster: " + describe(argv, result) + "\nserver log:\n" + log);
}

void PgCluster::wait_until_accepting() {
  // pg_ctl -w saw the server ready; pg_isready proves it over TCP, as the tests will connect.
  const std::vector<std::string> argv{bin_dir_ + "/pg_isready",
                                      "-h",
                                      "127.0.0.1",
                                      "-p",
                                      std::to_string(port_),
                                      "-U",
                                      kUser,
                                      "-d",
                                      "postgres",
                                      "-t",
                                      "5"};
  const auto until = std::chrono::steady_clock::now() + kAcceptingDeadline;
  for (;;) {
    const auto result = run(argv, Identity{}, directory_, false, seconds(15));
    if (result.exit_code == 0) return;
    if (std::chrono::steady_clock::now() >= until)
      throw std::runtime_error("PgCluster: the server does not accept connections: " + describe(argv, result) +
                               "\nserver log:\n" + log_tail());
    std::this_thread::sleep_for(milliseconds(100));
  }
}

void PgCluster::start_watchdog() {
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0)
    throw std::runtime_error("PgCluster: socketpair failed: " + std::string(std::strerror(errno)));
  const Identity identity{as_nobody_, server_uid_, server_gid_};
  std::vector<std::string> argv{"/bin/sh",
                                "-c",
                                kWatchdogScript,
                                "cjcrawl-pg-watchdog",
                                directory_,
                                bin_dir_ + "/pg_ctl",
                                "stop",
                                "-D",
                                directory_ + "/data",
                                "-m",
                                "immediate",
                                "-w",
                                "-t",
                                std::to_string(kPgCtlWaitSeconds)};
  std::vector<std::string> environment = child_environment(false);
  const std::vector<char*> arguments = pointers_to(argv);
  const std::vector<char*> environment_pointers = pointers_to(environment);
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // A new session and a second fork: the watchdog is no descendant of ours, so neither a Ctrl-C
    // to our process group nor a runner killing our process tree (CTest's timeout) reaches it.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    ::dup2(sockets[0], STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
    ::close(sockets[1]);
    if (::chdir("/") != 0) child_fail("pg_cluster: chdir failed\n");
    become(identity);
    ::execve(arguments[0], arguments.data(), environment_pointers.data());
    child_fail("pg_cluster: exec failed\n");
  }
  ::close(sockets[0]);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) {
    ::close(sockets[1]);
    throw std::runtime_error("PgCluster: fork failed: " + std::string(std::strerror(errno)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  watchdog_fd_ = sockets[1];
}

}  // namespace testsupport
