// tests/support/subprocess.cpp — fork/exec with output to files, a timeout, and reaping.
#include "tests/support/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace testsupport {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::filesystem::path unique_temp(const std::string& stem) {
  std::string pattern = (std::filesystem::temp_directory_path() / (stem + "-XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  return pattern;
}

}  // namespace

Process::Process(const std::vector<std::string>& argv)
    : out_path_(unique_temp("cjcrawl-test-out")), err_path_(unique_temp("cjcrawl-test-err")) {
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (auto& arg : copy) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int out = ::open(out_path_.c_str(), O_WRONLY | O_TRUNC);
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_TRUNC);
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  std::error_code ec;
  std::filesystem::remove(out_path_, ec);
  std::filesystem::remove(err_path_, ec);
}

bool Process::running() {
  if (status_ >= 0) return false;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == 0) return true;
  status_ = reaped == pid_ ? status : 0;
  return false;
}

void Process::signal(int sig) {
  if (status_ < 0) ::kill(pid_, sig);
}

std::string Process::output_so_far() const { return read_file(out_path_); }
std::string Process::errors_so_far() const { return read_file(err_path_); }

ProcessResult Process::wait(std::chrono::milliseconds timeout) {
  ProcessResult result;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until) {
      result.timed_out = true;
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status_)) result.exit_code = WEXITSTATUS(status_);
  else if (WIFSIGNALED(status_)) result.exit_code = 128 + WTERMSIG(status_);
  result.out = read_file(out_path_);
  result.err = read_file(err_path_);
  return result;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  Process process(argv);
  return process.wait(timeout);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cjcrawl-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace testsupport
