// cdp/chrome_process.hpp — finding, launching (sandboxed) and tearing down one headless Chrome.
//
// A `ChromeProcess` owns the process group, its temporary profile and its stderr pipe. Destroying it
// never throws and never leaks: SIGTERM to the group, a grace period, SIGKILL, waitpid, then the
// profile is removed. Chrome keeps its sandbox; as root it runs as an unprivileged user instead.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "cdp/egress_proxy.hpp"
#include "util/status.hpp"

namespace cdp {

namespace asio = boost::asio;

// Temporary profiles are named kProfilePrefix + "<owner pid>-XXXXXX" in the temp directory, so the
// next start can remove those whose owner died (kill -9).
inline constexpr std::string_view kProfilePrefix = "cjcrawl-profile-";

struct LaunchOptions {
  std::filesystem::path chrome;         // the binary (see find_chrome)
  std::vector<std::string> extra_args;  // validated with check_chrome_arg
  bool unsafe_no_sandbox = false;       // only from --unsafe-no-sandbox
  std::string chrome_user = "nobody";   // who Chrome runs as when cjcrawl is root
  std::chrono::milliseconds startup_timeout{20'000};
  // What pages may reach (Browser::launch runs the egress proxy with it).
  EgressPolicy egress;
  // false only from --unsafe-no-egress-guard: no proxy; pages reach whatever the machine can, and the
  // host rules go to Chrome's own resolver instead.
  bool egress_guard = true;
  // The egress proxy's port on 127.0.0.1, set by Browser::launch: Chrome is launched to send every
  // connection through it. 0 (a ChromeProcess launched alone, in tests): no proxy.
  std::uint16_t proxy_port = 0;
};

// --chrome PATH, then $CJCRAWL_CHROME, then the real Debian binary, then wrappers and other names.
// Returns the first executable candidate, or nullopt with the list of places tried in `tried`.
std::optional<std::filesystem::path> find_chrome(const std::optional<std::filesystem::path>& flag,
                                                 std::vector<std::string>* tried = nullptr);

// Flags cjcrawl must own (sandbox, DevTools endpoint, profile) are refused: returns why, or nullopt.
std::optional<std::string> check_chrome_arg(std::string_view arg);

// Where temporary profiles go: $CJCRAWL_PROFILE_ROOT if set; else /dev/shm when it is a writable
// tmpfs; else the temp directory. Memory, not disk, by default: a profile lives for one browser, and
// deleting its hundreds of files from a disk filesystem (ext4 with discard, measured) was most of
// cjcrawl's own CPU per site.
std::filesystem::path profile_root();

// Removes temporary profiles whose owning cjcrawl process no longer exists, from profile_root() and
// the temp directory. Returns how many.
int remove_orphaned_profiles();

// What a renderer process hosts, from /proc/PID/cmdline (Chrome runs on this machine):
//   browser_ui  Chrome's own WebUI (`--top-chrome-webui`: in new headless mode the omnibox popup and
//               other browser UI), which no web page can run in; its CPU is Chrome's work.
//   web         any other renderer (`--type=renderer` without that flag).
//   unknown     unreadable, or not (yet) a renderer's command line: a process just forked from the
//               zygote may not have it; ask again later.
enum class RendererKind { unknown, web, browser_ui };
RendererKind renderer_kind(std::int64_t pid);

class ChromeProcess {
 public:
  // Starts Chrome and waits (under options.startup_timeout) for its DevTools URL on stderr.
  // On failure (`browser_start`) the message says what happened, with Chrome's last stderr lines.
  // A sandboxed launch first asks (once per process) whether user namespaces are allowed, which
  // Chrome's sandbox needs, and fails saying so, and what to change, before starting anything.
  static asio::awaitable<util::Result<std::unique_ptr<ChromeProcess>>> launch(const LaunchOptions& options);

  ~ChromeProcess();  // terminate()
  ChromeProcess(const ChromeProcess&) = delete;
  ChromeProcess& operator=(const ChromeProcess&) = delete;

  const std::string& devtools_url() const noexcept { return devtools_url_; }
  pid_t pid() const noexcept { return pid_; }
  const std::filesystem::path& profile_dir() const noexcept { return profile_dir_; }
  bool sandboxed() const noexcept { return sandboxed_; }

  // True once the browser process has exited (reaps it if so).
  bool exited() noexcept;
  // Waits up to `grace` for the browser to exit by itself (after Browser.close).
  asio::awaitable<bool> wait_exit(std::chrono::milliseconds grace);
  // SIGTERM to the process group, grace, SIGKILL, waitpid, remove the profile. Idempotent, never throws.
  void terminate() noexcept;
  // The last lines Chrome wrote to stderr (bounded), for diagnostics.
  std::vector<std::string> last_stderr_lines() const;

  struct StderrPipe;  // shared with the draining coroutine, which may outlive this object briefly

 private:
  ChromeProcess() = default;
  // Reads stderr until the DevTools URL or the startup deadline; on failure, terminates Chrome and
  // returns why.
  boost::asio::awaitable<std::optional<std::string>> await_devtools_url(const LaunchOptions& options);

  pid_t pid_ = -1;
  bool reaped_ = false;
  bool sandboxed_ = true;
  std::filesystem::path profile_dir_;
  std::string devtools_url_;
  std::shared_ptr<StderrPipe> stderr_;
};

}  // namespace cdp
