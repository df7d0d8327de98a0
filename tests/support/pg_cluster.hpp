// tests/support/pg_cluster.hpp — a throwaway PostgreSQL cluster for tests: initdb in a fresh
// /tmp/cjcrawl-pg-XXXXXX, a server on a free 127.0.0.1 port with password (SCRAM) authentication only
// and no Unix socket, stopped and removed by the destructor.
//
// Needs Debian's postgresql-15 server binaries (scripts/setup-deps.sh installs them). initdb and
// postgres refuse to run as root, so when the tests run as root every server binary runs as `nobody`.
// The password never appears on a command line or in a message: clients get it through PGPASSWORD
// in their own environment. If the test process is killed, a detached watchdog stops the server
// (immediate mode) and removes the directory.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace testsupport {

class PgCluster {
 public:
  static constexpr const char* kUser = "cjcrawl_test";
  // Distinctive, so a test can grep any output for it to prove it was never printed. Only URI
  // unreserved characters, so it goes into uri() as it is.
  static constexpr const char* kPassword = "pw-Secret-4b1d9c";

  struct Options {
    // false: fsync, synchronous_commit and full_page_writes off (a fast test cluster).
    // true: PostgreSQL's default durability, for benchmarks that should pay what production pays.
    bool durable = false;
  };

  // initdb + start, waiting until the server accepts TCP connections. Throws std::runtime_error
  // naming the step that failed, its output and the server log tail; a missing PostgreSQL
  // installation is named with the directories looked at.
  explicit PgCluster(Options options);
  PgCluster() : PgCluster(Options{}) {}
  // Stops the server (immediate mode) and removes the directory. Never throws.
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // One cluster per test process, started on first use and stopped at exit. A test that stops it
  // must start() it again before it ends.
  static PgCluster& shared();

  int port() const { return port_; }
  // postgresql://cjcrawl_test:PASSWORD@127.0.0.1:PORT/DATABASE
  std::string uri(std::string_view database = "postgres") const;
  // postgresql://cjcrawl_test@127.0.0.1:PORT/DATABASE, for messages and for clients given PGPASSWORD.
  std::string uri_without_password(std::string_view database = "postgres") const;

  // CREATE DATABASE t<N>, N unique in this process; returns the name.
  std::string create_database();
  // Runs SQL through psql (-X, ON_ERROR_STOP, unaligned tuples only) and returns its standard
  // output; throws with psql's error output if it fails.
  std::string psql(std::string_view sql, std::string_view database = "postgres") const;

  // pg_ctl stop -m MODE ("smart", "fast" or "immediate"), waiting until the server is gone. A no-op
  // when it is not running.
  void stop(std::string_view mode = "fast");
  // Starts the server again on the same port and waits until it accepts connections. A no-op when
  // it is running. Throws if it does not come up (for instance, the port was taken meanwhile).
  void start();
  // The postmaster named in postmaster.pid is alive.
  bool running() const;
  // The last ~4 KB of the server log.
  std::string log_tail() const;
  // The directory holding data/ and server.log (removed by the destructor).
  const std::string& directory() const { return directory_; }

 private:
  // Stops the server if it runs, removes the directory and dismisses the watchdog. Never throws.
  void tear_down() noexcept;
  void initialize_data_directory();
  // One pg_ctl start on port_; returns false if the port was taken, throws on any other failure.
  bool try_start();
  void wait_until_accepting();
  void start_watchdog();

  Options options_;
  std::string bin_dir_;
  std::string directory_;
  int port_ = 0;
  bool as_nobody_ = false;  // running as root: every server binary runs as this uid/gid instead
  uid_t server_uid_ = 0;
  gid_t server_gid_ = 0;
  int watchdog_fd_ = -1;  // our end of the watchdog's socket pair; EOF without "done" means we died
};

}  // namespace testsupport
