// tests/unit/test_export.cpp — the blacklist as files: every format against a golden file (made once
// by this code, then checked by hand: the zone with named-checkzone, the bundle against STIX 2.1),
// byte-identical output for equal input in any order, victims kept out of the blocking formats,
// allow entries honoured, and hostile values that never become a rule and stay valid in the reports.
//
// To rewrite the golden files after a deliberate change: CJCRAWL_UPDATE_GOLDEN=1 cjcrawl_unit_tests
// "[export]", then read the diff.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "blacklist/known.hpp"
#include "blacklist/list_import.hpp"
#include "db/export.hpp"

namespace {

using db::ExportEntry;
using db::ExportOptions;
using db::Format;

constexpr std::int64_t kJan2 = 1'704'153'600'000;  // 2024-01-02T00:00:00Z
constexpr std::int64_t kJan3 = 1'704'240'000'000;
constexpr std::int64_t kJun1 = 1'717'200'000'000;
constexpr std::int64_t kNow = 1'718'010'720'000;  // 2024-06-10T09:12:00Z
constexpr std::string_view kNoCoinFeed = "https://lists.example.org/nocoin.txt";

std::filesystem::path fixtures() {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "fixtures/export";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

ExportEntry entry(std::string kind, std::string value, std::vector<std::string> sources = {"crawl"}) {
  ExportEntry e;
  e.kind = std::move(kind);
  e.value = std::move(value);
  e.first_seen_ms = kJan2;
  e.last_seen_ms = kJun1;
  e.hits = 1;
  e.confidence = 80;
  e.sources = std::move(sources);
  return e;
}

// The golden set: one of every kind, an allowed subdomain below a blocked domain, a domain under an
// allowed parent, an exactly allowed script, a socket on a bare address, a page (a victim), and
// imported patterns.
std::vector<ExportEntry> golden_entries() {
  std::vector<ExportEntry> entries;
  ExportEntry coinhive = entry("domain", "coinhive.com", {"crawl", std::string(kNoCoinFeed)});
  coinhive.hits = 12;
  coinhive.confidence = 95;
  coinhive.evidence_json =
      R"({"visit_id":7,"reasons":[{"signal":"pool_protocol","detail":"coinhive auth, job","strength":"conclusive"}]})";
  entries.push_back(coinhive);
  ExportEntry cryptoloot = entry("domain", "CryptoLoot.PRO.", {std::string(kNoCoinFeed)});
  cryptoloot.first_seen_ms = cryptoloot.last_seen_ms = kJan3;
  cryptoloot.confidence = 60;
  entries.push_back(cryptoloot);
  entries.push_back(entry("domain", "ads.allowed-cdn.net"));
  ExportEntry socket = entry("ws_endpoint", "wss://ws001.coinhive.com/proxy");
  socket.hits = 5;
  socket.confidence = 100;
  socket.evidence_json =
      R"({"visit_id":9,"reasons":[{"signal":"pool_confirmed","detail":"job received","strength":"conclusive"}]})";
  entries.push_back(socket);
  entries.push_back(entry("ws_endpoint", "ws://198.51.100.7:8080/pool"));
  entries.push_back(entry("script_url", "https://static.minercdn.net/lib/cn.js?v=3"));
  entries.push_back(entry("script_url", "https://static.minercdn.net/lib/legit.js"));
  entries.push_back(entry("page", "https://victim-news.com/article/42"));
  entries.push_back(entry("ip", "203.0.113.9", {std::string(kNoCoinFeed)}));
  entries.push_back(entry("wasm_sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
  entries.push_back(entry("allow", "safe.coinhive.com", {std::string(kNoCoinFeed)}));
  entries.push_back(entry("allow", "allowed-cdn.net", {std::string(kNoCoinFeed)}));
  entries.push_back(entry("allow", "https://static.minercdn.net/lib/legit.js"));
  // As blacklist::import_list writes them: patterns without a scheme, and a URL substring.
  entries.push_back(entry("ws_endpoint", "webminerpool.net/proxy", {std::string(kNoCoinFeed)}));
  entries.push_back(entry("script_url", "minero.cc/lib", {std::string(kNoCoinFeed)}));
  entries.push_back(entry("script_path", "/cryptonight.wasm", {std::string(kNoCoinFeed)}));
  return entries;
}

ExportOptions options_at(std::int64_t now_ms) {
  ExportOptions options;
  options.now_ms = now_ms;
  return options;
}

std::string golden_name(Format format) {
  return format == Format::stix ? "golden.stix.json" : "golden." + std::string(db::to_string(format));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The lines that are not headers or comments: what a blocker acts on.
std::vector<std::string> rules_of(Format format, const std::string& text) {
  std::vector<std::string> rules;
  for (const std::string& line : lines_of(text)) {
    if (line.empty()) continue;
    if (format == Format::hosts && line.starts_with('#')) continue;
    if (format == Format::adblock && (line.starts_with('!') || line == "[Adblock Plus 2.0]")) continue;
    if (format == Format::rpz && (line.starts_with(';') || line.starts_with('$') || line.starts_with('@'))) continue;
    rules.push_back(line);
  }
  return rules;
}

bool mentions(Format format, const std::string& text, const std::string& host) {
  for (const std::string& rule : rules_of(format, text))
    if (rule.find(host) != std::string::npos) return true;
  return false;
}

// A minimal RFC 4180 reader: records of fields, quotes undone.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += text[++i];
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(std::exchange(field, {}));
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      records.back().push_back(std::exchange(field, {}));
      records.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (records.back().empty() && field.empty()) records.pop_back();
  return records;
}

// The value a STIX pattern compares with, escapes undone (and LIKE's '%…%' taken off), or nullopt when
// the pattern is not "[object:path = '…']" or "[url:value LIKE '%…%']" with one literal running to the
// closing bracket.
std::optional<std::string> pattern_value(const std::string& pattern) {
  auto open = pattern.find(" = '");
  std::size_t start = open + 4;
  const auto like = pattern.find(" LIKE '%");
  if (like < open) {
    open = like;
    start = like + 8;
  }
  if (!pattern.starts_with('[') || open == std::string::npos) return std::nullopt;
  std::string out;
  for (std::size_t i = start; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      out += pattern[++i];
    } else if (pattern[i] == '\'') {
      if (pattern.substr(i + 1) != "]") return std::nullopt;
      if (like != std::string::npos && like == open) {
        if (!out.ends_with('%')) return std::nullopt;
        out.pop_back();
      }
      return out;
    } else {
      out += pattern[i];
    }
  }
  return std::nullopt;
}

// Whether `text` has the shape `shape`: 'x' a lower-case hex digit, 'd' a digit, 'V' an RFC 4122
// variant digit (8, 9, a, b); any other character stands for itself.
bool fits(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = shape[i] == 'x'   ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                    : shape[i] == 'd' ? c >= '0' && c <= '9'
                    : shape[i] == 'V' ? std::string_view("89ab").find(c) != std::string_view::npos
                                      : c == shape[i];
    if (!ok) return false;
  }
  return true;
}

constexpr std::string_view kUuidV5Shape = "xxxxxxxx-xxxx-5xxx-Vxxx-xxxxxxxxxxxx";

// Labels of [a-z0-9_-], two or more.
bool is_plain_host(std::string_view host) {
  if (host.empty() || host.front() == '.' || host.back() == '.' || host.find("..") != std::string_view::npos ||
      host.find('.') == std::string_view::npos)
    return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

// Whether a rule line has one of the few shapes the format may write, and nothing else.
bool is_safe_rule(Format format, std::string_view rule) {
  switch (format) {
    case Format::hosts: return rule.starts_with("0.0.0.0 ") && is_plain_host(rule.substr(8));
    case Format::domains: return is_plain_host(rule);
    case Format::rpz: {
      if (rule.starts_with("*.")) rule.remove_prefix(2);
      for (std::string_view action : {" CNAME .", " CNAME rpz-passthru."})
        if (rule.ends_with(action)) return is_plain_host(rule.substr(0, rule.size() - action.size()));
      return false;
    }
    case Format::adblock: {
      const auto literal = [](std::string_view text) {
        return std::all_of(text.begin(), text.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("-._~/%+,=&@:?").find(c) != std::string_view::npos;
        });
      };
      if (rule.starts_with("@@")) rule.remove_prefix(2);
      if (!rule.starts_with("||")) {  // a URL substring: literal, not a /regex/ ("/x/*" is not), not an exception
        const bool starred = rule.starts_with('/') && rule.ends_with("/*");
        if (starred) rule.remove_suffix(1);
        else if (rule.starts_with('/') && rule.ends_with('/')) return false;
        return rule.size() >= 4 && literal(rule) && !rule.starts_with('@');
      }
      rule.remove_prefix(2);
      if (const auto dollar = rule.find('$'); dollar != std::string_view::npos) {
        const std::string_view options = rule.substr(dollar);
        if (options != "$third-party" && options != "$websocket") return false;
        rule = rule.substr(0, dollar);
      }
      if (rule.ends_with('^')) rule.remove_suffix(1);
      std::string_view address = rule;
      std::string_view path;
      if (const auto slash = address.find('/'); slash != std::string_view::npos) {
        path = address.substr(slash);
        address = address.substr(0, slash);
      }
      if (const auto colon = address.find(':'); colon != std::string_view::npos) {
        const std::string_view port = address.substr(colon + 1);
        if (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
          return false;
        address = address.substr(0, colon);
      }
      return is_plain_host(address) && literal(path);
    }
    default: return false;
  }
}

}  // namespace

TEST_CASE("UUIDv5 matches RFC 4122 and Python's uuid5, ids are stable", "[export]") {
  const auto dns = db::parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  REQUIRE(dns);
  CHECK(db::to_string(db::uuid_v5(*dns, "python.org")) == "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  const auto url = db::parse_uuid("6BA7B811-9DAD-11D1-80B4-00C04FD430C8");
  REQUIRE(url);
  CHECK(db::to_string(db::uuid_v5(*url, "https://example.com/")) == "dd2c1780-811a-5296-81c5-178a0ef488bc");
  CHECK(db::to_string(db::kStixNamespace) == "54771cd9-5c59-4513-bbed-13cf07dc6aad");
  // Python: uuid5(UUID('54771cd9-…'), 'domain:coinhive.com'). Changing it breaks every consumer's updates.
  CHECK(db::stix_indicator_id("domain", "coinhive.com") == "indicator--07211263-22df-5aab-b806-77860567ce29");
  CHECK(db::to_string(db::uuid_v5(db::kStixNamespace, "")) == "a79953fa-517d-5ad5-a87a-cca85abe6afc");
  CHECK(db::stix_indicator_id("domain", "coinhive.com") != db::stix_indicator_id("ws_endpoint", "coinhive.com"));

  const char* malformed[] = {"", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810-9dad-11d1-80b4-00c04fd430c8x",
                             "6ba7b8109dad-11d1-80b4-00c04fd430c8-", "6ba7b810-9dad-11d1-80b4-00c04fd430cg"};
  for (const char* text : malformed) {
    CAPTURE(text);
    CHECK_FALSE(db::parse_uuid(text));
  }
}

TEST_CASE("parse_format, to_string and content_type", "[export]") {
  const std::tuple<const char*, Format, const char*, bool> rows[] = {
      {"hosts", Format::hosts, "text/plain; charset=utf-8", true},
      {"domains", Format::domains, "text/plain; charset=utf-8", true},
      {"adblock", Format::adblock, "text/plain; charset=utf-8", true},
      {"rpz", Format::rpz, "text/plain; charset=utf-8", true},
      {"csv", Format::csv, "text/csv; charset=utf-8; header=present", false},
      {"json", Format::json, "application/json", false},
      {"jsonl", Format::jsonl, "application/x-ndjson", false},
      {"stix", Format::stix, "application/stix+json;version=2.1", false},
  };
  for (const auto& [name, format, type, line] : rows) {
    CAPTURE(name);
    CHECK(db::parse_format(name) == format);
    CHECK(db::to_string(format) == name);
    CHECK(db::content_type(format) == type);
    CHECK(db::is_line_format(format) == line);
  }
  for (const char* name : {"", "HOSTS", "host", "stix2", "json "}) CHECK_FALSE(db::parse_format(name));
}

TEST_CASE("every format matches its golden file", "[export]") {
  const auto entries = golden_entries();
  const bool update = std::getenv("CJCRAWL_UPDATE_GOLDEN") != nullptr;
  // written, skipped, allowed per format for the golden set.
  const std::tuple<Format, std::size_t, std::size_t, std::size_t> rows[] = {
      {Format::hosts, 6, 1, 2}, {Format::domains, 6, 1, 2}, {Format::adblock, 11, 0, 2}, {Format::rpz, 6, 1, 2},
      {Format::csv, 16, 0, 0},  {Format::json, 16, 0, 0},   {Format::jsonl, 16, 0, 0},   {Format::stix, 16, 0, 0},
  };
  for (const auto& [format, written, skipped, allowed] : rows) {
    CAPTURE(db::to_string(format));
    const db::Rendered rendered = db::render_export(format, entries, options_at(kNow));
    const auto path = fixtures() / golden_name(format);
    if (update) {
      std::filesystem::create_directories(path.parent_path());
      std::ofstream(path, std::ios::binary) << rendered.text;
    }
    CHECK(rendered.text == read_file(path));
    if (db::is_line_format(format))
      for (const std::string& rule : rules_of(format, rendered.text)) CHECK(is_safe_rule(format, rule));
    CHECK(rendered.written == written);
    CHECK(rendered.skipped == skipped);
    CHECK(rendered.allowed == allowed);
  }
  // The one skip: the socket on a bare address has no name to block.
  const auto hosts = db::render_export(Format::hosts, entries, options_at(kNow));
  REQUIRE(hosts.skipped_samples.size() == 1);
  CHECK(hosts.skipped_samples[0].value == "ws://198.51.100.7:8080/pool");
  CHECK(hosts.skipped_samples[0].reason == "host is an IP address");
}

TEST_CASE("our own importer reads the adblock and hosts exports back without loss", "[export]") {
  const auto entries = golden_entries();
  const auto adblock = db::render_export(Format::adblock, entries, options_at(kNow));
  const auto imported = blacklist::import_list(adblock.text);
  CHECK(imported.format == blacklist::ListFormat::adblock);
  CHECK(imported.skipped_total() == 0);
  std::vector<std::string> got;
  for (const auto& e : imported.entries) got.push_back(std::string(blacklist::to_string(e.kind)) + " " + e.value);
  CHECK(got == std::vector<std::string>{"domain coinhive.com", "domain cryptoloot.pro", "ws_endpoint 198.51.100.7",
                                        "ws_endpoint webminerpool.net/proxy", "ws_endpoint ws001.coinhive.com",
                                        "script_url minero.cc/lib", "script_url static.minercdn.net/lib/cn.js",
                                        "script_path /cryptonight.wasm", "allow allowed-cdn.net",
                                        "allow safe.coinhive.com", "allow static.minercdn.net/lib/legit.js"});
  const auto hosts = db::render_export(Format::hosts, entries, options_at(kNow));
  const auto from_hosts = blacklist::import_list(hosts.text);
  CHECK(from_hosts.format == blacklist::ListFormat::hosts);
  CHECK(from_hosts.skipped_total() == 0);
  CHECK(from_hosts.count(blacklist::EntryKind::domain) == hosts.written);
  const auto from_domains = blacklist::import_list(db::render_export(Format::domains, entries, options_at(kNow)).text);
  CHECK(from_domains.skipped_total() == 0);
  CHECK(from_domains.count(blacklist::EntryKind::domain) == hosts.written);
}

TEST_CASE("the STIX bundle has what STIX 2.1 requires of a bundle and its indicators", "[export]") {
  const auto bundle = nlohmann::json::parse(db::render_export(Format::stix, golden_entries(), options_at(kNow)).text);
  CHECK(bundle["type"] == "bundle");
  CHECK_FALSE(bundle.contains("spec_version"));  // 2.1 bundles have none
  const std::string bundle_id = bundle["id"];
  CHECK(fits(bundle_id.substr(8), kUuidV5Shape));
  CHECK(bundle_id.starts_with("bundle--"));
  REQUIRE(bundle["objects"].size() == 16);
  std::set<std::string> ids;
  for (const auto& indicator : bundle["objects"]) {
    CAPTURE(indicator.dump());
    CHECK(indicator["type"] == "indicator");
    CHECK(indicator["spec_version"] == "2.1");
    const std::string id = indicator["id"];
    CHECK(id.starts_with("indicator--"));
    CHECK(fits(id.substr(11), kUuidV5Shape));
    const auto value = pattern_value(indicator["pattern"]);
    REQUIRE(value);
    CHECK(id == db::stix_indicator_id(indicator["x_cjcrawl_kind"].get<std::string>(), *value));
    ids.insert(id);
    for (const char* field : {"created", "modified", "valid_from"})
      CHECK(fits(indicator[field].get<std::string>(), "dddd-dd-ddTdd:dd:dd.dddZ"));
    CHECK(indicator["created"].get<std::string>() <= indicator["modified"].get<std::string>());
    CHECK(indicator["pattern_type"] == "stix");
    CHECK(indicator["confidence"].is_number_integer());
    CHECK(!indicator["indicator_types"].empty());
    const std::string pattern = indicator["pattern"];
    CHECK((pattern.starts_with("[domain-name:value = '") || pattern.starts_with("[url:value = '") ||
           pattern.starts_with("[url:value LIKE '%") || pattern.starts_with("[ipv4-addr:value = '") ||
           pattern.starts_with("[file:hashes.'SHA-256' = '")));
  }
  CHECK(ids.size() == 16);
  const std::pair<const char*, const char*> patterns[] = {
      {"domain", "[domain-name:value = 'coinhive.com']"},
      {"ws_endpoint", "[url:value = 'wss://ws001.coinhive.com/proxy']"},
      {"ip", "[ipv4-addr:value = '203.0.113.9']"},
      {"wasm_sha256", "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']"},
      {"script_url", "[url:value LIKE '%minero.cc/lib%']"},
      {"script_path", "[url:value LIKE '%/cryptonight.wasm%']"},
  };
  for (const auto& [kind, pattern] : patterns) {
    CAPTURE(pattern);
    CHECK(std::any_of(bundle["objects"].begin(), bundle["objects"].end(), [&](const auto& object) {
      return object["x_cjcrawl_kind"] == kind && object["pattern"] == pattern;
    }));
  }
}

TEST_CASE("equal input gives byte-identical output, whatever its order", "[export]") {
  const auto entries = golden_entries();
  std::mt19937 random(20240610);
  for (const Format format : db::kFormats) {
    CAPTURE(db::to_string(format));
    const std::string first = db::render_export(format, entries, options_at(kNow)).text;
    CHECK(db::render_export(format, entries, options_at(kNow)).text == first);
    for (int round = 0; round < 5; ++round) {
      auto shuffled = entries;
      std::shuffle(shuffled.begin(), shuffled.end(), random);
      for (auto& e : shuffled) std::reverse(e.sources.begin(), e.sources.end());
      CHECK(db::render_export(format, shuffled, options_at(kNow)).text == first);
    }
    // Listing a source twice changes nothing.
    auto doubled = entries;
    doubled[0].sources.push_back("crawl");
    CHECK(db::render_export(format, doubled, options_at(kNow)).text == first);
  }
}

TEST_CASE("the clock is now_ms alone: it moves the headers and the serial, nothing else", "[export]") {
  const auto entries = golden_entries();
  const std::int64_t later = kNow + 86'400'000 + 61'000;  // 2024-06-11T09:13:01Z
  for (const Format format : db::kFormats) {
    CAPTURE(db::to_string(format));
    const std::string a = db::render_export(format, entries, options_at(kNow)).text;
    const std::string b = db::render_export(format, entries, options_at(later)).text;
    if (format == Format::csv || format == Format::jsonl || format == Format::stix || format == Format::domains) {
      CHECK(a == b);
    } else if (format == Format::json) {
      CHECK(a != b);
      CHECK(nlohmann::json::parse(a)["entries"] == nlohmann::json::parse(b)["entries"]);
    } else {
      CHECK(a != b);
      CHECK(rules_of(format, a) == rules_of(format, b));
    }
  }
  const std::string rpz = db::render_export(Format::rpz, entries, options_at(later)).text;
  CHECK_THAT(rpz, Catch::Contains("@ IN SOA localhost. hostmaster.localhost. 1718097181 3600 600 604800 300\n"));
  CHECK_THAT(db::render_export(Format::adblock, entries, options_at(later)).text,
             Catch::Contains("! Last modified: 11 Jun 2024 09:13 UTC\n"));
  CHECK_THAT(db::render_export(Format::hosts, entries, options_at(0)).text,
             Catch::Contains("# Last modified: 1970-01-01T00:00:00Z\n"));
  CHECK_THAT(db::render_export(Format::json, entries, options_at(later)).text,
             Catch::Contains("\"generated\": \"2024-06-11T09:13:01.000Z\""));
}

TEST_CASE("victims are not infrastructure: pages block only when asked for", "[export]") {
  const std::vector<ExportEntry> entries = {entry("page", "https://victim-news.com/article/42"),
                                            entry("script_url", "https://minercdn.net/cn.js")};
  const std::pair<Format, const char*> page_rules[] = {
      {Format::hosts, "0.0.0.0 victim-news.com"},
      {Format::domains, "victim-news.com"},
      {Format::adblock, "||victim-news.com^"},
      {Format::rpz, "victim-news.com CNAME ."},
  };
  ExportOptions with_pages = options_at(kNow);
  with_pages.include_pages = true;
  for (const auto& [format, rule] : page_rules) {
    CAPTURE(db::to_string(format));
    const auto without = db::render_export(format, entries, options_at(kNow));
    CHECK_FALSE(mentions(format, without.text, "victim-news.com"));
    CHECK(mentions(format, without.text, "minercdn.net"));
    CHECK(without.skipped == 0);
    const auto with = db::render_export(format, entries, with_pages);
    const auto rules = rules_of(format, with.text);
    CHECK(std::find(rules.begin(), rules.end(), rule) != rules.end());
  }
  for (const Format format : {Format::csv, Format::json, Format::jsonl, Format::stix}) {
    CAPTURE(db::to_string(format));
    CHECK_THAT(db::render_export(format, entries, options_at(kNow)).text,
               Catch::Contains("victim-news.com/article/42"));
  }
  // STIX says what a page is: a compromised site, not a malicious one.
  CHECK_THAT(db::render_export(Format::stix, entries, options_at(kNow)).text, Catch::Contains("\"compromised\""));
}

TEST_CASE("nothing an allow entry covers is written as blocked", "[export]") {
  // rows: blocked entry, allow entry, whether the blocked entry survives, expected adblock exception.
  struct Row {
    const char* kind;
    const char* value;
    const char* allow;
    const char* exception;
  };
  const Row rows[] = {
      {"domain", "coinhive.com", "coinhive.com", "@@||coinhive.com^"},
      {"domain", "ws1.coinhive.com", "coinhive.com", "@@||coinhive.com^"},
      {"domain", "ws1.coinhive.com", "COINHIVE.com.", "@@||coinhive.com^"},
      {"ws_endpoint", "wss://ws1.coinhive.com/proxy", "coinhive.com", "@@||coinhive.com^"},
      {"script_url", "https://cdn.example.com/miner.js", "cdn.example.com", "@@||cdn.example.com^"},
      {"script_url", "https://cdn.example.com/miner.js", "https://cdn.example.com/miner.js",
       "@@||cdn.example.com/miner.js^"},
      {"ws_endpoint", "wss://pool.example.net/x", "wss://pool.example.net/x", "@@||pool.example.net/x^"},
      // Imported allow patterns: a host and path prefix, or a host.
      {"script_url", "https://cdn.example.com/lib/miner.js", "cdn.example.com/lib", "@@||cdn.example.com/lib"},
      {"script_url", "cdn.example.com/lib/miner.js", "cdn.example.com/lib/", "@@||cdn.example.com/lib/"},
      {"ws_endpoint", "pool.example.net/proxy", "pool.example.net", "@@||pool.example.net^"},
      {"script_url", "https://cdn.example.com/Lib/miner.js?x=1", "CDN.example.com/lib/", "@@||cdn.example.com/lib/"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.kind, row.value, row.allow);
    const std::vector<ExportEntry> entries = {entry(row.kind, row.value), entry("allow", row.allow)};
    for (const Format format : {Format::hosts, Format::domains, Format::adblock, Format::rpz}) {
      CAPTURE(db::to_string(format));
      const auto rendered = db::render_export(format, entries, options_at(kNow));
      const auto rules = rules_of(format, rendered.text);
      CHECK(rendered.allowed == 1);
      CHECK(rendered.skipped == 0);
      if (format == Format::adblock) CHECK(rules == std::vector<std::string>{row.exception});
      else CHECK(rules.empty());
    }
  }
  // An allowed name below a blocked one: the zone passes it through (exact beats wildcard in RPZ).
  const std::vector<ExportEntry> below = {entry("domain", "coinhive.com"), entry("allow", "docs.coinhive.com")};
  CHECK(rules_of(Format::rpz, db::render_export(Format::rpz, below, options_at(kNow)).text) ==
        std::vector<std::string>{"coinhive.com CNAME .", "*.coinhive.com CNAME .",
                                 "docs.coinhive.com CNAME rpz-passthru.", "*.docs.coinhive.com CNAME rpz-passthru."});
  CHECK(rules_of(Format::hosts, db::render_export(Format::hosts, below, options_at(kNow)).text) ==
        std::vector<std::string>{"0.0.0.0 coinhive.com"});
  CHECK(rules_of(Format::adblock, db::render_export(Format::adblock, below, options_at(kNow)).text) ==
        std::vector<std::string>{"||coinhive.com^$third-party", "@@||docs.coinhive.com^"});
  // An allow entry for an unrelated name passes nothing through and blocks nothing.
  const std::vector<ExportEntry> unrelated = {entry("domain", "coinhive.com"), entry("allow", "example.org")};
  CHECK(rules_of(Format::rpz, db::render_export(Format::rpz, unrelated, options_at(kNow)).text).size() == 2);
  CHECK(rules_of(Format::domains, db::render_export(Format::domains, unrelated, options_at(kNow)).text) ==
        std::vector<std::string>{"coinhive.com"});
}

TEST_CASE("allow entries hide exactly the URLs the detector treats as allowed", "[export]") {
  // Differential: the export's allow list against blacklist::KnownEntries::allowed, on every pair.
  const char* allows[] = {
      "example.com", "cdn.example.com", "example.com/lib", "cdn.example.com/lib/x", "https://cdn.example.com/lib/a.js",
      "other.org",   "EXAMPLE.com/LIB"};
  const char* urls[] = {"https://cdn.example.com/lib/a.js",      "https://cdn.example.com/lib/a.js?v=2",
                        "https://cdn.example.com/other.js",      "wss://ws.example.com/lib",
                        "https://example.com/library.js",        "https://example.org/lib/a.js",
                        "https://sub.cdn.example.com/lib/x/y.js"};
  for (const char* allow : allows) {
    blacklist::KnownEntries known;
    known.add("allow", allow);
    for (const char* url : urls) {
      CAPTURE(allow, url);
      const std::vector<ExportEntry> entries = {entry("script_url", url), entry("allow", allow)};
      const auto rendered = db::render_export(Format::domains, entries, options_at(kNow));
      CHECK((rendered.allowed == 1) == known.allowed(url));
    }
  }
}

TEST_CASE("a hostile value never becomes a rule in a line format", "[export]") {
  // rows: kind, value, what hosts/domains/rpz write (empty: skipped), what adblock writes (empty: skipped).
  struct Row {
    const char* kind;
    std::string value;
    const char* host;
    const char* adblock;
  };
  const Row rows[] = {
      {"domain", "evil.com\n0.0.0.0 google.com", "", ""},
      {"domain", "evil.com 0.0.0.0", "", ""},
      {"domain", "evil.com\r", "", ""},
      {"domain", std::string("evil.com\0google.com", 19), "", ""},
      {"domain", "evil.com#", "", ""},
      {"domain", "evil.com!", "", ""},
      {"domain", "evil.com$important", "", ""},
      {"domain", "evil.com^", "", ""},
      {"domain", "||evil.com^", "", ""},
      {"domain", "evil.com;", "", ""},
      {"domain", "evil.com'", "", ""},
      {"domain", "evil.com\"", "", ""},
      {"domain", "evil.com]", "", ""},
      {"domain", "*.evil.com", "", ""},
      {"domain",
       "b\xc3\xbc"
       "cher.de",
       "", ""},  // UTF-8, not punycode
      {"domain", "\xff\xfe.com", "", ""},
      {"domain", "com", "", ""},
      {"domain", "co.uk", "", ""},
      {"domain", "github.io", "", ""},
      {"domain", "localhost", "", ""},
      {"domain", "localhost.localdomain", "", ""},
      {"domain", "printer.local", "", ""},
      {"domain", "192.0.2.1", "", ""},
      {"domain", "x.rpz-nsdname", "", ""},
      {"domain", "-evil.com", "", ""},
      {"domain", "evil..com", "", ""},
      {"domain", std::string(64, 'a') + ".com", "", ""},
      {"domain", "", "", ""},
      {"domain", "Evil.COM.", "evil.com", "||evil.com^$third-party"},
      {"domain", "xn--bcher-kva.de", "xn--bcher-kva.de", "||xn--bcher-kva.de^$third-party"},
      {"ws_endpoint", "wss://pool.evil.com/x\n@@||*^", "", ""},
      {"ws_endpoint", "wss://pool.evil.com/x?\n@@||*^", "", ""},
      {"ws_endpoint", "wss://google.com@pool.evil.com/", "", ""},
      {"ws_endpoint", "wss://[2001:db8::1]:8080/", "", ""},
      {"ws_endpoint", "wss://pool.evil.com:99999/", "", ""},
      {"ws_endpoint", "wss://pool evil.com/", "", ""},
      {"ws_endpoint", "javascript:alert(1)//", "", ""},
      {"ws_endpoint", "wss://pool.evil.com\\@google.com/", "", ""},
      {"ws_endpoint", "wss://POOL.evil.com:8443/x", "pool.evil.com", "||pool.evil.com^$websocket"},
      {"ws_endpoint", "ws://198.51.100.7:8080/pool", "", "||198.51.100.7^$websocket"},
      {"script_url", "https://cdn.evil.com:8443/a.js", "cdn.evil.com", "||cdn.evil.com:8443/a.js^"},
      {"script_url", "http://198.51.100.7/a.js", "", "||198.51.100.7/a.js^"},
      {"script_url", "https://cdn.evil.com/a.js$script,domain=google.com", "cdn.evil.com", ""},
      {"script_url", "https://cdn.evil.com/*.js", "cdn.evil.com", ""},
      {"script_url", "https://cdn.evil.com/a.js##body", "cdn.evil.com", "||cdn.evil.com/a.js^"},
      {"script_url", "https://cdn.evil.com/a.js?x=';DROP|^$", "cdn.evil.com", "||cdn.evil.com/a.js^"},
      {"script_url", "blob:https://victim.com/0f1e", "", ""},
      {"script_url", "data:text/javascript,alert(1)", "", ""},
      // Imported patterns ("host/path-prefix") and URL substrings.
      {"ws_endpoint", "pool.evil.com/proxy", "pool.evil.com", "||pool.evil.com/proxy$websocket"},
      {"ws_endpoint", "pool.evil.com", "pool.evil.com", "||pool.evil.com^$websocket"},
      {"script_url", "minero.cc/lib?x=1", "minero.cc", "||minero.cc/lib?x=1"},
      {"script_url", "evil.com/lib\n||google.com^", "", ""},
      {"script_url", "evil.com/lib$important", "evil.com", ""},
      {"script_path", "/cryptonight.wasm", "", "/cryptonight.wasm"},
      {"script_path", "?proxy=wss:", "", "?proxy=wss:"},
      {"script_path", "/miner/", "", "/miner/*"},  // not a /regex/: the '*' keeps it a substring
      {"script_path", "@@||*^", "", ""},
      {"script_path", "@@foo.js", "", ""},
      {"script_path", "/x.js$script", "", ""},
      {"script_path", "##.miner", "", ""},
      {"script_path", "*", "", ""},
      {"script_path", ".js", "", ""},
      {"script_path", "/a.js\n@@||*^", "", ""},
      {"allow", "*", "", ""},
      {"allow", "evil.com\n||google.com^", "", ""},
      {"allow", "com", "", ""},
      {"allow", "evil.com/x$document", "", ""},
      {"allow", "198.51.100.7", "", "@@||198.51.100.7^"},
      {"allow", "cdn.example.com/lib", "", "@@||cdn.example.com/lib"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.kind, row.value);
    const std::vector<ExportEntry> entries = {entry(row.kind, row.value)};
    const std::string host = row.host;
    const std::string adblock = row.adblock;
    // allow and script_path entries have no host to block: only adblock carries them.
    const bool adblock_only = std::string_view(row.kind) == "allow" || std::string_view(row.kind) == "script_path";
    const std::pair<Format, std::vector<std::string>> expected[] = {
        {Format::hosts, host.empty() ? std::vector<std::string>{} : std::vector<std::string>{"0.0.0.0 " + host}},
        {Format::domains, host.empty() ? std::vector<std::string>{} : std::vector<std::string>{host}},
        {Format::rpz, host.empty() ? std::vector<std::string>{}
                                   : std::vector<std::string>{host + " CNAME .", "*." + host + " CNAME ."}},
        {Format::adblock, adblock.empty() ? std::vector<std::string>{} : std::vector<std::string>{adblock}},
    };
    for (const auto& [format, rules] : expected) {
      CAPTURE(db::to_string(format));
      const auto rendered = db::render_export(format, entries, options_at(kNow));
      CHECK(rules_of(format, rendered.text) == rules);
      const bool carried = !adblock_only || format == Format::adblock;
      CHECK(rendered.skipped == (carried && rules.empty() ? 1u : 0u));
      for (const std::string& rule : rules_of(format, rendered.text)) CHECK(is_safe_rule(format, rule));
      // What we write, our importer reads (a port, which it cannot represent, is its one known loss).
      if (format != Format::rpz) {
        const auto imported = blacklist::import_list(rendered.text);
        CHECK(imported.skipped_total() == imported.skipped_count(blacklist::SkipKind::host_with_port));
        CHECK(imported.entries.size() + imported.skipped_total() == rules.size());
      }
      for (const auto& sample : rendered.skipped_samples) {
        CHECK(std::all_of(sample.value.begin(), sample.value.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
        CHECK_FALSE(sample.reason.empty());
      }
    }
  }
}

TEST_CASE("a title cannot break out of its comment line", "[export]") {
  ExportOptions options = options_at(kNow);
  options.title = "My list\n0.0.0.0 google.com\n! x\r\n@@||*^";
  for (const Format format : {Format::hosts, Format::adblock, Format::rpz}) {
    CAPTURE(db::to_string(format));
    const std::string text = db::render_export(format, golden_entries(), options).text;
    CHECK(rules_of(format, text) ==
          rules_of(format, db::render_export(format, golden_entries(), options_at(kNow)).text));
    CHECK_THAT(text, Catch::Contains("My list?0.0.0.0 google.com?! x??@@||*^"));
  }
}

TEST_CASE("long names: at most 253 characters, and 200 in the zone so its own name still fits", "[export]") {
  std::string name;
  while (name.size() < 230) name += std::string(20, 'a') + ".";
  name += "com";  // 234 characters
  const std::vector<ExportEntry> entries = {entry("domain", name)};
  CHECK(db::render_export(Format::hosts, entries, options_at(kNow)).written == 1);
  const auto rpz = db::render_export(Format::rpz, entries, options_at(kNow));
  CHECK(rpz.written == 0);
  CHECK(rpz.skipped == 1);
  const std::string longest_labels = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') +
                                     "." + std::string(60, 'd') + ".com";
  const std::vector<ExportEntry> too_long = {entry("domain", longest_labels)};
  const auto hosts = db::render_export(Format::hosts, too_long, options_at(kNow));
  CHECK(hosts.skipped == 1);
  REQUIRE(hosts.skipped_samples.size() == 1);
  CHECK(hosts.skipped_samples[0].reason == "host longer than 253 characters");
}

TEST_CASE("the report formats carry hostile values escaped and stay valid", "[export]") {
  const std::string values[] = {
      "evil.com\n0.0.0.0 google.com",
      "wss://x/'] OR [domain-name:value = 'google.com",
      "back\\slash'quote\"dquote",
      std::string("nul\0byte", 8),
      "=HYPERLINK(\"http://evil\",\"click\")",
      "+1+1",
      "-2",
      "@SUM(A1)",
      "a,b\r\nc",
      "tab\there",
  };
  std::vector<ExportEntry> entries;
  for (const std::string& value : values) entries.push_back(entry("ws_endpoint", value));
  ExportEntry invalid = entry("domain",
                              "bad\xff\xfe"
                              "utf8\xc3");
  invalid.evidence_json = "{\"reasons\": [\"not closed";
  entries.push_back(invalid);
  ExportEntry deep = entry("domain", "deep.example");
  deep.evidence_json = std::string(100, '[') + std::string(100, ']');
  entries.push_back(deep);
  const std::string kReplacement = "\xef\xbf\xbd";

  SECTION("json and jsonl: valid JSON, values exact where they are UTF-8") {
    const auto document = nlohmann::json::parse(db::render_export(Format::json, entries, options_at(kNow)).text);
    REQUIRE(document["entries"].size() == entries.size());
    CHECK(document["count"] == entries.size());
    std::set<std::string> seen;
    for (const auto& e : document["entries"]) seen.insert(e["value"].get<std::string>());
    for (const std::string& value : values) CHECK(seen.contains(value));
    CHECK(seen.contains("bad" + kReplacement + kReplacement + "utf8" + kReplacement));
    const auto lines = lines_of(db::render_export(Format::jsonl, entries, options_at(kNow)).text);
    REQUIRE(lines.size() == entries.size());
    for (const std::string& line : lines) {
      const auto object = nlohmann::json::parse(line);
      if (object["value"] == "deep.example") CHECK(object["evidence"] == deep.evidence_json);  // too deep: as text
      if (object["kind"] == "domain" && object["value"] != "deep.example")
        CHECK(object["evidence"] == "{\"reasons\": [\"not closed");  // not JSON: as text
    }
  }
  SECTION("stix: valid JSON, patterns escape ' and \\ and hold the value") {
    const auto bundle = nlohmann::json::parse(db::render_export(Format::stix, entries, options_at(kNow)).text);
    std::set<std::string> literals;
    for (const auto& indicator : bundle["objects"]) {
      // One comparison whose literal runs to the end: a quote in the value cannot close it early.
      const auto literal = pattern_value(indicator["pattern"]);
      REQUIRE(literal);
      literals.insert(*literal);
    }
    for (const std::string& value : values) CHECK(literals.contains(value));
    CHECK_THAT(bundle.dump(), Catch::Contains(R"(back\\\\slash\\'quote)"));
  }
  SECTION("csv: RFC 4180 fields round-trip; formulas are neutralised; NUL and bad bytes become U+FFFD") {
    const auto records = parse_csv(db::render_export(Format::csv, entries, options_at(kNow)).text);
    REQUIRE(records.size() == entries.size() + 1);
    CHECK(records[0] == std::vector<std::string>{"kind", "value", "first_seen", "last_seen", "hits", "confidence",
                                                 "sources", "evidence"});
    std::set<std::string> seen;
    for (std::size_t i = 1; i < records.size(); ++i) {
      REQUIRE(records[i].size() == 8);
      seen.insert(records[i][1]);
    }
    const std::string expected[] = {
        "evil.com\n0.0.0.0 google.com",
        "back\\slash'quote\"dquote",
        "nul" + kReplacement + "byte",
        "'=HYPERLINK(\"http://evil\",\"click\")",
        "'+1+1",
        "'-2",
        "'@SUM(A1)",
        "a,b\r\nc",
        "tab\there",
        "bad" + kReplacement + kReplacement + "utf8" + kReplacement,
    };
    for (const std::string& value : expected) {
      CAPTURE(value);
      CHECK(seen.contains(value));
    }
  }
}

TEST_CASE("evidence is embedded as JSON on one line, or as text when it is not JSON", "[export]") {
  // evidence_json as stored → what json, jsonl and stix carry.
  const std::pair<std::string, nlohmann::json> rows[] = {
      {R"({"visit_id":3,"reasons":[]})", {{"visit_id", 3}, {"reasons", nlohmann::json::array()}}},
      {"{\n  \"visit_id\": 3\n}\n", {{"visit_id", 3}}},  // pretty-printed: re-serialised on one line
      {"  [1, 2]  ", {1, 2}},
      {"", nullptr},
      {"{\"reasons\": [", "{\"reasons\": ["},                                                      // not JSON: its text
      {std::string(40, '[') + std::string(40, ']'), std::string(40, '[') + std::string(40, ']')},  // too deep
      {"{\"a\":\"\xff\"}", "{\"a\":\"\xef\xbf\xbd\"}"},  // not UTF-8: text, replaced
  };
  for (const auto& [stored, carried] : rows) {
    CAPTURE(stored);
    ExportEntry e = entry("domain", "coinhive.com");
    e.evidence_json = stored;
    const std::vector<ExportEntry> entries = {e};
    const std::string jsonl = db::render_export(Format::jsonl, entries, options_at(kNow)).text;
    REQUIRE(lines_of(jsonl).size() == 1);
    CHECK(nlohmann::json::parse(jsonl)["evidence"] == carried);
    const auto bundle = nlohmann::json::parse(db::render_export(Format::stix, entries, options_at(kNow)).text);
    if (carried.is_null()) CHECK_FALSE(bundle["objects"][0].contains("x_cjcrawl_evidence"));
    else CHECK(bundle["objects"][0]["x_cjcrawl_evidence"] == carried);
  }
}

TEST_CASE("the STIX bundle id changes exactly when the objects do", "[export]") {
  const auto id_of = [](const std::vector<ExportEntry>& entries, std::int64_t now_ms) {
    return nlohmann::json::parse(db::render_export(Format::stix, entries, options_at(now_ms)).text)["id"]
        .get<std::string>();
  };
  auto entries = golden_entries();
  const std::string id = id_of(entries, kNow);
  CHECK(id_of(entries, kNow + 1000) == id);
  entries[0].hits += 1;
  CHECK(id_of(entries, kNow) != id);
}

TEST_CASE("no entries: every format is still a well-formed file", "[export]") {
  for (const Format format : db::kFormats) {
    CAPTURE(db::to_string(format));
    const auto rendered = db::render_export(format, {}, options_at(kNow));
    CHECK(rendered.written == 0);
    if (db::is_line_format(format)) CHECK(rules_of(format, rendered.text).empty());
    if (format == Format::csv) CHECK(lines_of(rendered.text).size() == 1);
    if (format == Format::jsonl) CHECK(rendered.text.empty());
    if (format == Format::json || format == Format::stix) CHECK_NOTHROW(nlohmann::json::parse(rendered.text));
  }
  const auto bundle = nlohmann::json::parse(db::render_export(Format::stix, {}, options_at(kNow)).text);
  CHECK_FALSE(bundle.contains("objects"));  // STIX lists may not be empty
  CHECK(nlohmann::json::parse(db::render_export(Format::json, {}, options_at(kNow)).text)["entries"].empty());
}
