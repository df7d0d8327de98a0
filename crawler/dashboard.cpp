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

std::string detection_card(const db::VisitRow& row) {
  auto evidence = nlohmann::json::parse(row.evidence_json, nullptr, false);
  if (evidence.is_discarded()) evidence = nlohmann::json::object();
  const auto& rule = evidence.is_object() && evidence.contains("cpu_rule") ? evidence["cpu_rule"] : nlohmann::json();
  // Visits stored before the rule was recorded: the default threshold, said so.
  const double threshold = json_number(rule, "threshold_percent", 0);
  std::string chart = cpu_chart_svg(json_array(evidence, "cpu_samples"), threshold > 0 ? threshold : 50);
  if (chart.empty()) chart = "<p class=\"muted\">No CPU samples.</p>";
  else if (threshold <= 0) chart += "<p class=\"muted\">Threshold not recorded with this visit; 50% drawn.</p>";
  const std::string& shown_url = row.final_url.empty() ? row.url : row.final_url;
  return fmt::format(
      "<section class=\"card\" id=\"visit-{id}\"><h3>{badge} <span class=\"url\">{url}</span></h3>"
      "<p class=\"meta\">visit {id} · {time} · confidence {confidence} · status {status} · "
      "<a href=\"/api/visits/{id}\">evidence JSON</a></p>{reasons}<h4>CPU</h4>{chart}{sockets}{scripts}</section>\n",
      fmt::arg("id", row.id), fmt::arg("badge", verdict_badge(row.verdict)), fmt::arg("url", html_escape(shown_url)),
      fmt::arg("time", time_text(row.started_at_ms)), fmt::arg("confidence", row.confidence),
      fmt::arg("status", html_escape(row.status)), fmt::arg("reasons", reasons_list(evidence)),
      fmt::arg("chart", chart), fmt::arg("sockets", sockets_table(evidence)),
      fmt::arg("scripts", scripts_table(evidence)));
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
)css";

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
