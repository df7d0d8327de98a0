// db/merge.hpp — `cjcrawl merge`: SQLite files from `crawl --shard` runs (or any cjcrawl
// databases) merged into one, offline.
//
// The merged file is built beside OUT under a temporary name and renamed over OUT only when complete,
// so a failed or interrupted merge leaves OUT as it was and no temporary behind. Crawls are matched
// across files by the list's SHA-256, shard count and limit (not by path: pods mount lists at other
// paths), and their shards joined into one crawl; a site (crawl, input line) recorded again with the
// same start time is the same record, mapped and not copied, so merging a file twice changes nothing;
// recorded with another start time it is a duplicate, kept once (the file named first wins) and
// reported. Blacklist entries are united by (kind, value); the aggregates of every entry a visit
// named (hits, first and last seen, confidence, latest evidence, the crawl's listing) are recomputed
// from the merged proof links, with the same definitions record_visit's upsert applies one visit at
// a time (a differential test holds them equal). Feed listings are united, the later listing winning.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/status.hpp"

namespace db {

struct MergeReport {
  // One site recorded in two inputs (or twice in one) for the same crawl: the first named is kept.
  struct Duplicate {
    std::int64_t crawl_id = 0;  // in the merged file
    std::int64_t position = 0;  // input line
    std::string input;
    std::string file;                  // the input whose record was dropped
    std::int64_t kept_started_ms = 0;  // 0 for a skipped line
    std::int64_t dropped_started_ms = 0;
  };
  struct Crawl {
    std::int64_t id = 0;
    std::string selection;
    std::string state;
    std::vector<int> missing_shards;  // indexes 0…N-1 no input had
  };

  bool written = false;  // false: nothing new, OUT left byte for byte as it was
  std::int64_t new_visits = 0;
  std::int64_t new_sites = 0;        // crawl_sites rows added (visits and skipped lines)
  std::int64_t already_there = 0;    // sites whose record OUT (or an earlier input) already had
  std::int64_t duplicate_count = 0;  // all of them; `duplicates` holds the first kMaxListed
  std::vector<Duplicate> duplicates;
  std::int64_t new_entries = 0;
  std::int64_t entries = 0;  // in the merged blacklist
  std::int64_t generation = 0;
  std::vector<Crawl> crawls;       // the crawls the inputs added to or created
  std::vector<std::string> notes;  // e.g. an input given twice, a shard still running

  static constexpr std::size_t kMaxListed = 20;
};

// Merges `inputs` into `out` (created when missing; its own rows kept and counted first). Errors
// (util::Error, OUT untouched, no temporary left):
//   invalid_argument — OUT is also an input (same device and inode: symlinks and hard links too), an
//     input is missing, OUT's folder is missing;
//   not_a_database / schema_too_new / database — an input is not a cjcrawl database, is empty, or has
//     a schema this binary does not read (older ones: let a writing command upgrade them first);
//   invalid_argument — an input has rechecks (merge the shards, then recheck the merged file) or a
//     shared (PostgreSQL) crawl's queue;
//   busy — OUT is open in another process (a crawl, serve) and has a write-ahead log;
//   internal with "interrupted" — `stop` became true (Ctrl-C); io — the disk refused.
util::Result<MergeReport> merge_sqlite(const std::filesystem::path& out,
                                       const std::vector<std::filesystem::path>& inputs,
                                       const std::atomic<bool>* stop = nullptr);

}  // namespace db
