// cdp/chrome_process.cpp — launch headless Chrome sandboxed (as an unprivileged user when root),
// read its DevTools URL, keep draining its stderr, and tear it down without leaks.
#include "cdp/chrome_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/proc.hpp"

namespace cdp {
namespace {

namespace fs = std::filesystem;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kStderrLinesKept = 30;
constexpr std::size_t kStderrLineMaxBytes = 600;
constexpr std::chrono::milliseconds kTerminateGrace{2'000};
constexpr std::string_view kDevToolsBanner = "DevTools listening on ";

// Flags that would weaken the sandbox or take over what cjcrawl owns.
constexpr std::array<std::string_view, 6> kRefusedFlags{"--no-sandbox",        "--disable-setuid-sandbox",
                                                        "--remote-debugging-", "--user-data-dir",
                                                        "--single-process",    "--no-zygote"};

// Flags that would route around the egress guard (cdp/egress_proxy) or undo its settings.
constexpr std::array<std::string_view, 6> kEgressFlags{"--proxy-",
                                                       "--no-proxy-server",
                                                       "--webrtc-ip-handling-policy",
                                                       "--force-webrtc-ip-handling-policy",
                                                       "--host-resolver-rules",
                                                       "--enable-quic"};

// Always passed. Background networking flags keep Chrome from calling home (CDP-NOTES: on a closed
// network those attempts fail and retry); the rest keep a fresh profile quiet and deterministic.
// Deliberately absent: --enable-automation (it sets navigator.webdriver, which some miners check).
// --disable-popup-blocking: pop-unders are a miner hiding place, and headless Chrome 156 blocks a
// window.open without a user gesture; we want to see every window a page tries to open.
constexpr std::array<std::string_view, 14> kBaseFlags{
    "--headless",
    "--remote-debugging-port=0",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-breakpad",
    "--mute-audio",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--disable-popup-blocking",
};

bool is_executable(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

std::optional<fs::path> search_path(std::string_view name) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::string_view rest(path);
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    if (!dir.empty()) {
      fs::path candidate = fs::path(dir) / name;
      if (is_executable(candidate)) return candidate;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

// The unprivileged account Chrome runs as when cjcrawl is root, resolved before fork (getpwnam and
// getgrouplist are not async-signal-safe).
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

std::optional<Identity> lookup_identity(const std::string& user, std::string& error) {
  std::array<char, 16384> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    error =
        fmt::format("--chrome-user {}: no such user (create one, e.g. `useradd -r cjcrawl`, or pick another)", user);
    return std::nullopt;
  }
  if (found->pw_uid == 0) {
    error = fmt::format("--chrome-user {} is root; Chrome refuses to sandbox as root. Use an unprivileged user.", user);
    return std::nullopt;
  }
  Identity identity{found->pw_uid, found->pw_gid, {}};
  int count = 64;
  identity.groups.resize(static_cast<std::size_t>(count));
  if (::getgrouplist(user.c_str(), found->pw_gid, identity.groups.data(), &count) < 0) {
    identity.groups.resize(static_cast<std::size_t>(count));
    ::getgrouplist(user.c_str(), found->pw_gid, identity.groups.data(), &count);
  }
  identity.groups.resize(static_cast<std::size_t>(std::max(count, 0)));
  return identity;
}

// Writes a fixed message in the forked child, where only async-signal-safe calls are allowed.
[[noreturn]] void child_fail(const char* message) {
  [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  ::_exit(127);
}

}  // namespace

struct ChromeProcess::StderrPipe {
  explicit StderrPipe(asio::posix::stream_descriptor descriptor) : fd(std::move(descriptor)) {}
  asio::posix::stream_descriptor fd;
  std::deque<std::string> last_lines;
  std::string partial;
  bool eof = false;

  // Splits what was read into lines, keeps the last few, and returns the DevTools URL if one appeared.
  std::optional<std::string> take(std::string_view chunk) {
    std::optional<std::string> url;
    partial.append(chunk);
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = partial.substr(start, std::min(nl - start, kStderrLineMaxBytes));
      if (const auto at = line.find(kDevToolsBanner); at != std::string::npos)
        url = line.substr(at + kDevToolsBanner.size());
      last_lines.push_back(std::move(line));
      if (last_lines.size() > kStderrLinesKept) last_lines.pop_front();
    }
    partial.erase(0, start);
    // A line longer than we care about: drop its middle rather than grow.
    if (partial.size() > kStderrLineMaxBytes) partial.resize(kStderrLineMaxBytes);
    return url;
  }
};

namespace {

// Keeps reading Chrome's stderr until EOF or close: a full pipe would stall Chrome.
asio::awaitable<void> drain_stderr(std::shared_ptr<ChromeProcess::StderrPipe> pipe) {
  std::array<char, 4096> chunk{};
  for (;;) {
    auto [ec, n] = co_await pipe->fd.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) break;
    pipe->take(std::string_view(chunk.data(), n));
  }
  pipe->eof = true;
}

// Reads stderr until the DevTools banner appears or the pipe closes (Chrome died).
asio::awaitable<std::optional<std::string>> read_devtools_url(std::shared_ptr<ChromeProcess::StderrPipe> pipe) {
  std::array<char, 4096> chunk{};
  for (;;) {
    auto [ec, n] = co_await pipe->fd.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) {
      pipe->eof = true;
      co_return std::nullopt;
    }
    if (auto url = pipe->take(std::string_view(chunk.data(), n))) co_return url;
  }
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "\n    " + line;
  return out;
}

}  // namespace

std::optional<fs::path> find_chrome(const std::optional<fs::path>& flag, std::vector<std::string>* tried) {
  auto note = [&](const std::string& what) {
    if (tried) tried->push_back(what);
  };
  if (flag) {
    note("--chrome " + flag->string());
    return is_executable(*flag) ? flag : std::nullopt;  // an explicit choice is never second-guessed
  }
  if (const char* env = std::getenv("CJCRAWL_CHROME"); env && *env) {
    note(std::string("$CJCRAWL_CHROME=") + env);
    return is_executable(env) ? std::optional<fs::path>(env) : std::nullopt;
  }
  // The real binary first: /usr/bin/chromium is a wrapper that loads extensions from /etc/chromium.d,
  // and an ad-blocking extension would hide exactly the miners we look for.
  for (const char* candidate : {"/usr/lib/chromium/chromium", "/usr/bin/chromium"}) {
    note(candidate);
    if (is_executable(candidate)) return fs::path(candidate);
  }
  for (const char* name : {"google-chrome", "google-chrome-stable", "chromium-browser", "chromium"}) {
    note(std::string(name) + " on $PATH");
    if (auto found = search_path(name)) return found;
  }
  return std::nullopt;
}

std::optional<std::string> check_chrome_arg(std::string_view arg) {
  if (!arg.starts_with("--")) return fmt::format("--chrome-arg {}: expected a flag starting with --", arg);
  for (auto refused : kRefusedFlags) {
    if (arg.starts_with(refused)) {
      if (refused == "--no-sandbox" || refused == "--disable-setuid-sandbox" || refused == "--no-zygote" ||
          refused == "--single-process")
        return fmt::format(
            "--chrome-arg {}: refused; cjcrawl keeps Chrome's sandbox (use --unsafe-no-sandbox "
            "to opt out explicitly)",
            arg);
      return fmt::format("--chrome-arg {}: refused; cjcrawl manages the DevTools endpoint and the profile itself", arg);
    }
  }
  for (auto refused : kEgressFlags)
    if (arg.starts_with(refused))
      return fmt::format(
          "--chrome-arg {}: refused; cjcrawl routes every page through its egress guard (open exceptions with "
          "--allow-network; map names with cjcrawl's own --host-resolver-rules)",
          arg);
  return std::nullopt;
}

fs::path profile_root() {
  if (const char* root = std::getenv("CJCRAWL_PROFILE_ROOT"); root && *root) return root;
  struct statfs info {};
  if (::statfs("/dev/shm", &info) == 0 && info.f_type == TMPFS_MAGIC && ::access("/dev/shm", W_OK | X_OK) == 0)
    return "/dev/shm";
  std::error_code ec;
  const fs::path temp = fs::temp_directory_path(ec);
  return ec ? fs::path("/tmp") : temp;
}

int remove_orphaned_profiles() {
  std::vector<fs::path> roots{profile_root()};
  std::error_code temp_ec;
  const fs::path temp = fs::temp_directory_path(temp_ec);
  if (!temp_ec && temp != roots.front()) roots.push_back(temp);  // where older cjcrawls put them
  int removed = 0;
  for (const auto& root : roots) {
    std::error_code ec;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.starts_with(kProfilePrefix)) continue;
      const std::string rest = name.substr(kProfilePrefix.size());
      const pid_t owner = static_cast<pid_t>(std::atol(rest.c_str()));
      if (owner <= 0 || owner == ::getpid()) continue;
      if (::kill(owner, 0) == 0 || errno != ESRCH) continue;  // owner alive (or not ours to judge)
      std::error_code remove_ec;
      fs::remove_all(it->path(), remove_ec);
      if (!remove_ec) ++removed;
    }
  }
  return removed;
}

RendererKind renderer_kind(std::int64_t pid) {
  constexpr std::string_view kWebUiFlag = "--top-chrome-webui";
  constexpr std::string_view kRendererFlag = "--type=renderer";
  if (pid <= 0) return RendererKind::unknown;
  const std::string cmdline = util::proc::command_line(pid);
  // Match whole flags, not a prefix of another one. Chrome rewrites the command line of the
  // processes its zygote forks (setproctitle): their arguments are separated by spaces, not NULs.
  bool renderer = false;
  for (std::size_t start = 0; start < cmdline.size();) {
    const std::size_t end = std::min(cmdline.find_first_of(std::string_view(" \0", 2), start), cmdline.size());
    const auto arg = std::string_view(cmdline).substr(start, end - start);
    if (arg == kWebUiFlag) return RendererKind::browser_ui;
    renderer = renderer || arg == kRendererFlag;
    start = end + 1;
  }
  return renderer ? RendererKind::web : RendererKind::unknown;
}

namespace {

// Step 1, for a sandboxed Chrome: Debian's chromium has no setuid helper, so its sandbox needs
// unprivileged user namespaces. When a container's seccomp profile, `user.max_user_namespaces=0` or
// AppArmor refuses them, Chrome dies saying "No usable sandbox!" and suggests a package that would not
// help; this says why, before anything is started. Asked once per process, in a forked child: a
// multithreaded process cannot unshare(CLONE_NEWUSER) (EINVAL), and the child takes its namespace with
// it. As root the probe runs as root, not as --chrome-user: root with CAP_SYS_ADMIN may pass where
// Chrome's user would not, and Chrome then fails with its own message (root containers are out of
// scope). Returns why the kernel refused, or nullopt when allowed or when the probe itself failed.
std::optional<std::string> user_namespaces_refused() {
  static const std::optional<std::string> refused = []() -> std::optional<std::string> {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : errno);  // async-signal-safe only
    if (child < 0) {
      spdlog::warn("cannot probe for user namespaces (fork: {}); launching Chrome anyway", std::strerror(errno));
      return std::nullopt;
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0)
      if (errno != EINTR) return std::nullopt;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
    if (WIFEXITED(status)) return fmt::format("unshare(CLONE_NEWUSER): {}", std::strerror(WEXITSTATUS(status)));
    return fmt::format("unshare(CLONE_NEWUSER) killed the process: {}", ::strsignal(WTERMSIG(status)));
  }();
  return refused;
}

// Step 2: a fresh profile, named after us so an orphan can be recognised, owned by Chrome's user.
// Its `home` and `data` folders; an error message on failure.
std::optional<std::string> make_profile(const fs::path& profile, const std::optional<Identity>& identity,
                                        const std::string& chrome_user, fs::path& home, fs::path& data) {
  std::error_code ec;
  home = profile / "home";
  data = profile / "data";
  fs::create_directories(home, ec);
  fs::create_directories(data, ec);
  if (ec) return fmt::format("cannot create {}: {}", data.string(), ec.message());
  if (identity) {
    for (const fs::path& dir : {profile, home, data})
      if (::chown(dir.c_str(), identity->uid, identity->gid) != 0)
        return fmt::format("cannot hand {} to --chrome-user {}: {}", dir.string(), chrome_user, std::strerror(errno));
  }
  return std::nullopt;
}

// Step 3: argv and a minimal environment, built before fork (the child may only exec them).
struct CommandLine {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;  // pointers into args, then null
  std::vector<char*> envp;  // pointers into env, then null
};

void build_command_line(CommandLine& command, const LaunchOptions& options, const fs::path& home,
                        const fs::path& data) {
  command.args = {options.chrome.string()};
  for (auto flag : kBaseFlags) command.args.emplace_back(flag);
  command.args.push_back("--user-data-dir=" + data.string());
  if (options.unsafe_no_sandbox) command.args.emplace_back("--no-sandbox");
  for (const auto& arg : options.extra_args) command.args.push_back(arg);
  if (options.proxy_port != 0) {
    // The egress guard (cdp/egress_proxy.hpp): every connection through our SOCKS5 proxy, loopback
    // and link-local too (`<-loopback>` removes Chrome's implicit bypass of them); Chrome resolves
    // nothing itself (the proxy does, and checks what it connects to); WebRTC uses no UDP outside the
    // proxy, which means none (Chrome reads the first switch, content and the old headless shell the
    // second); QUIC is never used through a proxy, and is off besides.
    command.args.push_back(fmt::format("--proxy-server=socks5://127.0.0.1:{}", options.proxy_port));
    command.args.emplace_back("--proxy-bypass-list=<-loopback>");
    command.args.emplace_back("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1");
    command.args.emplace_back("--webrtc-ip-handling-policy=disable_non_proxied_udp");
    command.args.emplace_back("--force-webrtc-ip-handling-policy=disable_non_proxied_udp");
    command.args.emplace_back("--disable-quic");
  } else if (!options.egress.host_rules.empty()) {
    // No proxy (--unsafe-no-egress-guard): Chrome's own resolver applies the host rules.
    command.args.push_back("--host-resolver-rules=" + options.egress.host_rules.to_string());
  }
  command.args.emplace_back("about:blank");
  command.env = {"HOME=" + home.string(), "PATH=/usr/local/bin:/usr/bin:/bin",
                 "XDG_CONFIG_HOME=" + (home / ".config").string(), "XDG_CACHE_HOME=" + (home / ".cache").string(),
                 "LANG=C.UTF-8"};
  if (const char* tz = std::getenv("TZ")) command.env.push_back(std::string("TZ=") + tz);
  for (auto& arg : command.args) command.argv.push_back(arg.data());
  command.argv.push_back(nullptr);
  for (auto& item : command.env) command.envp.push_back(item.data());
  command.envp.push_back(nullptr);
}

// Step 4, in the child. The order matters: groups, gid, uid, then the death signal (a credential
// change clears it), then check the parent is still there, then exec. Never returns.
[[noreturn]] void exec_chrome(const CommandLine& command, const std::optional<Identity>& identity, int stderr_fd,
                              int devnull, pid_t parent) {
  ::setpgid(0, 0);
  if (devnull >= 0) {
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(devnull, STDOUT_FILENO);
  }
  ::dup2(stderr_fd, STDERR_FILENO);
  ::close_range(3, ~0U, 0);
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  if (identity) {
    if (::setgroups(identity->groups.size(), identity->groups.data()) != 0) child_fail("cjcrawl: setgroups failed\n");
    if (::setgid(identity->gid) != 0) child_fail("cjcrawl: setgid failed\n");
    if (::setuid(identity->uid) != 0) child_fail("cjcrawl: setuid failed\n");
    if (::getuid() != identity->uid || ::geteuid() != identity->uid) child_fail("cjcrawl: privileges not dropped\n");
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);
  ::execve(command.argv[0], command.argv.data(), command.envp.data());
  child_fail("cjcrawl: exec of Chrome failed\n");
}

struct Spawned {
  pid_t pid = -1;
  int stderr_fd = -1;  // the read end of Chrome's stderr
};

// Step 4, in the parent: fork and exec, Chrome's stderr on a pipe of ours.
util::Result<Spawned> spawn_chrome(const CommandLine& command, const std::optional<Identity>& identity) {
  auto fail = [](std::string message) {
    return util::make_error(util::ErrorCode::browser_start, "launch", std::move(message));
  };
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail(fmt::format("pipe: {}", std::strerror(errno)));
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_chrome(command, identity, pipe_fds[1], devnull, parent);
  ::close(pipe_fds[1]);
  if (devnull >= 0) ::close(devnull);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    return fail(fmt::format("fork: {}", std::strerror(errno)));
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before we might signal it
  return Spawned{pid, pipe_fds[0]};
}

}  // namespace

asio::awaitable<util::Result<std::unique_ptr<ChromeProcess>>> ChromeProcess::launch(const LaunchOptions& options) {
  auto fail = [&](std::string message) {
    return util::make_error(util::ErrorCode::browser_start, "launch", std::move(message));
  };
  for (const auto& arg : options.extra_args)
    if (auto why = check_chrome_arg(arg)) co_return fail(*why);

  // Step 1: can Chrome have its sandbox here, and who does it run as. Root keeps the sandbox by dropping
  // to an unprivileged user.
  if (!options.unsafe_no_sandbox)
    if (auto why = user_namespaces_refused())
      co_return fail(fmt::format(
          "Chrome's sandbox needs unprivileged user namespaces, which this environment refuses ({}): allow them "
          "(seccomp profile, sysctl user.max_user_namespaces, AppArmor; see deploy/README.md), or run with "
          "--unsafe-no-sandbox",
          *why));
  const bool drop_privileges = ::geteuid() == 0 && !options.unsafe_no_sandbox;
  std::optional<Identity> identity;
  if (drop_privileges) {
    std::string error;
    identity = lookup_identity(options.chrome_user, error);
    if (!identity) co_return fail(error);
  }

  // Steps 2 and 3: the profile, the command line.
  std::unique_ptr<ChromeProcess> process(new ChromeProcess());
  process->sandboxed_ = !options.unsafe_no_sandbox;
  std::string pattern = (profile_root() / fmt::format("{}{}-XXXXXX", kProfilePrefix, ::getpid())).string();
  if (!::mkdtemp(pattern.data()))
    co_return fail(fmt::format("cannot create a profile directory: {}", std::strerror(errno)));
  process->profile_dir_ = pattern;
  fs::path home;
  fs::path data;
  if (auto problem = make_profile(process->profile_dir_, identity, options.chrome_user, home, data))
    co_return fail(*problem);
  CommandLine command;
  build_command_line(command, options, home, data);

  // Step 4: fork and exec.
  auto spawned = spawn_chrome(command, identity);
  if (!spawned) co_return spawned.error();
  process->pid_ = spawned->pid;
  auto executor = co_await asio::this_coro::executor;
  process->stderr_ = std::make_shared<StderrPipe>(asio::posix::stream_descriptor(executor, spawned->stderr_fd));

  // Step 5: wait for the DevTools banner under the startup deadline.
  if (auto failed = co_await process->await_devtools_url(options)) co_return fail(*failed);

  // Step 6: keep draining stderr for Chrome's whole life; the pipe is shared with the drainer.
  asio::co_spawn(executor, drain_stderr(process->stderr_), [](std::exception_ptr) {});
  co_return std::move(process);
}

asio::awaitable<std::optional<std::string>> ChromeProcess::await_devtools_url(const LaunchOptions& options) {
  asio::steady_timer deadline(co_await asio::this_coro::executor);
  deadline.expires_after(options.startup_timeout);
  using namespace asio::experimental::awaitable_operators;
  auto outcome = co_await (read_devtools_url(stderr_) || deadline.async_wait(kNoThrow));
  if (outcome.index() == 1 || !std::get<0>(outcome)) {
    const bool timed_out = outcome.index() == 1;
    const auto lines = last_stderr_lines();
    terminate();
    co_return fmt::format(
        "Chrome ({}) {} without printing its DevTools URL. Last stderr lines:{}", options.chrome.string(),
        timed_out ? fmt::format("did not start within {} ms", options.startup_timeout.count()) : std::string("exited"),
        join_lines(lines));
  }
  devtools_url_ = *std::get<0>(outcome);
  while (!devtools_url_.empty() && std::isspace(static_cast<unsigned char>(devtools_url_.back())))
    devtools_url_.pop_back();
  co_return std::nullopt;
}

ChromeProcess::~ChromeProcess() { terminate(); }

bool ChromeProcess::exited() noexcept {
  if (pid_ <= 0 || reaped_) return true;
  int status = 0;
  const pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result == pid_ || (result < 0 && errno == ECHILD)) reaped_ = true;
  return reaped_;
}

asio::awaitable<bool> ChromeProcess::wait_exit(std::chrono::milliseconds grace) {
  asio::steady_timer poll(co_await asio::this_coro::executor);
  const auto until = std::chrono::steady_clock::now() + grace;
  while (!exited()) {
    if (std::chrono::steady_clock::now() >= until) co_return false;
    poll.expires_after(std::chrono::milliseconds(25));
    co_await poll.async_wait(kNoThrow);
  }
  co_return true;
}

void ChromeProcess::terminate() noexcept {
  try {
    if (pid_ > 0) {
      if (!exited()) {
        ::kill(-pid_, SIGTERM);
        const auto until = std::chrono::steady_clock::now() + kTerminateGrace;
        while (!exited() && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (!exited()) {
          ::kill(-pid_, SIGKILL);
          int status = 0;
          while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
          }
          reaped_ = true;
        }
      }
      // Renderers and the zygote share the group; none may outlive the browser.
      ::kill(-pid_, SIGKILL);
      pid_ = -1;
    }
    if (stderr_) {
      boost::system::error_code ignored;
      stderr_->fd.close(ignored);
      stderr_.reset();
    }
    if (!profile_dir_.empty()) {
      std::error_code ec;
      fs::remove_all(profile_dir_, ec);
      if (ec) {  // a dying renderer may still have had a file open: one retry
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        fs::remove_all(profile_dir_, ec);
      }
      if (ec) spdlog::warn("could not remove Chrome profile {}: {}", profile_dir_.string(), ec.message());
      profile_dir_.clear();
    }
  } catch (...) {
    // Teardown never throws; anything left over is removed by remove_orphaned_profiles next start.
  }
}

std::vector<std::string> ChromeProcess::last_stderr_lines() const {
  if (!stderr_) return {};
  return {stderr_->last_lines.begin(), stderr_->last_lines.end()};
}

}  // namespace cdp
