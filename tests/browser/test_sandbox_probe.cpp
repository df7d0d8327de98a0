// tests/browser/test_sandbox_probe.cpp — where user namespaces are refused (a container's default
// seccomp profile, user.max_user_namespaces=0, AppArmor), Chrome's sandbox cannot start, and cjcrawl
// says so and what to change instead of passing on Chrome's "No usable sandbox!". The refusal is
// cjcrawl-deny-userns (tests/support/deny_userns.cpp): the seccomp filter such a profile installs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "cdp/chrome_process.hpp"
#include "tests/support/fixture_server.hpp"
#include "tests/support/subprocess.hpp"

namespace {

using testsupport::TempDir;

constexpr std::chrono::seconds kRunTimeout{90};
const std::string kResolverRules =
    "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
const std::string kAllowLoopback = "--allow-network=127.0.0.1";
const std::string kRefusal =
    "Chrome's sandbox needs unprivileged user namespaces, which this environment refuses "
    "(unshare(CLONE_NEWUSER): Operation not permitted): allow them (seccomp profile, sysctl "
    "user.max_user_namespaces, AppArmor; see deploy/README.md), or run with --unsafe-no-sandbox";

testsupport::FixtureServer& server() {
  static testsupport::FixtureServer instance(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  return instance;
}

std::vector<std::string> check_idle_page(const std::filesystem::path& db) {
  return {CJCRAWL_BINARY, "check",     server().url("site.test", "/idle.html"),
          "--db",         db.string(), "--sample-period",
          "200",          "--window",  "10",
          "--deadline",   "40",        kResolverRules,
          kAllowLoopback};
}

std::vector<std::string> denying_user_namespaces(std::vector<std::string> command) {
  command.insert(command.begin(), CJCRAWL_DENY_USERNS);
  return command;
}

// What of a run whose cjcrawl had this pid remains: its Chrome processes and its profiles, each
// named after it (cjcrawl-profile-<pid>-…). Renderers killed with their group may take a moment to
// go (test_check.cpp), so processes get up to 5 s; a profile is never waited for.
std::string left_behind(pid_t cjcrawl) {
  const std::string marker = "cjcrawl-profile-" + std::to_string(cjcrawl) + "-";
  std::string left;
  for (const auto& entry : std::filesystem::directory_iterator(cdp::profile_root()))
    if (entry.path().filename().string().starts_with(marker)) left += "profile " + entry.path().string() + " ";
  auto processes = [&marker] {
    std::string found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream file(entry.path() / "cmdline", std::ios::binary);
      std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      if (cmdline.find(marker) != std::string::npos) found += "process " + entry.path().filename().string() + " ";
    }
    return found;
  };
  std::string running = processes();
  for (int waited = 0; !running.empty() && waited < 5'000; waited += 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    running = processes();
  }
  return left + running;
}

}  // namespace

TEST_CASE("where user namespaces are refused check says why and what to change and starts no Chrome",
          "[browser][sandbox]") {
  TempDir dir;

  // The control: the filter itself lets an ordinary command run, and refuses exactly user namespaces.
  CHECK(testsupport::run_process(denying_user_namespaces({"/bin/true"}), kRunTimeout).exit_code == 0);
  if (std::filesystem::exists("/usr/bin/unshare")) {
    CHECK(testsupport::run_process({"/usr/bin/unshare", "--user", "/bin/true"}, kRunTimeout).exit_code == 0);
    auto refused =
        testsupport::run_process(denying_user_namespaces({"/usr/bin/unshare", "--user", "/bin/true"}), kRunTimeout);
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("Operation not permitted") != std::string::npos);
  }

  // The same page, without the filter: Chrome starts sandboxed and the visit is clean.
  auto allowed = testsupport::run_process(check_idle_page(dir.path() / "allowed.db"), kRunTimeout);
  INFO("without the filter: " << allowed.err);
  REQUIRE_FALSE(allowed.timed_out);
  CHECK(allowed.exit_code == 0);

  // Under the filter: exit 1, the reason and the remedies, before Chrome is started at all (its own
  // "No usable sandbox!" never appears), and nothing of the run remains.
  testsupport::Process refused(denying_user_namespaces(check_idle_page(dir.path() / "refused.db")));
  auto result = refused.wait(kRunTimeout);
  INFO("under the filter: " << result.err);
  REQUIRE_FALSE(result.timed_out);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find(kRefusal) != std::string::npos);
  CHECK(result.err.find("No usable sandbox") == std::string::npos);
  CHECK(left_behind(refused.pid()).empty());
}

TEST_CASE("where user namespaces are refused --unsafe-no-sandbox still checks the page", "[browser][sandbox]") {
  TempDir dir;
  auto command = denying_user_namespaces(check_idle_page(dir.path() / "t.db"));
  command.emplace_back("--unsafe-no-sandbox");
  testsupport::Process unsandboxed(command);
  auto result = unsandboxed.wait(kRunTimeout);
  INFO(result.err);
  REQUIRE_FALSE(result.timed_out);
  CHECK(result.exit_code == 0);
  CHECK(result.err.find("WARNING: --unsafe-no-sandbox") != std::string::npos);
  CHECK(result.err.find("user namespaces") == std::string::npos);
  CHECK(left_behind(unsandboxed.pid()).empty());
}
