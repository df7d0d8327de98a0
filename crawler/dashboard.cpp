// crawler/dashboard.cpp — see dashboard.hpp. One function per part of the page.
#include "crawler/dashboard.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "db/export.hpp"

namespace crawler {

namespace {

// Decodes one UTF-8 sequence at text[i] into *code_point; returns its length, or 0 if it is not
// valid UTF-8.
std::size_t utf8_length(std::string_view text, std::size_t i, std::uint32_t* code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  }
  if (lead >= 0xc2 && lead <= 0xdf) length = 2, code = lead & 0x1f;
  else if (lead >= 0xe0 && lead <= 0xef) length = 3, code = lead & 0x0f;
  else if (lead >= 0xf0 && lead <= 0xf4) length = 4, code = lead & 0x07;
  else return 0;
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
  if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10ffff)) ||
      (code >= 0xd800 && code <= 0xdfff))
    return 0;
  *code_point = code;
  return length;
}

// C1 controls and the bidirectional controls that make text display in another order than it is
// stored: a hostile URL could otherwise show as a different domain.
bool is_hidden_control(std::uint32_t code) {
  return (code >= 0x80 && code <= 0x9f) || code == 0x061c || code == 0x200e || code == 0x200f ||
         (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

std::string time_text(std::int64_t ms) {
  // "2026-11-26 10:00:00 UTC"
  auto text = db::format_rfc3339_seconds(ms);
  std::replace(text.begin(), text.end(), 'T', ' ');
  if (!text.empty() && text.back() == 'Z') text.replace(text.size() - 1, 1, " UTC");
  return text;
}

std::string json_text(const nlohmann::json& value, const char* key) {
  if (!value.is_object() || !value.contains(key)) return {};
  const auto& field = value[key];
  if (field.is_string()) return field.get<std::string>();
  if (field.is_null()) return {};
  return field.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

double json_number(const nlohmann::json& value, const char* key, double fallback = 0) {
  if (!value.is_object() || !value.contains(key) || !value[key].is_number()) return fallback;
  return value[key].get<double>();
}

const nlohmann::json& json_array(const nlohmann::json& value, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!value.is_object() || !value.contains(key) || !value[key].is_array()) return kEmpty;
  return value[key];
}

std::string verdict_badge(const std::string& verdict) {
  const char* css = verdict == "cryptojacking" ? "bad" : verdict == "suspicious" ? "warn" : "ok";
  return fmt::format("<span class=\"badge {}\">{}</span>", css, html_escape(verdict));
}

std::string reasons_list(const nlohmann::json& evidence) {
  const auto& reasons = json_array(evidence, "reasons");
  if (reasons.empty()) return "<p class=\"muted\">No reasons recorded.</p>";
  std::string html = "<ul class=\"reasons\">";
  std::size_t shown = 0;
  for (const auto& reason : reasons) {
    if (shown++ == kDashboardMaxReasons) break;
    html += fmt::format("<li><b>{}</b> <span class=\"strength {}\">{}</span> {}</li>",
                        html_escape(json_text(reason, "signal")), html_escape(json_text(reason, "strength")),
                        html_escape(json_text(reason, "strength")), html_escape(json_text(reason, "detail")));
  }
  if (reasons.size() > kDashboardMaxReasons)
    html += fmt::format("<li class=\"muted\">and {} more</li>", reasons.size() - kDashboardMaxReasons);
  return html + "</ul>";
}

std::string sockets_table(const nlohmann::json& evidence) {
  const auto& sockets = json_array(evidence, "websockets");
  if (sockets.empty()) return "";
  std::string html =
      "<h4>WebSocket endpoints</h4><table class=\"sockets\"><tr><th>URL</th><th>opened by</th><th>pool protocol</th>"
      "<th>jobs</th><th>submits</th><th>frames sent/received</th></tr>";
  std::size_t shown = 0;
  for (const auto& socket : sockets) {
    if (shown++ == kDashboardMaxSockets) break;
    const auto pool = socket.is_object() && socket.contains("pool") ? socket["pool"] : nlohmann::json::object();
    const std::string protocol = json_text(pool, "protocol");
    html += fmt::format("<tr><td class=\"url\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td></tr>",
                        html_escape(json_text(socket, "url")), html_escape(json_text(socket, "target_type")),
                        protocol.empty() ? "—" : html_escape(protocol), json_number(pool, "jobs"),
                        json_number(pool, "submits"), json_number(socket, "frames_sent"),
                        json_number(socket, "frames_received"));
  }
  html += "</table>";
  if (sockets.size() > kDashboardMaxSockets)
    html += fmt::format("<p class=\"muted\">and {} more sockets</p>", sockets.size() - kDashboardMaxSockets);
  return html;
}

// Scripts that carried a signal: keyword hits or a Wasm fingerprint.
std::string scripts_table(const nlohmann::json& evidence) {
  std::vector<const nlohmann::json*> matched;
  std::size_t total = 0;
  for (const auto& script : json_array(evidence, "scripts")) {
    if (!script.is_object() || !(script.contains("keywords") || script.contains("wasm"))) continue;
    ++total;
    if (matched.size() < kDashboardMaxScripts) matched.push_back(&script);
  }
  if (matched.empty()) return "";
  std::string html =
      "<h4>Matched scripts</h4><table class=\"scripts\"><tr><th>URL</th><th>in</th><th>keywords</th><th>Wasm</th></tr>";
  for (const auto* script : matched) {
    std::string keywords = "—";
    if (script->contains("keywords")) {
      const auto& found = (*script)["keywords"];
      std::string patterns;
      for (const auto& hit : json_array(found, "hits")) {
        if (!patterns.empty()) patterns += ", ";
        patterns += fmt::format("{}×{}", json_text(hit, "pattern"), json_number(hit, "count"));
        if (patterns.size() > 300) break;
      }
      keywords = fmt::format("score {} {}: {}", json_number(found, "score"),
                             json_text(found, "miner") == "true" ? "(miner)" : "", html_escape(patterns));
    }
    std::string wasm = "—";
    if (script->contains("wasm")) {
      const auto& found = (*script)["wasm"];
      wasm = fmt::format("{} score {}: {}", json_text(found, "miner") == "true" ? "miner" : "not a miner",
                         json_number(found, "score"), html_escape(json_text(found, "summary")));
    }
    html += fmt::format("<tr><td class=\"url\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        html_escape(json_text(*script, "url")), html_escape(json_text(*script, "target_type")),
                        keywords, wasm);
  }
  html += "</table>";
  if (total > matched.size())
    html += fmt::format("<p class=\"muted\">and {} more matched scripts</p>", total - matched.size());
  return html;
}

// What the profiler found burning the CPU: the hot functions, judged.
std::string hot_code_table(const nlohmann::json& evidence) {
  const auto& hot = json_array(evidence, "hot_code");
  if (hot.empty()) return "";
  std::string html =
      "<h4>Hot code</h4><table class=\"hot\"><tr><th>share of a core</th><th>function</th><th>script or module</th>"
      "<th>in</th><th>what it is</th><th>why</th></tr>";
  std::size_t shown = 0;
  for (const auto& record : hot) {
    if (shown++ == kDashboardMaxHotCode) break;
    const std::string module = json_text(record, "wasm_sha256");
    html += fmt::format(
        "<tr><td>{:.0f}%</td><td class=\"url\">{}</td><td class=\"url\">{}</td><td>{}</td><td><b>{}</b></td>"
        "<td>{}</td></tr>",
        100 * json_number(record, "share"), html_escape(json_text(record, "function")),
        html_escape(module.empty() ? json_text(record, "script_url") : "Wasm module " + module),
        html_escape(json_text(record, "target_type")), html_escape(json_text(record, "code")),
        html_escape(json_text(record, "why")));
  }
  html += "</table>";
  if (hot.size() > kDashboardMaxHotCode)
    html += fmt::format("<p class=\"muted\">and {} more hot functions</p>", hot.size() - kDashboardMaxHotCode);
  return html;
}

// Pool traffic on channels other than WebSockets (HTTP bodies, server-sent events).
std::string http_channels_table(const nlohmann::json& evidence) {
  const auto& channels = json_array(evidence, "http_channels");
  if (channels.empty()) return "";
  std::string html =
      "<h4>Other pool traffic (HTTP)</h4><table class=\"channels\"><tr><th>endpoint</th><th>from</th>"
      "<th>messages</th><th>hashing jobs</th><th>shares</th></tr>";
  std::size_t shown = 0;
  for (const auto& channel : channels) {
    if (shown++ == kDashboardMaxSockets) break;
    const auto pool = channel.is_object() && channel.contains("pool") ? channel["pool"] : nlohmann::json::object();
    const auto shape = pool.is_object() && pool.contains("shape") ? pool["shape"] : nlohmann::json::object();
    html += fmt::format("<tr><td class=\"url\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        html_escape(json_text(channel, "endpoint")), html_escape(json_text(channel, "target_type")),
                        json_number(channel, "messages"), json_number(shape, "jobs"), json_number(shape, "shares"));
  }
  html += "</table>";
  if (channels.size() > kDashboardMaxSockets)
    html += fmt::format("<p class=\"muted\">and {} more channels</p>", channels.size() - kDashboardMaxSockets);
  return html;
}

// Every script and module the visit read (a report shows them all, up to a bound).
std::string all_scripts_table(const nlohmann::json& evidence) {
  const auto& scripts = json_array(evidence, "scripts");
  if (scripts.empty()) return "<h4>Scripts and modules</h4><p class=\"muted\">None.</p>";
  std::string html =
      "<h4>Scripts and modules</h4><table class=\"all-scripts\"><tr><th>URL</th><th>kind</th><th>in</th>"
      "<th>bytes</th><th>SHA-256</th><th>finding</th></tr>";
  std::size_t shown = 0;
  for (const auto& script : scripts) {
    if (shown++ == kReportMaxScripts) break;
    std::string finding = "—";
    if (script.is_object() && script.contains("wasm")) finding = json_text(script["wasm"], "summary");
    else if (script.is_object() && script.contains("keywords"))
      finding = fmt::format("keywords, score {}", json_number(script["keywords"], "score"));
    const std::string url = json_text(script, "url");
    html += fmt::format(
        "<tr><td class=\"url\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"url\">{}</td>"
        "<td>{}</td></tr>",
        html_escape(url.empty() ? "(inline)" : url), html_escape(json_text(script, "language")),
        html_escape(json_text(script, "target_type")), json_number(script, "length"),
        html_escape(json_text(script, "sha256")), html_escape(finding));
  }
  html += "</table>";
  if (scripts.size() > kReportMaxScripts)
    html += fmt::format("<p class=\"muted\">and {} more</p>", scripts.size() - kReportMaxScripts);
  return html;
}

std::string chart_of(const nlohmann::json& evidence) {
  const auto& rule = evidence.is_object() && evidence.contains("cpu_rule") ? evidence["cpu_rule"] : nlohmann::json();
  // Visits stored before the rule was recorded: the default threshold, said so.
  const double threshold = json_number(rule, "threshold_percent", 0);
  std::string chart = cpu_chart_svg(json_array(evidence, "cpu_samples"), threshold > 0 ? threshold : 50);
  if (chart.empty()) chart = "<p class=\"muted\">No CPU samples.</p>";
  else if (threshold <= 0) chart += "<p class=\"muted\">Threshold not recorded with this visit; 50% drawn.</p>";
  return chart;
}

nlohmann::json parsed_evidence(const db::VisitRow& row) {
  auto evidence = nlohmann::json::parse(row.evidence_json, nullptr, false);
  return evidence.is_object() ? evidence : nlohmann::json::object();
}

std::string detection_card(const db::VisitRow& row) {
  const auto evidence = parsed_evidence(row);
  const std::string& shown_url = row.final_url.empty() ? row.url : row.final_url;
  return fmt::format(
      "<section class=\"card\" id=\"visit-{id}\"><h3>{badge} <span class=\"url\">{url}</span></h3>"
      "<p class=\"meta\">visit {id} · {time} · confidence {confidence} · status {status} · "
      "<a href=\"/api/visits/{id}\">evidence JSON</a></p>{reasons}<h4>CPU</h4>{chart}{hot}{sockets}{channels}{scripts}"
      "</section>\n",
      fmt::arg("id", row.id), fmt::arg("badge", verdict_badge(row.verdict)), fmt::arg("url", html_escape(shown_url)),
      fmt::arg("time", time_text(row.started_at_ms)), fmt::arg("confidence", row.confidence),
      fmt::arg("status", html_escape(row.status)), fmt::arg("reasons", reasons_list(evidence)),
      fmt::arg("chart", chart_of(evidence)), fmt::arg("hot", hot_code_table(evidence)),
      fmt::arg("sockets", sockets_table(evidence)), fmt::arg("channels", http_channels_table(evidence)),
      fmt::arg("scripts", scripts_table(evidence)));
}

constexpr std::string_view kStyle = R"css(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em}h3{font-size:1.05em;margin:.2em 0}h4{margin:.8em 0 .2em;font-size:.95em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em 1em;margin:1em 0}
.badge{padding:.1em .5em;border-radius:4px;color:#fff;font-size:.85em}
.bad{background:#c0392b}.warn{background:#d68910}.ok{background:#1e8449}
.url{font-family:ui-monospace,monospace;word-break:break-all}
.muted{color:#777}.meta{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.9em}td,th{border-bottom:1px solid #eee;padding:.2em .5em;text-align:left}
.strength{font-size:.8em;color:#555;border:1px solid #ccc;border-radius:3px;padding:0 .3em}
.cpu-chart{background:#fff;border:1px solid #eee}
.cpu-chart .trace{fill:none;stroke:#2e86c1;stroke-width:1.5}
.cpu-chart .threshold{stroke:#c0392b;stroke-dasharray:6 4;stroke-width:1.5}
.cpu-chart circle{fill:#2e86c1}.cpu-chart circle.over{fill:#c0392b}
.cpu-chart text{font-size:11px;fill:#555}
.verdict{font-size:1.3em}.added li{font-family:ui-monospace,monospace;word-break:break-all}
)css";

std::string page(std::string_view title, std::string_view body, bool csp_meta) {
  // A file opened from disk has no server to send the policy: the document carries it.
  const std::string policy =
      csp_meta ? "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
                 "'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">"
               : "";
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{}<meta name=\"viewport\" "
      "content=\"width=device-width\"><title>{}</title><style>{}</style></head><body>{}</body></html>\n",
      policy, html_escape(title), kStyle, body);
}

std::string listings_table(const std::vector<db::Store::EntryListing>& listings) {
  std::string html =
      "<table class=\"listings\"><tr><th>source</th><th>first listed</th><th>last listed</th><th>state</th>"
      "<th>why</th></tr>";
  for (const auto& listing : listings)
    html +=
        fmt::format("<tr><td class=\"url\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    html_escape(listing.source), time_text(listing.first_listed_ms), time_text(listing.last_listed_ms),
                    listing.removed_ms ? "left the feeds " + time_text(listing.removed_ms) : std::string("listed"),
                    html_escape(listing.removed_ms ? listing.removed_reason : listing.reason));
  return html + "</table>";
}

std::string rechecks_table(const std::vector<db::Store::EntryRecheck>& rechecks) {
  if (rechecks.empty()) return "<p class=\"muted\">Never rechecked.</p>";
  std::string html =
      "<table class=\"rechecks\"><tr><th>time</th><th>outcome</th><th>not seen in a row</th><th>visit</th></tr>";
  for (const auto& recheck : rechecks)
    html += fmt::format("<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>", time_text(recheck.at_ms),
                        html_escape(recheck.outcome), recheck.dropped ? " (left the feeds)" : "", recheck.not_seen,
                        recheck.visit_id);
  return html + "</table>";
}

std::string recent_table(const std::vector<db::VisitRow>& rows) {
  if (rows.empty()) return "<p class=\"muted\">No visits yet. Run <code>cjcrawl check URL</code>.</p>";
  std::string html =
      "<table class=\"recent\"><tr><th>visit</th><th>time</th><th>verdict</th><th>status</th><th>URL</th>"
      "<th>confidence</th></tr>";
  for (const auto& row : rows)
    html += fmt::format(
        "<tr><td><a href=\"/api/visits/{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td class=\"url\">{4}"
        "</td><td>{5}</td></tr>",
        row.id, time_text(row.started_at_ms), verdict_badge(row.verdict), html_escape(row.status), html_escape(row.url),
        row.confidence);
  return html + "</table>";
}

std::string summary_block(const db::Store::Summary& summary) {
  std::string kinds;
  std::int64_t active = 0;
  for (const auto& [kind, count] : summary.active_by_kind) {
    kinds += fmt::format("<li>{}: {}</li>", html_escape(kind), count);
    active += count;
  }
  std::string feeds;
  for (const auto format : db::kFormats) feeds += fmt::format("<a href=\"/feed/{0}\">{0}</a> ", db::to_string(format));
  return fmt::format(
      "<section class=\"summary\"><p><b>{}</b> visits, <b>{}</b> judged cryptojacking. <b>{}</b> active blacklist "
      "entries (generation {}):</p><ul class=\"kinds\">{}</ul><p>Feeds: {}</p></section>",
      summary.visits, summary.detections, active, summary.generation, kinds, feeds);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::uint32_t code = 0;
    const std::size_t length = utf8_length(text, i, &code);
    if (length == 0 || is_hidden_control(code)) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += length == 0 ? 1 : length;
      continue;
    }
    if (length == 1) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
          if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
          else if (c == '\t' || c == '\n') out += ' ';
          // other control characters are dropped
      }
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string cpu_chart_svg(const nlohmann::json& samples, double threshold_percent) {
  if (!samples.is_array() || samples.empty()) return "";
  std::vector<std::pair<double, double>> points;  // (t seconds, percent)
  for (const auto& sample : samples) {
    if (points.size() == kDashboardMaxSamples) break;
    points.emplace_back(json_number(sample, "t_ms") / 1000.0, std::max(0.0, json_number(sample, "cpu_percent")));
  }
  constexpr double kWidth = 640, kHeight = 170, kLeft = 44, kRight = 10, kTop = 10, kBottom = 26;
  double top_percent = std::max(100.0, threshold_percent);
  for (const auto& [t, percent] : points) top_percent = std::max(top_percent, percent);
  top_percent = std::ceil(top_percent / 50) * 50;
  const double first_t = points.front().first;
  const double span_t = std::max(points.back().first - first_t, 1e-3);
  const auto x = [&](std::size_t i, double t) {
    if (points.size() == 1) return kLeft + (kWidth - kLeft - kRight) / 2;
    (void)i;
    return kLeft + (t - first_t) / span_t * (kWidth - kLeft - kRight);
  };
  const auto y = [&](double percent) { return kTop + (1 - percent / top_percent) * (kHeight - kTop - kBottom); };
  std::size_t over = 0;
  for (const auto& point : points) over += point.second > threshold_percent ? 1 : 0;

  std::string svg = fmt::format(
      "<svg class=\"cpu-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" data-samples=\"{}\" data-over=\"{}\" data-threshold=\"{}\"><title>CPU per sample interval: {} of "
      "{} "
      "samples above the {}% threshold</title>",
      kWidth, kHeight, kWidth, kHeight, points.size(), over, threshold_percent, over, points.size(), threshold_percent);
  // Axes and labels: 0, the top, and the time span.
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#999\"/>", kLeft, kTop,
                     kHeight - kBottom);
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#999\"/>", kLeft, kHeight - kBottom,
                     kWidth - kRight);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:g}%</text>", kLeft - 4, kTop + 8, top_percent);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0%</text>", kLeft - 4, kHeight - kBottom);
  svg += fmt::format("<text x=\"{}\" y=\"{}\">{:.1f} s</text>", kLeft, kHeight - 8, first_t);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.1f} s</text>", kWidth - kRight, kHeight - 8,
                     points.back().first);
  // The threshold the rule compares against.
  svg += fmt::format(
      "<line class=\"threshold\" x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\"><title>threshold "
      "{3:g}%</title></line>",
      kLeft, y(threshold_percent), kWidth - kRight, threshold_percent);
  svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#c0392b\">threshold {:g}%</text>",
                     kWidth - kRight, y(threshold_percent) - 4, threshold_percent);
  // The trace, then one dot per sample; those above the threshold marked.
  std::string polyline;
  for (std::size_t i = 0; i < points.size(); ++i)
    polyline += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", x(i, points[i].first), y(points[i].second));
  svg += fmt::format("<polyline class=\"trace\" points=\"{}\"/>", polyline);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const bool above = points[i].second > threshold_percent;
    svg += fmt::format("<circle{} cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\"><title>{:.1f} s: {:.1f}%</title></circle>",
                       above ? " class=\"over\"" : "", x(i, points[i].first), y(points[i].second), above ? 3 : 2,
                       points[i].first, points[i].second);
  }
  return svg + "</svg>";
}

std::string render_entry_page(const db::Store::EntryProof& proof) {
  const auto& entry = proof.entry;
  std::string visits;
  for (const auto& row : proof.visits) visits += detection_card(row);
  if (visits.empty()) visits = "<p class=\"muted\">No visit named this entry (it came from a list or a review).</p>";
  const std::string body = fmt::format(
      "<h1>Blacklist entry {id}</h1><section class=\"card\"><h3><span class=\"badge {css}\">{state}</span> {kind} "
      "<span class=\"url\">{value}</span></h3><p class=\"meta\">first confirmed {first} · last confirmed {last} · "
      "{hits} cryptojacking visit(s) · confidence {confidence} · not seen on the last {not_seen} recheck(s) · "
      "<a href=\"/api/entries/{id}\">proof JSON</a></p><h4>Who lists it</h4>{listings}<h4>Rechecks</h4>{rechecks}"
      "</section><h2>The visits that named it ({shown} of {count}, newest first)</h2>{visits}",
      fmt::arg("id", proof.id), fmt::arg("css", proof.active ? "bad" : "ok"),
      fmt::arg("state", proof.active ? "in the feeds" : "left the feeds"), fmt::arg("kind", html_escape(entry.kind)),
      fmt::arg("value", html_escape(entry.value)), fmt::arg("first", time_text(entry.first_seen_ms)),
      fmt::arg("last", time_text(entry.last_seen_ms)), fmt::arg("hits", entry.hits),
      fmt::arg("confidence", entry.confidence), fmt::arg("not_seen", proof.not_seen),
      fmt::arg("listings", listings_table(proof.listings)), fmt::arg("rechecks", rechecks_table(proof.rechecks)),
      fmt::arg("shown", proof.visits.size()), fmt::arg("count", proof.visit_count), fmt::arg("visits", visits));
  return page(fmt::format("cjcrawl — entry {}", proof.id), body, false);
}

std::string render_report(const db::VisitRow& row, const std::vector<blacklist::Offender>& added) {
  const auto evidence = parsed_evidence(row);
  const std::string& shown_url = row.final_url.empty() ? row.url : row.final_url;
  std::string added_html;
  for (const auto& offender : added)
    added_html += fmt::format("<li>{}: {}</li>", html_escape(offender.kind), html_escape(offender.value));
  added_html = added_html.empty() ? "<p class=\"muted\">Nothing: only a cryptojacking verdict adds entries.</p>"
                                  : "<ul class=\"added\">" + added_html + "</ul>";
  const std::string body = fmt::format(
      "<h1>cjcrawl report</h1><section class=\"card\"><p class=\"verdict\">{badge} <span class=\"url\">{url}</span>"
      "</p><p class=\"meta\">checked {time} · confidence {confidence} · status {status}{reason} · visit {id} in the "
      "database · {elapsed:.1f} s</p><h4>Why</h4>{reasons}<h4>CPU</h4>{chart}{hot}{sockets}{channels}{scripts}"
      "<h4>Added to the blacklist</h4>{added}</section><p class=\"muted\">Written by cjcrawl. The page's own text "
      "is shown escaped; this file runs no script and loads nothing.</p>",
      fmt::arg("badge", verdict_badge(row.verdict)), fmt::arg("url", html_escape(shown_url)),
      fmt::arg("time", time_text(row.started_at_ms)), fmt::arg("confidence", row.confidence),
      fmt::arg("status", html_escape(row.status)),
      fmt::arg("reason", row.status_reason.empty() ? "" : " (" + html_escape(row.status_reason) + ")"),
      fmt::arg("id", row.id), fmt::arg("elapsed", static_cast<double>(row.elapsed_ms) / 1000),
      fmt::arg("reasons", reasons_list(evidence)), fmt::arg("chart", chart_of(evidence)),
      fmt::arg("hot", hot_code_table(evidence)), fmt::arg("sockets", sockets_table(evidence)),
      fmt::arg("channels", http_channels_table(evidence)), fmt::arg("scripts", all_scripts_table(evidence)),
      fmt::arg("added", added_html));
  return page("cjcrawl report — " + shown_url, body, true);
}

std::string render_dashboard(const DashboardData& data) {
  std::string cards;
  for (const auto& row : data.detections) cards += detection_card(row);
  if (cards.empty()) cards = "<p class=\"muted\">No detections yet.</p>";
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>cjcrawl — cryptojacking detections</title><style>{}</style></head>"
      "<body><h1>cjcrawl — cryptojacking detections</h1>{}<h2>Latest detections</h2>\n{}<h2>Recent visits</h2>{}"
      "</body></html>\n",
      kStyle, summary_block(data.summary), cards, recent_table(data.recent));
}

}  // namespace crawler
