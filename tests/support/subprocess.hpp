// tests/support/subprocess.hpp — run the real `cjcrawl` binary from a test, as a user would.
//
// Output goes to temporary files (no pipe can fill and stall the child); the child is killed if it
// outlives its timeout, and always reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace testsupport {

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128 + signal
  bool timed_out = false;
  std::string out;
  std::string err;
};

class Process {
 public:
  explicit Process(const std::vector<std::string>& argv);
  ~Process();  // SIGKILL + reap if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  ProcessResult wait(std::chrono::milliseconds timeout);
  // What the child has written to stdout so far (for servers that print their address).
  std::string output_so_far() const;
  // What the child has written to stderr so far (its log, for a test that acts on what it says).
  std::string errors_so_far() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
};

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// A fresh directory under the temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace testsupport
