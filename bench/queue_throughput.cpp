// bench/queue_throughput.cpp — the shared crawl's queue without a browser: W simulated workers, each
// with its own connection, claim a site, record a visit with an evidence JSON of typical size, and
// go on, against a throwaway PostgreSQL 15 cluster on loopback with PostgreSQL's default durability.
// Prints sites per second and the latency of the claim and of the record (its whole transaction,
// commit included), median and p99, for each W. Not a test: the figures go in BENCHMARKS.md.
//
//   build/bench/cjcrawl_queue_throughput [SITES_PER_WORKER]   (default 50; W = 8, 32, 64)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/typical_evidence.hpp"
#include "db/queue.hpp"
#include "db/store.hpp"
#include "tests/support/pg_cluster.hpp"
#include "util/clock.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const int per_worker = argc > 1 ? std::atoi(argv[1]) : 50;
  testsupport::PgCluster cluster(testsupport::PgCluster::Options{.durable = true});
  blacklist::Judgement clean;
  clean.verdict = blacklist::Verdict::clean;
  std::printf("evidence JSON of one visit: %zu bytes\n",
              blacklist::to_json(bench::typical_evidence(1, util::wall_ms(), 11'000), clean).dump().size());
  std::printf("| workers | sites | sites/s | claim median ms | claim p99 ms | record median ms | record p99 ms |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const int workers : {8, 32, 64}) {
    const auto location = cluster.uri(cluster.create_database());
    const int sites = workers * per_worker;
    {
      auto store = db::open_store(location, db::OpenMode::write).value();
      db::Store::CrawlRow row;
      row.started_ms = util::wall_ms();
      row.input_path = "bench";
      row.input_digest = "bench";
      row.selection = "all";
      row.total = sites;
      std::vector<db::CrawlQueue::QueuedSite> queued;
      for (int i = 1; i <= sites; ++i) queued.push_back({i, "https://site" + std::to_string(i) + ".example/"});
      store->queue()
          ->create_or_join("bench", row, queued, [](std::int64_t) { return std::vector<db::Store::SkippedLine>{}; })
          .value();
    }
    std::mutex lock;
    std::vector<double> claims, records;
    const auto started = Clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
      threads.emplace_back([&, w] {
        auto store = db::open_store(location, db::OpenMode::write).value();
        db::CrawlQueue* queue = store->queue();
        const std::string owner = "bench:" + std::to_string(w);
        std::vector<double> my_claims, my_records;
        for (;;) {
          const auto t0 = Clock::now();
          auto claim = queue->claim(1, owner, std::chrono::seconds(30), 3).value();
          const auto t1 = Clock::now();
          if (claim.kind == db::CrawlQueue::Claim::Kind::finished) break;
          if (claim.kind == db::CrawlQueue::Claim::Kind::wait) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            continue;
          }
          my_claims.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          const auto evidence = bench::typical_evidence(claim.position, util::wall_ms(), 11'000);
          db::Store::CrawlSite site;
          site.crawl_id = 1;
          site.position = claim.position;
          site.attempt = static_cast<int>(claim.attempt);
          site.lease_attempt = claim.attempt;
          site.line = blacklist::to_json(evidence, clean).dump();
          const auto t2 = Clock::now();
          store->record_visit(evidence, clean, util::wall_ms(), &site).value();
          my_records.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t2).count());
        }
        std::lock_guard<std::mutex> guard(lock);
        claims.insert(claims.end(), my_claims.begin(), my_claims.end());
        records.insert(records.end(), my_records.begin(), my_records.end());
      });
    for (auto& thread : threads) thread.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("| %d | %zu | %.0f | %.2f | %.2f | %.2f | %.2f |\n", workers, records.size(),
                static_cast<double>(records.size()) / seconds, percentile(claims, 0.5), percentile(claims, 0.99),
                percentile(records, 0.5), percentile(records, 0.99));
    std::fflush(stdout);
  }
  return 0;
}
