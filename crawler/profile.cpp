// crawler/profile.cpp — see profile.hpp.
#include "crawler/profile.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <regex>

#include <fmt/format.h>

extern char** environ;

namespace crawler {

std::optional<std::string> chrome_major_version(const std::filesystem::path& chrome) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  const std::string path = chrome.string();
  char* argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>("--version"), nullptr};
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string output;
  if (spawned == 0) {
    char buffer[256];
    // Bounded: a version line is short; anything past 4 KB is not a version.
    for (ssize_t n; output.size() < 4096 && (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
      output.append(buffer, static_cast<std::size_t>(n));
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  ::close(pipe_fds[0]);
  std::smatch match;
  if (!std::regex_search(output, match, std::regex(R"((?:Chromium|Chrome)\s+(\d{2,4})\.\d+\.\d+\.\d+)")))
    return std::nullopt;
  return match[1].str();
}

std::vector<std::string> desktop_profile_args(const std::optional<std::string>& major_version) {
  std::vector<std::string> args{"--disable-blink-features=AutomationControlled", "--screen-info={1920x1080}",
                                "--window-size=1920,1080"};
  if (major_version)
    args.push_back(
        fmt::format("--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/{}.0.0.0 Safari/537.36",
                    *major_version));
  return args;
}

}  // namespace crawler
