// db/pg_queue.cpp — the lease queue of shared crawls on PostgreSQL (see db/queue.hpp): named crawls,
// claims with FOR UPDATE SKIP LOCKED and leases on the database's clock, renewals, releases, the
// fencing check inside a record's transaction, and what `cjcrawl crawls` shows of a queue.
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "db/pg_store.hpp"

namespace db {
namespace {

using pg::Params;
using pg::Rows;

}  // namespace

util::Result<std::optional<Store::CrawlRow>> PgStore::named_crawl(std::string_view name) const {
  return run([&]() -> std::optional<CrawlRow> { return crawl_named(name); });
}

util::Result<Store::CrawlRow> PgStore::create_or_join(std::string_view name, const CrawlRow& row,
                                                      const std::vector<QueuedSite>& sites,
                                                      const SkippedLines& skipped) {
  const auto join = [&](const CrawlRow& found) -> CrawlRow {
    if (found.input_digest != row.input_digest || found.selection != row.selection)
      throw Error(0, fmt::format("--crawl {}", name),
                  fmt::format("that crawl was made from another list ({}, sha256 {}, {}); name a new crawl, or give "
                              "it the same list and --shard/--limit",
                              found.input_path, found.input_digest.substr(0, 12), found.selection),
                  util::ErrorCode::invalid_argument);
    return found;
  };
  auto made = run([&]() -> CrawlRow {
    pg::Transaction transaction(connection_);
    if (auto found = crawl_named(name)) return join(*found);
    CrawlRow crawl = row;
    crawl.name = std::string(name);
    crawl.id = connection_
                   .exec(
                       "INSERT INTO crawls (started_ms, input_path, input_digest, selection, total, state, "
                       "options_json, name) VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) RETURNING id",
                       Params()
                           .int64(row.started_ms)
                           .text(row.input_path)
                           .text(row.input_digest)
                           .text(row.selection)
                           .int64(row.total)
                           .text(row.options_json)
                           .text(name))
                   .int64(0, 0);
    crawl.state = "running";
    // The queue, a few hundred rows per statement (a million-site list is thousands of statements,
    // not a million round trips).
    constexpr std::size_t kRowsPerStatement = 500;
    for (std::size_t first = 0; first < sites.size(); first += kRowsPerStatement) {
      const std::size_t end = std::min(sites.size(), first + kRowsPerStatement);
      std::string sql = "INSERT INTO crawl_queue (crawl_id, position, input) VALUES ";
      Params params;
      params.int64(crawl.id);
      for (std::size_t i = first; i < end; ++i) {
        const auto n = 2 * (i - first) + 2;
        sql += fmt::format("{}($1, ${}, ${})", i == first ? "" : ", ", n, n + 1);
        params.int64(sites[i].position).bytes(sites[i].input);
      }
      connection_.exec(sql, params);
    }
    for (const auto& line : skipped(crawl.id))
      connection_.exec(R"sql(
  INSERT INTO crawl_sites (crawl_id, position, input, visit_id, status, verdict, attempt, line, done_ms)
  VALUES ($1, $2, $3, NULL, 'skipped', $4, 0, $5, $6)
  )sql",
                       Params()
                           .int64(crawl.id)
                           .int64(line.position)
                           .bytes(line.input)
                           .text(line.verdict)
                           .text(line.line)
                           .int64(row.started_ms));
    transaction.commit();
    return crawl;
  });
  // Two workers creating the same crawl at once: the loser's insert breaks the name's uniqueness,
  // and it joins the winner's crawl.
  if (!made && made.error().code == util::ErrorCode::constraint) {
    auto found = named_crawl(name);
    if (!found) return found.error();
    if (*found) return guarded([&] { return join(**found); });
  }
  return made;
}

util::Result<CrawlQueue::Claim> PgStore::claim(std::int64_t crawl_id, std::string_view owner,
                                               std::chrono::seconds lease, int max_attempts) {
  return run([&]() -> Claim {
    pg::Transaction transaction(connection_);
    Rows next = connection_.exec(R"sql(
  SELECT position, input, attempt, state, coalesce(owner, ''), coalesce(last_error, '') FROM crawl_queue
  WHERE crawl_id = $1 AND (state = 'queued' OR (state = 'leased' AND lease_until < now()))
  ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED
  )sql",
                                 Params().int64(crawl_id));
    Claim claim;
    if (next.size() == 0) {
      // Rows another worker is claiming right now are skipped, not counted as missing: they are
      // queued or leased, so this worker waits rather than leaving early.
      Rows open =
          connection_.exec("SELECT count(*) FROM crawl_queue WHERE crawl_id = $1 AND state IN ('queued', 'leased')",
                           Params().int64(crawl_id));
      claim.kind = open.int64(0, 0) > 0 ? Claim::Kind::wait : Claim::Kind::finished;
      transaction.commit();
      return claim;
    }
    claim.position = next.int64(0, 0);
    claim.input = next.bytes(0, 1);
    const std::int64_t previous = next.int64(0, 2);
    claim.last_error = next.text(0, 5);
    if (next.text(0, 3) == "leased") {
      // The previous attempt's worker stopped renewing (killed, frozen, cut off): it is closed here,
      // and its late record, if it ever comes, is refused by the fence.
      claim.last_error =
          fmt::format("attempt {} by {}: its lease lapsed (the worker stopped renewing it)", previous, next.text(0, 4));
      connection_.exec(
          "UPDATE crawl_attempts SET ended_at = now(), outcome = 'lapsed', error = $4 "
          "WHERE crawl_id = $1 AND position = $2 AND attempt = $3 AND ended_at IS NULL",
          Params().int64(crawl_id).int64(claim.position).int64(previous).text(claim.last_error));
    }
    claim.attempt = previous + 1;
    connection_.exec(
        "UPDATE crawl_queue SET state = 'leased', attempt = $3, owner = $4, "
        "lease_until = now() + make_interval(secs => $5), last_error = nullif($6, '') "
        "WHERE crawl_id = $1 AND position = $2",
        Params()
            .int64(crawl_id)
            .int64(claim.position)
            .int64(claim.attempt)
            .text(owner)
            .int64(lease.count())
            .text(claim.last_error));
    connection_.exec(
        "INSERT INTO crawl_attempts (crawl_id, position, attempt, owner, started_at) VALUES ($1, $2, $3, $4, now())",
        Params().int64(crawl_id).int64(claim.position).int64(claim.attempt).text(owner));
    transaction.commit();
    claim.kind = claim.attempt > max_attempts ? Claim::Kind::exhausted : Claim::Kind::site;
    return claim;
  });
}

util::Result<std::vector<std::int64_t>> PgStore::renew(std::int64_t crawl_id,
                                                       const std::vector<std::pair<std::int64_t, std::int64_t>>& leases,
                                                       std::chrono::seconds lease) {
  return run([&]() -> std::vector<std::int64_t> {
    std::vector<std::int64_t> lost;
    for (const auto& [position, attempt] : leases) {
      Rows renewed = connection_.exec(
          "UPDATE crawl_queue SET lease_until = now() + make_interval(secs => $4) "
          "WHERE crawl_id = $1 AND position = $2 AND attempt = $3 AND state = 'leased'",
          Params().int64(crawl_id).int64(position).int64(attempt).int64(lease.count()));
      if (renewed.affected() == 0) lost.push_back(position);
    }
    return lost;
  });
}

util::Status PgStore::release(std::int64_t crawl_id, std::int64_t position, std::int64_t attempt,
                              std::string_view error) {
  return run([&]() -> void {
    pg::Transaction transaction(connection_);
    Rows released = connection_.exec(
        "UPDATE crawl_queue SET state = 'queued', owner = NULL, lease_until = NULL, last_error = $4 "
        "WHERE crawl_id = $1 AND position = $2 AND attempt = $3 AND state = 'leased'",
        Params().int64(crawl_id).int64(position).int64(attempt).text(error));
    if (released.affected() > 0)
      connection_.exec(
          "UPDATE crawl_attempts SET ended_at = now(), outcome = 'failed', error = $4 "
          "WHERE crawl_id = $1 AND position = $2 AND attempt = $3",
          Params().int64(crawl_id).int64(position).int64(attempt).text(error));
    transaction.commit();
  });
}

void PgStore::fence(const CrawlSite& site) const {
  Rows current = connection_.exec(
      "UPDATE crawl_queue SET state = 'done', owner = NULL, lease_until = NULL "
      "WHERE crawl_id = $1 AND position = $2 AND attempt = $3 AND state = 'leased'",
      Params().int64(site.crawl_id).int64(site.position).int64(site.lease_attempt));
  if (current.affected() == 0)
    throw Error(0, fmt::format("record line {} of crawl {}", site.position, site.crawl_id),
                fmt::format("attempt {} is no longer the site's current one (its lease lapsed and another worker "
                            "took the site); this result is dropped",
                            site.lease_attempt),
                util::ErrorCode::superseded);
  connection_.exec(
      "UPDATE crawl_attempts SET ended_at = now(), outcome = 'recorded' "
      "WHERE crawl_id = $1 AND position = $2 AND attempt = $3",
      Params().int64(site.crawl_id).int64(site.position).int64(site.lease_attempt));
}

void PgStore::test_commit_delay() {
  static const long delay_ms = [] {
    const char* text = std::getenv("CJCRAWL_TEST_RECORD_DELAY_MS");
    return text ? std::strtol(text, nullptr, 10) : 0L;
  }();
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
}

util::Result<CrawlQueue::QueueState> PgStore::queue_state(std::int64_t crawl_id, std::chrono::seconds window) const {
  return run([&]() -> QueueState {
    QueueState state;
    pg::Transaction read(connection_, pg::Transaction::Kind::snapshot);
    Rows counts = connection_.exec(
        "SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'leased'), "
        "count(*) FILTER (WHERE state = 'done'), coalesce(sum(attempt), 0) FROM crawl_queue WHERE crawl_id = $1",
        Params().int64(crawl_id));
    state.queued = counts.int64(0, 0);
    state.leased = counts.int64(0, 1);
    state.done = counts.int64(0, 2);
    state.attempts = counts.int64(0, 3);
    Rows sites = connection_.exec(
        "SELECT count(*) FILTER (WHERE status = 'failed'), "
        "count(*) FILTER (WHERE status != 'skipped' AND done_ms >= (extract(epoch FROM now()) * 1000)::bigint - $2) "
        "FROM crawl_sites WHERE crawl_id = $1",
        Params().int64(crawl_id).int64(std::chrono::milliseconds(window).count()));
    state.failed = sites.int64(0, 0);
    state.recent_done = sites.int64(0, 1);
    Rows flying = connection_.exec(
        "SELECT position, attempt, coalesce(owner, ''), "
        "(extract(epoch FROM lease_until - now()) * 1000)::bigint FROM crawl_queue "
        "WHERE crawl_id = $1 AND state = 'leased' ORDER BY position LIMIT 1000",
        Params().int64(crawl_id));
    for (int row = 0; row < flying.size(); ++row)
      state.in_flight.push_back(
          {flying.int64(row, 0), flying.int64(row, 1), flying.text(row, 2), flying.int64(row, 3)});
    read.commit();
    return state;
  });
}

}  // namespace db
