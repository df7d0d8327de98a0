// db/pg_proof.cpp — the PostgreSQL store's proof, rechecks and reviewed exceptions: the same rules as
// sqlite_proof.cpp (see store.hpp), statement for statement.
#include <algorithm>

#include <fmt/format.h>

#include "db/pg_store.hpp"
#include "db/visit_record.hpp"

namespace db {
namespace {

using pg::Params;
using pg::Rows;

constexpr std::string_view kCrawlSource = "(SELECT id FROM sources WHERE name = 'crawl')";

std::string outcome_of(blacklist::Status status, blacklist::Verdict verdict) {
  if (status != blacklist::Status::ok) return "undetermined";
  return verdict == blacklist::Verdict::cryptojacking ? "confirmed" : "not_seen";
}

}  // namespace

void PgStore::apply_recheck(const CrawlSite& site, std::int64_t visit_id, blacklist::Status status,
                            blacklist::Verdict verdict, std::int64_t now_ms) const {
  Rows page = connection_.exec(
      "SELECT p.entry_id, r.drop_after FROM recheck_pages p JOIN rechecks r ON r.crawl_id = p.crawl_id "
      "WHERE p.crawl_id = $1 AND p.position = $2",
      Params().int64(site.crawl_id).int64(site.position));
  if (page.size() == 0) return;  // an ordinary crawl
  const std::int64_t entry_id = page.int64(0, 0);
  const std::int64_t drop_after = page.int64(0, 1);

  const std::string outcome = outcome_of(status, verdict);
  bool dropped = false;
  if (outcome == "confirmed") {
    connection_.exec(
        "UPDATE blacklist SET not_seen = 0, last_seen_ms = greatest(coalesce(last_seen_ms, 0), $2) WHERE id = $1",
        Params().int64(entry_id).int64(now_ms));
    connection_.exec(
        fmt::format("UPDATE entry_sources SET removed_ms = NULL, removed_reason = NULL, last_listed_ms = $2 "
                    "WHERE entry_id = $1 AND source_id = {} AND removed_ms IS NOT NULL",
                    kCrawlSource),
        Params().int64(entry_id).int64(now_ms));
    connection_.exec("INSERT INTO entry_visits (entry_id, visit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                     Params().int64(entry_id).int64(visit_id));
  } else if (outcome == "not_seen") {
    Rows grown = connection_.exec("UPDATE blacklist SET not_seen = not_seen + 1 WHERE id = $1 RETURNING not_seen",
                                  Params().int64(entry_id));
    const std::int64_t streak = grown.size() ? grown.int64(0, 0) : 0;
    const bool still_listed =
        connection_
            .exec(
                fmt::format("SELECT 1 FROM entry_sources WHERE entry_id = $1 AND source_id = {} AND removed_ms IS NULL",
                            kCrawlSource),
                Params().int64(entry_id))
            .size() > 0;
    if (streak >= drop_after && still_listed) {
      drop_page(entry_id,
                fmt::format("not seen on {} consecutive recheck{} (the last: visit {})", streak, streak == 1 ? "" : "s",
                            visit_id),
                now_ms);
      dropped = true;
    }
  }
  connection_.exec(
      R"sql(
  INSERT INTO entry_rechecks (entry_id, visit_id, crawl_id, outcome, not_seen, dropped, at_ms)
  VALUES ($1, $2, $3, $4, (SELECT not_seen FROM blacklist WHERE id = $1), $5, $6)
  )sql",
      Params().int64(entry_id).int64(visit_id).int64(site.crawl_id).text(outcome).int64(dropped ? 1 : 0).int64(now_ms));
}

void PgStore::drop_page(std::int64_t entry_id, const std::string& reason, std::int64_t now_ms) const {
  connection_.exec(fmt::format(R"sql(
  UPDATE entry_sources SET removed_ms = $2, removed_reason = $3
  WHERE source_id = {0} AND removed_ms IS NULL AND entry_id IN (
    SELECT named.entry_id FROM entry_visits mine
    JOIN entry_visits named ON named.visit_id = mine.visit_id AND named.entry_id != $1
    WHERE mine.entry_id = $1
      AND NOT EXISTS (
        SELECT 1 FROM entry_visits other
        JOIN entry_visits other_page ON other_page.visit_id = other.visit_id AND other_page.entry_id != $1
        JOIN blacklist page ON page.id = other_page.entry_id AND page.kind = 'page'
        JOIN entry_sources listed ON listed.entry_id = page.id AND listed.source_id = {0} AND listed.removed_ms IS NULL
        WHERE other.entry_id = named.entry_id))
  )sql",
                               kCrawlSource),
                   Params().int64(entry_id).int64(now_ms).text("its page left the feeds: " + reason));
  connection_.exec(fmt::format("UPDATE entry_sources SET removed_ms = $2, removed_reason = $3 "
                               "WHERE entry_id = $1 AND source_id = {} AND removed_ms IS NULL",
                               kCrawlSource),
                   Params().int64(entry_id).int64(now_ms).text(reason));
}

util::Result<std::vector<Store::RecheckPage>> PgStore::pages_due(std::int64_t confirmed_before_ms) const {
  return run([&]() -> std::vector<RecheckPage> {
    Rows rows = connection_.exec(fmt::format(R"sql(
  SELECT b.id, b.value FROM blacklist b
  JOIN entry_sources e ON e.entry_id = b.id AND e.source_id = {} AND e.removed_ms IS NULL
  WHERE b.kind = 'page' AND coalesce(b.last_seen_ms, 0) < $1
  ORDER BY coalesce(b.last_seen_ms, 0), b.id
  )sql",
                                             kCrawlSource),
                                 Params().int64(confirmed_before_ms));
    std::vector<RecheckPage> pages;
    for (int row = 0; row < rows.size(); ++row)
      pages.push_back({static_cast<std::int64_t>(pages.size()) + 1, rows.int64(row, 0), rows.bytes(row, 1)});
    return pages;
  });
}

util::Result<std::int64_t> PgStore::begin_recheck(const CrawlRow& crawl, const std::vector<RecheckPage>& pages,
                                                  std::int64_t confirmed_before_ms, int drop_after) {
  return run([&]() -> std::int64_t {
    pg::Transaction transaction(connection_);
    CrawlRow row = crawl;
    row.input_path = "recheck";
    row.total = static_cast<std::int64_t>(pages.size());
    const std::int64_t id = insert_crawl(row);
    connection_.exec("INSERT INTO rechecks (crawl_id, confirmed_before_ms, drop_after) VALUES ($1, $2, $3)",
                     Params().int64(id).int64(confirmed_before_ms).int64(drop_after));
    for (const auto& due : pages)
      connection_.exec("INSERT INTO recheck_pages (crawl_id, position, entry_id, url) VALUES ($1, $2, $3, $4)",
                       Params().int64(id).int64(due.position).int64(due.entry_id).bytes(due.url));
    transaction.commit();
    return id;
  });
}

util::Result<std::vector<Store::RecheckPage>> PgStore::recheck_pages(std::int64_t crawl_id) const {
  return run([&]() -> std::vector<RecheckPage> {
    Rows rows =
        connection_.exec("SELECT position, entry_id, url FROM recheck_pages WHERE crawl_id = $1 ORDER BY position",
                         Params().int64(crawl_id));
    std::vector<RecheckPage> pages;
    for (int row = 0; row < rows.size(); ++row)
      pages.push_back({rows.int64(row, 0), rows.int64(row, 1), rows.bytes(row, 2)});
    return pages;
  });
}

util::Result<std::optional<Store::CrawlRow>> PgStore::latest_recheck() const {
  auto newest = run([&]() -> std::int64_t {
    return connection_.exec("SELECT coalesce(max(crawl_id), 0) FROM rechecks").int64(0, 0);
  });
  if (!newest) return newest.error();
  if (*newest == 0) return std::optional<CrawlRow>{};
  return crawl(*newest);
}

util::Result<Store::RecheckTally> PgStore::recheck_tally(std::int64_t crawl_id) const {
  return run([&]() -> RecheckTally {
    Rows rows = connection_.exec(
        "SELECT count(*) FILTER (WHERE outcome = 'confirmed'), count(*) FILTER (WHERE outcome = 'not_seen'), "
        "count(*) FILTER (WHERE outcome = 'undetermined'), coalesce(sum(dropped), 0) FROM entry_rechecks "
        "WHERE crawl_id = $1",
        Params().int64(crawl_id));
    return RecheckTally{rows.int64(0, 0), rows.int64(0, 1), rows.int64(0, 2), rows.int64(0, 3)};
  });
}

util::Result<std::int64_t> PgStore::allow(std::string_view value, std::string_view reason, std::int64_t now_ms) {
  return run([&]() -> std::int64_t {
    pg::Transaction transaction(connection_);
    connection_.script("INSERT INTO sources (name, format) VALUES ('review', 'review') ON CONFLICT DO NOTHING");
    const std::string evidence = nlohmann::json{{"source", "review"}, {"reason", reason}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    const std::int64_t id =
        connection_
            .exec(
                "INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json) "
                "VALUES ('allow', $1, $2, $2, 0, 100, $3) "
                "ON CONFLICT (kind, value_key) DO UPDATE SET evidence_json = excluded.evidence_json, "
                "last_seen_ms = $2 RETURNING id",
                Params().bytes(value).int64(now_ms).text(evidence))
            .int64(0, 0);
    connection_.exec(R"sql(
  INSERT INTO entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms, reason)
  SELECT $1, id, $2, $2, $3 FROM sources WHERE name = 'review'
  ON CONFLICT (entry_id, source_id) DO UPDATE SET last_listed_ms = excluded.last_listed_ms, removed_ms = NULL,
    removed_reason = NULL, reason = excluded.reason
  )sql",
                     Params().int64(id).int64(now_ms).text(reason));
    transaction.commit();
    return id;
  });
}

util::Result<std::optional<Store::EntryProof>> PgStore::entry_proof(std::int64_t id, int limit) {
  limit = std::clamp(limit, 1, 1000);
  auto read = run([&]() -> std::optional<std::pair<EntryProof, std::vector<std::int64_t>>> {
    pg::Transaction snapshot(connection_, pg::Transaction::Kind::snapshot);
    Rows entry = connection_.exec(
        "SELECT kind, value, coalesce(first_seen_ms, 0), coalesce(last_seen_ms, 0), hits, coalesce(confidence, 0), "
        "coalesce(evidence_json, ''), not_seen FROM blacklist WHERE id = $1",
        Params().int64(id));
    if (entry.size() == 0) return std::nullopt;
    EntryProof proof;
    proof.id = id;
    proof.entry = BlacklistEntry{entry.text(0, 0),  entry.bytes(0, 1), entry.int64(0, 2),
                                 entry.int64(0, 3), entry.int64(0, 4), static_cast<int>(entry.int64(0, 5)),
                                 entry.text(0, 6)};
    proof.not_seen = entry.int64(0, 7);

    Rows listings = connection_.exec(
        "SELECT s.name, e.first_listed_ms, e.last_listed_ms, coalesce(e.removed_ms, 0), coalesce(e.reason, ''), "
        "coalesce(e.removed_reason, '') FROM entry_sources e JOIN sources s ON s.id = e.source_id "
        "WHERE e.entry_id = $1 ORDER BY s.name",
        Params().int64(id));
    for (int row = 0; row < listings.size(); ++row) {
      proof.listings.push_back({listings.text(row, 0), listings.int64(row, 1), listings.int64(row, 2),
                                listings.int64(row, 3), listings.text(row, 4), listings.text(row, 5)});
      proof.active = proof.active || proof.listings.back().removed_ms == 0;
    }

    Rows rechecks = connection_.exec(
        "SELECT visit_id, crawl_id, outcome, not_seen, dropped, at_ms FROM entry_rechecks WHERE entry_id = $1 "
        "ORDER BY at_ms DESC, visit_id DESC LIMIT $2",
        Params().int64(id).int64(limit));
    for (int row = 0; row < rechecks.size(); ++row)
      proof.rechecks.push_back({rechecks.int64(row, 0), rechecks.int64(row, 1), rechecks.text(row, 2),
                                rechecks.int64(row, 3), rechecks.int64(row, 4) != 0, rechecks.int64(row, 5)});

    proof.visit_count =
        connection_.exec("SELECT count(*) FROM entry_visits WHERE entry_id = $1", Params().int64(id)).int64(0, 0);
    Rows visits =
        connection_.exec("SELECT visit_id FROM entry_visits WHERE entry_id = $1 ORDER BY visit_id DESC LIMIT $2",
                         Params().int64(id).int64(limit));
    std::vector<std::int64_t> visit_ids;
    for (int row = 0; row < visits.size(); ++row) visit_ids.push_back(visits.int64(row, 0));
    snapshot.commit();
    return std::make_pair(std::move(proof), std::move(visit_ids));
  });
  if (!read) return read.error();
  if (!*read) return std::optional<EntryProof>{};
  auto& [proof, visit_ids] = **read;
  for (const auto visit_id : visit_ids) {
    auto row = visit(visit_id);
    if (!row) return row.error();
    if (*row) proof.visits.push_back(std::move(**row));
  }
  return std::optional<EntryProof>{std::move(proof)};
}

}  // namespace db
