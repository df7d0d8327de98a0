// crawler/dashboard.hpp — the pages a person reads: the one `cjcrawl serve` shows at / (the latest
// detections with their reasons, and per visit a CPU-trace chart — inline SVG: the threshold line
// drawn, the samples above it marked — the hot code, the socket endpoints and other pool traffic and
// the scripts that matched), an entry's proof page, and the report `check --report` writes.
//
// Pure: stored rows in, one self-contained HTML document out. No script, no external asset (it must
// work offline and under a CSP of default-src 'none'). Every value came from a hostile page: all
// text is HTML-escaped, bytes that are not UTF-8 become U+FFFD, C0 controls are dropped, C1 and
// bidirectional controls (U+202E...) become U+FFFD,
// and nothing from a page becomes a link, an attribute other than a title, or markup.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/store.hpp"

namespace crawler {

struct DashboardData {
  db::Store::Summary summary;
  std::vector<db::VisitRow> detections;  // newest first: cryptojacking and suspicious
  std::vector<db::VisitRow> recent;      // newest first: every verdict
};

// Caps on what one card shows (a page may open thousands of sockets); the rest is counted.
inline constexpr std::size_t kDashboardMaxReasons = 20;
inline constexpr std::size_t kDashboardMaxSockets = 10;
inline constexpr std::size_t kDashboardMaxScripts = 10;
inline constexpr std::size_t kDashboardMaxSamples = 2'000;  // chart points (a visit has far fewer)
inline constexpr std::size_t kDashboardMaxHotCode = 20;
inline constexpr std::size_t kReportMaxScripts = 200;

std::string render_dashboard(const DashboardData& data);

// /entries/ID: one blacklist entry and its proof — who lists it and why, first and last
// confirmation, its rechecks, and a card per visit that named it (reasons, CPU chart, hot code,
// sockets and other pool traffic, matched scripts).
std::string render_entry_page(const db::Store::EntryProof& proof);

// `check --report FILE.html`: one visit as a file a person can send. The same escaping as the
// dashboard, and a Content-Security-Policy of its own (default-src 'none') in a meta tag, because a
// file has no server to send one: it runs no script and loads nothing. No links.
std::string render_report(const db::VisitRow& row, const std::vector<blacklist::Offender>& added);

// The chart of one visit: `samples` is evidence_json's "cpu_samples" ([{"t_ms", "cpu_percent"}]).
// <svg class="cpu-chart" data-samples=N data-over=K data-threshold=T> with a <line class="threshold">
// and one <circle class="over"> per sample above the threshold. Empty string when there are no samples.
std::string cpu_chart_svg(const nlohmann::json& samples, double threshold_percent);

// Text made safe for HTML element content and quoted attribute values.
std::string html_escape(std::string_view text);

}  // namespace crawler
