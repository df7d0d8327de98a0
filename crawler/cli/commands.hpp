// crawler/cli/commands.hpp — the `cjcrawl` commands: for each, its arguments, the function that adds
// its options to the command line, and the function that runs it and returns the exit code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "crawler/cli/common.hpp"

namespace crawler::cli {

// `cjcrawl check URL` — one site, end to end (check.cpp).
struct CheckArgs {
  std::string input;
  bool json = false;
  std::string report_path;  // --report FILE.html: a self-contained report of the visit
  VisitArgs visit;
};
CLI::App* add_check(CLI::App& app, CheckArgs& args);
int run_check(const CheckArgs& args);

// `cjcrawl crawl LIST` — many sites through N slots, resumable (crawl.cpp).
struct CrawlArgs {
  std::string input_path;
  std::string out;
  std::optional<int> concurrency;  // default: the number of cores
  int retries = 1;
  std::optional<std::size_t> limit;
  std::string shard;
  bool resume = false;
  std::optional<std::int64_t> crawl_id;
  int failure_budget = 10;
  int recycle_after = 50;
  int memory_cap_mb = 1536;
  int script_cache = 4096;  // entries of blacklist::ScanCache; 0: off
  bool quiet = false;
  std::string crawl_name;  // --crawl NAME: a shared crawl's lease queue (PostgreSQL)
  int max_attempts = 3;
  int lease_seconds = 30;
  // --metrics-listen and --metrics-linger (crawl and recheck): a worker's Prometheus port.
  struct Metrics {
    std::string listen;  // empty: no metrics port
    int linger_seconds = 0;
  } metrics;
  VisitArgs visit;
};
CLI::App* add_crawl(CLI::App& app, CrawlArgs& args);
int run_crawl(const CrawlArgs& args);

// `cjcrawl recheck` — the pages behind crawl-found entries visited again; entries not seen on
// --drop-after consecutive rechecks leave the feeds (crawl.cpp, with the crawl's slots).
struct RecheckArgs {
  double older_than_days = 30;
  int drop_after = 2;
  CrawlArgs slots;  // input_path, limit, shard and crawl_id unused; resume: continue the newest recheck
};
CLI::App* add_recheck(CLI::App& app, RecheckArgs& args);
int run_recheck(const RecheckArgs& args);

// `cjcrawl allow HOST|URL --reason TEXT` — a reviewed false positive (allow.cpp).
struct AllowArgs {
  std::string value;
  std::string reason;
  std::string db_path = default_db_path();
};
CLI::App* add_allow(CLI::App& app, AllowArgs& args);
int run_allow(const AllowArgs& args);

// `cjcrawl crawls` — the crawls in the database (crawls.cpp).
struct CrawlsArgs {
  std::string db_path = default_db_path();
  bool json = false;
  int window_minutes = 5;  // sites/min of a shared crawl: over this many minutes
};
CLI::App* add_crawls(CLI::App& app, CrawlsArgs& args);
int run_crawls(const CrawlsArgs& args);

// `cjcrawl crawl-lines NAME|ID` — a crawl's JSON lines in input order, whoever recorded them
// (crawls.cpp): a fleet's output as one file again.
struct CrawlLinesArgs {
  std::string crawl;
  std::string db_path = default_db_path();
};
CLI::App* add_crawl_lines(CLI::App& app, CrawlLinesArgs& args);
int run_crawl_lines(const CrawlLinesArgs& args);

// `cjcrawl import SOURCE...` — public blocklists into the blacklist (import.cpp).
struct ImportArgs {
  std::vector<std::string> sources;
  std::string format;  // empty: detect
  std::string db_path = default_db_path();
  int confidence = 60;
};
CLI::App* add_import(CLI::App& app, ImportArgs& args);
int run_import(const ImportArgs& args);

// `cjcrawl export` — the blacklist as a feed file (export.cpp).
struct ExportArgs {
  std::string format;
  std::vector<std::string> kinds;
  std::string source = "all";
  std::string since;
  int min_confidence = 0;
  int max_age_days = 0;
  std::string output;
  std::string db_path = default_db_path();
};
CLI::App* add_export(CLI::App& app, ExportArgs& args);
int run_export(const ExportArgs& args);

// `cjcrawl serve` — feeds, API and dashboard over HTTP, read-only (serve.cpp).
struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::string db_path = default_db_path();
  std::size_t max_connections = 256;
  double header_timeout_seconds = 10;
  double idle_timeout_seconds = 15;
  double write_timeout_seconds = 120;
};
CLI::App* add_serve(CLI::App& app, ServeArgs& args);
int run_serve(const ServeArgs& args);

// `cjcrawl merge OUT IN...` — SQLite files of a sharded crawl merged into one (merge.cpp).
struct MergeArgs {
  std::string out;
  std::vector<std::string> inputs;
  bool quiet = false;
};
CLI::App* add_merge(CLI::App& app, MergeArgs& args);
int run_merge(const MergeArgs& args);

}  // namespace crawler::cli
