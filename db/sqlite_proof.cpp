// db/sqlite_proof.cpp — the SQLite store's proof, rechecks and reviewed exceptions (see store.hpp):
// the entry_visits links that make every entry's proof, a recheck's outcome applied in its visit's
// transaction, pages dropped with the entries only they named, allow entries from reviews, and the
// reads behind /api/entries/ID.
#include <algorithm>

#include <fmt/format.h>

#include "db/sqlite_store.hpp"

namespace db {
namespace {

// The crawl's own source row (created by the v2 migration).
constexpr std::string_view kCrawlSource = "(SELECT id FROM sources WHERE name = 'crawl')";

std::string outcome_of(blacklist::Status status, blacklist::Verdict verdict) {
  if (status != blacklist::Status::ok) return "undetermined";
  return verdict == blacklist::Verdict::cryptojacking ? "confirmed" : "not_seen";
}

}  // namespace

void SqliteStore::apply_recheck(const CrawlSite& site, std::int64_t visit_id, blacklist::Status status,
                                blacklist::Verdict verdict, std::int64_t now_ms) {
  Statement& page = database_.cached(R"sql(
  SELECT p.entry_id, r.drop_after FROM recheck_pages p JOIN rechecks r ON r.crawl_id = p.crawl_id
  WHERE p.crawl_id = ?1 AND p.position = ?2
  )sql");
  page.bind_int64(1, site.crawl_id).bind_int64(2, site.position);
  if (!page.step()) {  // an ordinary crawl
    page.reset();
    return;
  }
  const std::int64_t entry_id = page.column_int64(0);
  const std::int64_t drop_after = page.column_int64(1);
  page.reset();

  const std::string outcome = outcome_of(status, verdict);
  bool dropped = false;
  if (outcome == "confirmed") {
    // The visit named the page again (its own upsert may have used another URL: a redirect).
    Statement confirm = database_.prepare(
        "UPDATE blacklist SET not_seen = 0, last_seen_ms = max(coalesce(last_seen_ms, 0), ?2) WHERE id = ?1");
    confirm.bind_int64(1, entry_id).bind_int64(2, now_ms);
    confirm.run();
    Statement relist = database_.prepare(
        fmt::format("UPDATE entry_sources SET removed_ms = NULL, removed_reason = NULL, last_listed_ms = ?2 "
                    "WHERE entry_id = ?1 AND source_id = {} AND removed_ms IS NOT NULL",
                    kCrawlSource));
    relist.bind_int64(1, entry_id).bind_int64(2, now_ms);
    relist.run();
    Statement link = database_.prepare("INSERT OR IGNORE INTO entry_visits (entry_id, visit_id) VALUES (?1, ?2)");
    link.bind_int64(1, entry_id).bind_int64(2, visit_id);
    link.run();
  } else if (outcome == "not_seen") {
    Statement grow = database_.prepare("UPDATE blacklist SET not_seen = not_seen + 1 WHERE id = ?1 RETURNING not_seen");
    grow.bind_int64(1, entry_id);
    const std::int64_t streak = grow.step() ? grow.column_int64(0) : 0;
    grow.reset();
    Statement listed = database_.prepare(fmt::format(
        "SELECT 1 FROM entry_sources WHERE entry_id = ?1 AND source_id = {} AND removed_ms IS NULL", kCrawlSource));
    listed.bind_int64(1, entry_id);
    const bool still_listed = listed.step();
    listed.reset();
    if (streak >= drop_after && still_listed) {
      drop_page(entry_id,
                fmt::format("not seen on {} consecutive recheck{} (the last: visit {})", streak, streak == 1 ? "" : "s",
                            visit_id),
                now_ms);
      dropped = true;
    }
  }
  Statement history = database_.prepare(R"sql(
  INSERT INTO entry_rechecks (entry_id, visit_id, crawl_id, outcome, not_seen, dropped, at_ms)
  VALUES (?1, ?2, ?3, ?4, (SELECT not_seen FROM blacklist WHERE id = ?1), ?5, ?6)
  )sql");
  history.bind_int64(1, entry_id)
      .bind_int64(2, visit_id)
      .bind_int64(3, site.crawl_id)
      .bind_text(4, outcome)
      .bind_int64(5, dropped ? 1 : 0)
      .bind_int64(6, now_ms);
  history.run();
}

void SqliteStore::drop_page(std::int64_t entry_id, const std::string& reason, std::int64_t now_ms) {
  // The entries only this page's visits named: named by one of its visits, and by no visit that named
  // another page the crawl still lists. Marked first, while the page itself still counts as listed.
  Statement dependents = database_.prepare(fmt::format(R"sql(
  UPDATE entry_sources SET removed_ms = ?2, removed_reason = ?3
  WHERE source_id = {0} AND removed_ms IS NULL AND entry_id IN (
    SELECT named.entry_id FROM entry_visits mine
    JOIN entry_visits named ON named.visit_id = mine.visit_id AND named.entry_id != ?1
    WHERE mine.entry_id = ?1
      AND NOT EXISTS (
        SELECT 1 FROM entry_visits other
        JOIN entry_visits other_page ON other_page.visit_id = other.visit_id AND other_page.entry_id != ?1
        JOIN blacklist page ON page.id = other_page.entry_id AND page.kind = 'page'
        JOIN entry_sources listed ON listed.entry_id = page.id AND listed.source_id = {0} AND listed.removed_ms IS NULL
        WHERE other.entry_id = named.entry_id))
  )sql",
                                                       kCrawlSource));
  dependents.bind_int64(1, entry_id).bind_int64(2, now_ms).bind_text(3, "its page left the feeds: " + reason);
  dependents.run();
  Statement page =
      database_.prepare(fmt::format("UPDATE entry_sources SET removed_ms = ?2, removed_reason = ?3 "
                                    "WHERE entry_id = ?1 AND source_id = {} AND removed_ms IS NULL",
                                    kCrawlSource));
  page.bind_int64(1, entry_id).bind_int64(2, now_ms).bind_text(3, reason);
  page.run();
}

util::Result<std::vector<Store::RecheckPage>> SqliteStore::pages_due(std::int64_t confirmed_before_ms) const {
  return guarded([&]() -> std::vector<RecheckPage> {
    Statement select = database_.prepare(fmt::format(R"sql(
  SELECT b.id, b.value FROM blacklist b
  JOIN entry_sources e ON e.entry_id = b.id AND e.source_id = {} AND e.removed_ms IS NULL
  WHERE b.kind = 'page' AND coalesce(b.last_seen_ms, 0) < ?1
  ORDER BY coalesce(b.last_seen_ms, 0), b.id
  )sql",
                                                     kCrawlSource));
    select.bind_int64(1, confirmed_before_ms);
    std::vector<RecheckPage> pages;
    while (select.step())
      pages.push_back({static_cast<std::int64_t>(pages.size()) + 1, select.column_int64(0), select.column_text(1)});
    return pages;
  });
}

util::Result<std::int64_t> SqliteStore::begin_recheck(const CrawlRow& crawl, const std::vector<RecheckPage>& pages,
                                                      std::int64_t confirmed_before_ms, int drop_after) {
  return guarded([&]() -> std::int64_t {
    Transaction transaction(database_);
    CrawlRow row = crawl;
    row.input_path = "recheck";
    row.total = static_cast<std::int64_t>(pages.size());
    const std::int64_t id = insert_crawl(row);
    Statement recheck =
        database_.prepare("INSERT INTO rechecks (crawl_id, confirmed_before_ms, drop_after) VALUES (?1, ?2, ?3)");
    recheck.bind_int64(1, id).bind_int64(2, confirmed_before_ms).bind_int64(3, drop_after);
    recheck.run();
    Statement page =
        database_.prepare("INSERT INTO recheck_pages (crawl_id, position, entry_id, url) VALUES (?1, ?2, ?3, ?4)");
    for (const auto& due : pages) {
      page.reset();
      page.bind_int64(1, id).bind_int64(2, due.position).bind_int64(3, due.entry_id).bind_text(4, due.url);
      page.run();
    }
    transaction.commit();
    return id;
  });
}

util::Result<std::vector<Store::RecheckPage>> SqliteStore::recheck_pages(std::int64_t crawl_id) const {
  return guarded([&]() -> std::vector<RecheckPage> {
    Statement select =
        database_.prepare("SELECT position, entry_id, url FROM recheck_pages WHERE crawl_id = ?1 ORDER BY position");
    select.bind_int64(1, crawl_id);
    std::vector<RecheckPage> pages;
    while (select.step()) pages.push_back({select.column_int64(0), select.column_int64(1), select.column_text(2)});
    return pages;
  });
}

util::Result<std::optional<Store::CrawlRow>> SqliteStore::latest_recheck() const {
  auto newest = guarded([&]() -> std::int64_t {
    Statement select = database_.prepare("SELECT coalesce(max(crawl_id), 0) FROM rechecks");
    select.step();  // an aggregate always yields one row
    return select.column_int64(0);
  });
  if (!newest) return newest.error();
  if (*newest == 0) return std::optional<CrawlRow>{};
  return crawl(*newest);
}

util::Result<Store::RecheckTally> SqliteStore::recheck_tally(std::int64_t crawl_id) const {
  return guarded([&]() -> RecheckTally {
    Statement select = database_.prepare(
        "SELECT coalesce(sum(outcome = 'confirmed'), 0), coalesce(sum(outcome = 'not_seen'), 0), "
        "coalesce(sum(outcome = 'undetermined'), 0), coalesce(sum(dropped), 0) FROM entry_rechecks WHERE crawl_id = "
        "?1");
    select.bind_int64(1, crawl_id);
    select.step();  // an aggregate always yields one row
    return RecheckTally{select.column_int64(0), select.column_int64(1), select.column_int64(2), select.column_int64(3)};
  });
}

util::Result<std::int64_t> SqliteStore::allow(std::string_view value, std::string_view reason, std::int64_t now_ms) {
  return guarded([&]() -> std::int64_t {
    Transaction transaction(database_);
    database_.exec("INSERT OR IGNORE INTO sources (name, format) VALUES ('review', 'review')");  // on first use
    Statement add = database_.prepare(
        "INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json) "
        "VALUES ('allow', ?1, ?2, ?2, 0, 100, json_object('source', 'review', 'reason', ?3)) "
        "ON CONFLICT (kind, value) DO UPDATE SET evidence_json = excluded.evidence_json, last_seen_ms = ?2 "
        "RETURNING id");
    add.bind_text(1, value).bind_int64(2, now_ms).bind_text(3, reason);
    if (!add.step()) throw Error(SQLITE_ERROR, "allow", "the entry was not written");
    const std::int64_t id = add.column_int64(0);
    add.reset();
    Statement listed = database_.prepare(R"sql(
  INSERT INTO entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms, reason)
  SELECT ?1, id, ?2, ?2, ?3 FROM sources WHERE name = 'review'
  ON CONFLICT (entry_id, source_id) DO UPDATE SET last_listed_ms = excluded.last_listed_ms, removed_ms = NULL,
    removed_reason = NULL, reason = excluded.reason
  )sql");
    listed.bind_int64(1, id).bind_int64(2, now_ms).bind_text(3, reason);
    listed.run();
    transaction.commit();
    return id;
  });
}

util::Result<std::optional<Store::EntryProof>> SqliteStore::entry_proof(std::int64_t id, int limit) {
  limit = std::clamp(limit, 1, 1000);
  auto read = guarded([&]() -> std::optional<std::pair<EntryProof, std::vector<std::int64_t>>> {
    ReadTransaction snapshot(database_);
    Statement entry = database_.prepare(
        "SELECT kind, value, coalesce(first_seen_ms, 0), coalesce(last_seen_ms, 0), hits, coalesce(confidence, 0), "
        "coalesce(evidence_json, ''), not_seen FROM blacklist WHERE id = ?1");
    entry.bind_int64(1, id);
    if (!entry.step()) return std::nullopt;
    EntryProof proof;
    proof.id = id;
    proof.entry = BlacklistEntry{entry.column_text(0),  entry.column_text(1),  entry.column_int64(2),
                                 entry.column_int64(3), entry.column_int64(4), static_cast<int>(entry.column_int64(5)),
                                 entry.column_text(6)};
    proof.not_seen = entry.column_int64(7);
    entry.reset();

    Statement listings = database_.prepare(
        "SELECT s.name, e.first_listed_ms, e.last_listed_ms, coalesce(e.removed_ms, 0), coalesce(e.reason, ''), "
        "coalesce(e.removed_reason, '') FROM entry_sources e JOIN sources s ON s.id = e.source_id "
        "WHERE e.entry_id = ?1 ORDER BY s.name");
    listings.bind_int64(1, id);
    while (listings.step()) {
      proof.listings.push_back({listings.column_text(0), listings.column_int64(1), listings.column_int64(2),
                                listings.column_int64(3), listings.column_text(4), listings.column_text(5)});
      proof.active = proof.active || proof.listings.back().removed_ms == 0;
    }

    Statement rechecks = database_.prepare(
        "SELECT visit_id, crawl_id, outcome, not_seen, dropped, at_ms FROM entry_rechecks WHERE entry_id = ?1 "
        "ORDER BY at_ms DESC, visit_id DESC LIMIT ?2");
    rechecks.bind_int64(1, id).bind_int64(2, limit);
    while (rechecks.step())
      proof.rechecks.push_back({rechecks.column_int64(0), rechecks.column_int64(1), rechecks.column_text(2),
                                rechecks.column_int64(3), rechecks.column_int64(4) != 0, rechecks.column_int64(5)});

    Statement count = database_.prepare("SELECT count(*) FROM entry_visits WHERE entry_id = ?1");
    count.bind_int64(1, id);
    count.step();  // an aggregate always yields one row
    proof.visit_count = count.column_int64(0);
    count.reset();
    Statement visits =
        database_.prepare("SELECT visit_id FROM entry_visits WHERE entry_id = ?1 ORDER BY visit_id DESC LIMIT ?2");
    visits.bind_int64(1, id).bind_int64(2, limit);
    std::vector<std::int64_t> visit_ids;
    while (visits.step()) visit_ids.push_back(visits.column_int64(0));
    visits.reset();
    snapshot.end();
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
