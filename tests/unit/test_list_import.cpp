// tests/unit/test_list_import.cpp — parsing public miner blocklists (blacklist/list_import).
//
// The eight real lists in tests/fixtures/blocklists with their counts worked out independently (shell
// and awk, see each row), format detection, a short table per format, and hostile input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "blacklist/list_import.hpp"
#include "util/text.hpp"

using blacklist::EntryKind;
using blacklist::ImportResult;
using blacklist::ListFormat;
using blacklist::SkipKind;

namespace {

std::filesystem::path blocklists_dir() {
  // tests/unit/ → tests/fixtures/blocklists (copies of the real lists, with their licences)
  return std::filesystem::path(__FILE__).parent_path() / ".." / "fixtures" / "blocklists";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One line's outcome: "kind value" for each entry, or "skip:kind".
std::string outcome(const std::string& text, ListFormat format) {
  const auto result = blacklist::import_list(text, format);
  std::string out;
  for (const auto& entry : result.entries)
    out += (out.empty() ? "" : " | ") + std::string(to_string(entry.kind)) + " " + entry.value;
  for (const auto& [kind, count] : result.skipped)
    out += (out.empty() ? "" : " | ") + ("skip:" + std::string(to_string(kind)));
  return out.empty() ? "comment" : out;
}

// Every byte in [lowest, '~'].
bool printable(const std::string& text, char lowest) {
  return std::all_of(text.begin(), text.end(), [lowest](char c) { return c >= lowest && c <= '~'; });
}

struct Row {
  std::string line;
  std::string expected;
};

void check_rows(ListFormat format, const std::vector<Row>& rows) {
  for (const auto& row : rows) {
    INFO(to_string(format) << ": " << row.line);
    CHECK(outcome(row.line, format) == row.expected);
  }
}

using KindCounts = std::map<EntryKind, std::size_t>;
using SkipCounts = std::map<SkipKind, std::size_t>;

struct RealList {
  const char* file;
  ListFormat format;
  std::size_t lines;
  std::size_t comment_lines;
  KindCounts entries;
  SkipCounts skipped;
};

}  // namespace

TEST_CASE("real lists import with the counts worked out independently", "[import]") {
  const auto dir = blocklists_dir();
  if (!std::filesystem::is_directory(dir))
    FAIL("the real blocklists are missing: expected them in " << dir.lexically_normal().string()
                                                              << " (tests/fixtures/blocklists in the repository)");
  // Derivations (in tests/fixtures/blocklists; psl.awk = an awk check of each host against the exact and
  // wildcard rules of /usr/share/publicsuffix/public_suffix_list.dat, which flagged none except where
  // noted):
  const std::vector<RealList> lists = {
      // wc -l → 1710; grep -cE '^(#|$)' → 6; grep -cE '^0\.0\.0\.0 ' → 1704, all distinct (awk '{print
      // tolower($2)}' | sort -u | wc -l → 1704), no public suffix.
      {"coinblocker-hosts-browser", ListFormat::hosts, 1710, 6, {{EntryKind::domain, 1704}}, {}},
      // wc -l → 1033; 7 '#' lines; grep -cE '^([0-9]{1,3}\.){3}[0-9]{1,3}$' → 1026, sort -u → 1026, no
      // octet over 255 or with a leading zero.
      {"coinblocker-ips.txt", ListFormat::ips, 1033, 7, {{EntryKind::ip, 1026}}, {}},
      // wc -l → 1705; no comments; tr A-Z a-z | sort -u | wc -l → 1705; no port, no public suffix.
      {"coinblocker-list-browser.txt", ListFormat::domains, 1705, 0, {{EntryKind::domain, 1705}}, {}},
      // wc -l → 5837; grep -c ':[0-9]*$' → 2 (hashbag.cc:8688, server.com:1234); the other 5835 are
      // distinct in lower case (two are Unicode, imported as Punycode); no public suffix.
      {"coinblocker-list.txt",
       ListFormat::domains,
       5837,
       0,
       {{EntryKind::domain, 5835}},
       {{SkipKind::host_with_port, 2}}},
      // awk -f webext.awk (scheme, host without '*.' and trailing '.', path without trailing '*':
      // ws(s) → ws_endpoint, host '*' → script_path, path '/' → domain or ip, else script_url), then
      // sort -u per kind: 431 domain, 181 ws_endpoint, 62 script_url, 28 script_path, 6 ip; 736 lines
      // classified − 708 distinct = 28 duplicates (`*://host/*` next to `*://*.host/*`, and 17 hosts
      // written with a trailing dot); 11 blank or '#' lines; one script_path with an inner '*'
      // (`*://*/*n.2.1.l*.js*`).
      {"minerblock-filters.txt",
       ListFormat::webext,
       748,
       11,
       {{EntryKind::domain, 431},
        {EntryKind::ws_endpoint, 181},
        {EntryKind::script_url, 62},
        {EntryKind::script_path, 28},
        {EntryKind::ip, 6}},
       {{SkipKind::wildcard_path, 1}, {SkipKind::duplicate, 28}}},
      // awk -f adblock.awk, first rule wins: blank/`[`/`!` → 40 comment lines; `!#include` → directive;
      // pattern `/.../` → 5 regex; `$csp=` → 3; a positive `domain=` → 4 site_specific (`.info^`,
      // `$websocket`, `$xmlhttprequest`, `$script,websocket`); `||` host with '*' → 2 wildcard_host
      // (minero-proxy-*.now.sh, uptostream.*); ddns.net ×2 and myeffect.net ×2 are public suffixes
      // (psl.awk); a '*' or '^' left inside a path → 15 wildcard_path; `/wproxy$~third-party,websocket`
      // → websocket_path; then sort -u: 188 domain, 7 ip (`||23.83.114.131^`...), 3 ws_endpoint
      // (`$websocket`), 5 script_url, 71 script_path, 8 allow (`@@`); `/bootstrap.wasm` twice → 1
      // duplicate.
      {"nocoin-adblock.txt",
       ListFormat::adblock,
       358,
       40,
       {{EntryKind::domain, 188},
        {EntryKind::ws_endpoint, 3},
        {EntryKind::script_url, 5},
        {EntryKind::script_path, 71},
        {EntryKind::ip, 7},
        {EntryKind::allow, 8}},
       {{SkipKind::directive, 1},
        {SkipKind::regex, 5},
        {SkipKind::csp, 3},
        {SkipKind::site_specific, 4},
        {SkipKind::wildcard_host, 2},
        {SkipKind::public_suffix, 4},
        {SkipKind::wildcard_path, 15},
        {SkipKind::websocket_path, 1},
        {SkipKind::duplicate, 1}}},
      // wc -l → 157 plus a last line without '\n' = 158; awk -f webext.awk, sort -u: 27 domain,
      // 33 ws_endpoint, 62 script_url, 1 script_path; 156 − 123 = 33 duplicates (`*://host/x` beside
      // `*://*.host/x`); `monerise.com:9333` twice → host_with_port.
      {"nocoin-extension-blacklist.txt",
       ListFormat::webext,
       158,
       0,
       {{EntryKind::domain, 27},
        {EntryKind::ws_endpoint, 33},
        {EntryKind::script_url, 62},
        {EntryKind::script_path, 1}},
       {{SkipKind::host_with_port, 2}, {SkipKind::duplicate, 33}}},
      // wc -l → 324; grep -cE '^(#|$)' → 11; grep -cE '^0\.0\.0\.0 ' → 313, all distinct, no public suffix.
      {"nocoin-hosts.txt", ListFormat::hosts, 324, 11, {{EntryKind::domain, 313}}, {}},
  };
  for (const auto& list : lists) {
    INFO(list.file);
    const auto path = dir / list.file;
    REQUIRE(std::filesystem::is_regular_file(path));
    const std::string text = read_file(path);

    CHECK(blacklist::detect_list_format(text) == list.format);
    const auto result = blacklist::import_list(text);
    CHECK(result.format == list.format);
    CHECK(result.format_detected);
    CHECK(result.lines == list.lines);
    CHECK(result.comment_lines == list.comment_lines);
    KindCounts entries;
    for (const auto& entry : result.entries) ++entries[entry.kind];
    CHECK(entries == list.entries);
    SkipCounts skipped;
    for (const auto& [kind, count] : result.skipped) skipped[kind] = count.count;
    CHECK(skipped == list.skipped);
    // No list here has a hosts line with several names, so every line is exactly one of these.
    CHECK(result.comment_lines + result.entries.size() + result.skipped_total() == result.lines);
    // Forcing the detected format changes nothing but the flag.
    const auto forced = blacklist::import_list(text, list.format);
    CHECK_FALSE(forced.format_detected);
    CHECK(forced.entries == result.entries);
  }
}

TEST_CASE("real lists: samples of what is imported and why the rest is not", "[import]") {
  const auto dir = blocklists_dir();
  if (!std::filesystem::is_directory(dir)) FAIL("the real blocklists are missing: " << dir.string());
  const auto adblock = blacklist::import_list(read_file(dir / "nocoin-adblock.txt"));
  auto has = [](const ImportResult& result, EntryKind kind, const std::string& value) {
    for (const auto& entry : result.entries)
      if (entry.kind == kind && entry.value == value) return true;
    return false;
  };
  CHECK(has(adblock, EntryKind::domain, "2miners.com"));             // ||2miners.com^$third-party
  CHECK(has(adblock, EntryKind::ws_endpoint, "go.megabanners.cf"));  // ||go.megabanners.cf^$websocket
  CHECK(has(adblock, EntryKind::script_url, "cryptobara.com/client/worker.js"));
  CHECK(has(adblock, EntryKind::script_path, "/cryptonight.wasm"));
  CHECK(has(adblock, EntryKind::script_path, "?proxy=wss://"));  // $script,websocket
  CHECK(has(adblock, EntryKind::ip, "23.83.114.131"));
  CHECK(has(adblock, EntryKind::allow, "broadcastt.xyz/apps/"));  // @@||broadcastt.xyz/apps/$websocket
  CHECK(adblock.skipped.at(SkipKind::directive).sample_line == 357);
  CHECK(adblock.skipped.at(SkipKind::regex).sample_line == 292);
  CHECK(adblock.skipped.at(SkipKind::public_suffix).sample_reason.find("ddns.net") != std::string::npos);

  const auto miner_block = blacklist::import_list(read_file(dir / "minerblock-filters.txt"));
  CHECK(has(miner_block, EntryKind::script_path, "cryptonight.wasm"));    // *://*/*cryptonight.wasm
  CHECK(has(miner_block, EntryKind::ws_endpoint, "coinhive.com/proxy"));  // wss://*.coinhive.com/proxy*
  CHECK(has(miner_block, EntryKind::domain, "hostingcloud.science"));     // *://*.hostingcloud.science./*
  CHECK(has(miner_block, EntryKind::ip, "185.14.28.10"));                 // *://185.14.28.10/*
  CHECK(miner_block.skipped.at(SkipKind::wildcard_path).sample_line == 22);

  const auto coin_blocker = blacklist::import_list(read_file(dir / "coinblocker-list.txt"));
  CHECK(has(coin_blocker, EntryKind::domain, "bestetnpool.com"));  // bestETNpool.com
  // myètherwället.com; Python's 'myètherwället.com'.encode('idna') gives the same A-label.
  CHECK(has(coin_blocker, EntryKind::domain, "xn--mytherwllet-r8a0c.com"));
  CHECK(coin_blocker.skipped.at(SkipKind::host_with_port).sample_line == 2049);
}

TEST_CASE("format detection", "[import]") {
  const std::vector<std::pair<std::string, ListFormat>> rows = {
      {"[Adblock Plus 2.0]\n||a.example^\n", ListFormat::adblock},
      {"! Title: x\ncoinhive.com\ncoinhive.net\n", ListFormat::adblock},  // a `!` comment decides
      {"||a.example^\n||b.example^$third-party\n", ListFormat::adblock},
      {"/cryptonight.wasm\n-coin-hive.js$script\n", ListFormat::adblock},
      {"# hosts\n0.0.0.0 a.example\n127.0.0.1 b.example\n", ListFormat::hosts},
      {"a.example\nB.example\n*.c.example\n", ListFormat::domains},
      {"192.0.2.7\n2001:db8::/32\n", ListFormat::ips},
      {"*://*.a.example/*\nwss://b.example/*\n", ListFormat::webext},
      {"0.0.0.0 a.example\n0.0.0.0 b.example\nc.example\n", ListFormat::hosts},  // majority
      {"a.example\n||b.example^\n", ListFormat::adblock},                        // tie: adblock first
      {"", ListFormat::domains},
      {"# only a comment\n\n", ListFormat::domains},
      {"\xEF\xBB\xBF[Adblock Plus 2.0]\r\n||a.example^\r\n", ListFormat::adblock},  // BOM and CR LF
  };
  for (const auto& [text, format] : rows) {
    INFO(text);
    CHECK(blacklist::detect_list_format(text) == format);
  }
  CHECK(blacklist::parse_list_format("webext") == ListFormat::webext);
  CHECK_FALSE(blacklist::parse_list_format("ABP").has_value());
}

TEST_CASE("adblock rules", "[import]") {
  check_rows(
      ListFormat::adblock,
      {
          {"||Coinhive.COM^", "domain coinhive.com"},
          {"||coinhive.com^$third-party", "domain coinhive.com"},
          {"||coinimp.com$third-party", "domain coinimp.com"},  // no `^`: the host is meant
          {"||authedwebmine.cz^$third-party,domain=~webmine.cz", "domain authedwebmine.cz"},  // exclusions dropped
          {"||coinhive.com^$script", "domain coinhive.com"},
          {"||ws.example.org^$websocket", "ws_endpoint ws.example.org"},
          {"||ws.example.org/proxy$websocket,third-party", "ws_endpoint ws.example.org/proxy"},
          {"|wss://ws.example.org/proxy", "ws_endpoint ws.example.org/proxy"},
          {"||cdn.example.org^$script,websocket", "domain cdn.example.org"},  // scripts too: a domain
          {"||cryptobara.com/client/worker.js", "script_url cryptobara.com/client/worker.js"},
          {"||cdn.example.org/Lib/*", "script_url cdn.example.org/lib/"},
          {"||cdn.example.org/lib|", "script_url cdn.example.org/lib"},  // end anchor relaxed to a prefix
          {"||cdn.example.org?key=1", "script_url cdn.example.org/?key=1"},
          {"|https://cdn.example.org/m.js", "script_url cdn.example.org/m.js"},
          {"||23.83.114.131^$third-party", "ip 23.83.114.131"},
          {"||[2001:db8::1]/proxy$websocket", "ws_endpoint [2001:db8::1]/proxy"},
          {"/cryptonight.wasm", "script_path /cryptonight.wasm"},
          {"-coin-hive.js", "script_path -coin-hive.js"},
          {"/deepMiner.js$script,domain=~example.org", "script_path /deepminer.js"},
          {"*/xmr.min.js*", "script_path /xmr.min.js"},
          {"?proxy=wss://$script,websocket", "script_path ?proxy=wss://"},
          {"/bootstrap.wasm$xmlhttprequest", "script_path /bootstrap.wasm"},
          {"@@||api.example.org^$websocket", "allow api.example.org"},
          {"@@||broadcastt.xyz/apps/$websocket", "allow broadcastt.xyz/apps/"},
          {"@@||192.0.2.7^", "allow 192.0.2.7"},
          {"! comment", "comment"},
          {"[Adblock Plus 2.0]", "comment"},
          {"# uBlock comment", "comment"},
          {"!#include nocoin-ublock.txt", "skip:directive"},
          {"example.org##.miner-banner", "skip:cosmetic"},
          {"example.org#@#.ad", "skip:cosmetic"},
          {"example.org#?#div:-abp-has(.x)", "skip:cosmetic"},
          {"example.org##+js(abort-on-property-read, CoinHive)", "skip:scriptlet"},
          {"example.org#$#abort-on-property-read CoinHive", "skip:scriptlet"},
          {"/^https?:\\/\\/[a-z]+\\.xyz\\//$script", "skip:regex"},
          {"/^wss?:\\/\\/.*$/", "skip:regex"},
          {"$csp=worker-src 'none',domain=example.org", "skip:csp"},
          {"||example.org/m.js$redirect=noopjs", "skip:redirect"},
          {"$websocket,domain=victim.example", "skip:site_specific"},
          {".info^$domain=sleeptimer.org", "skip:site_specific"},
          {"||example.org^$popup", "skip:unsupported_option"},
          {"||example.org^$~script", "skip:unsupported_option"},
          {"@@||example.org^$document", "skip:unsupported_option"},
          {"*", "skip:too_broad"},
          {"$websocket", "skip:too_broad"},
          {".js", "skip:too_broad"},  // under kMinScriptPathBytes
          {"||minero-proxy-*.now.sh^", "skip:wildcard_host"},
          {"||uptostream.*/assets/$subdocument", "skip:wildcard_host"},
          {"||example.org:8080^", "skip:host_with_port"},
          {"||exa mple.org^", "skip:bad_host"},
          {"||ddns.net^*=ws://$third-party", "skip:public_suffix"},
          {"||github.io^", "skip:public_suffix"},
          {"||dekoder.ws^*?proxy=", "skip:wildcard_path"},
          {"/miner.*/loader.", "skip:wildcard_path"},
          {"/wproxy$~third-party,websocket", "skip:websocket_path"},
          {"@@/wproxy$websocket", "skip:path_exception"},
          {"|blob:https://", "skip:malformed"},
          {"/path with space", "skip:malformed"},
          {"||cdn.example.org/a$", "skip:malformed"},  // `$` and `#` could not be written back as a rule
          {"||cdn.example.org/a#b", "skip:malformed"},
      });
}

TEST_CASE("hosts files", "[import]") {
  check_rows(ListFormat::hosts,
             {
                 {"0.0.0.0 coinhive.com", "domain coinhive.com"},
                 {"127.0.0.1\tCoinHive.com.  # trailing comment", "domain coinhive.com"},
                 {"::1 coinhive.com", "domain coinhive.com"},
                 {"0.0.0.0 a.example.org b.example.org", "domain a.example.org | domain b.example.org"},
                 {"# comment", "comment"},
                 {"127.0.0.1 localhost", "skip:local_name"},
                 {"::1 ip6-localhost ip6-loopback", "skip:local_name"},
                 {"255.255.255.255 broadcasthost", "skip:local_name"},
                 {"fe80::1%lo0 localhost", "skip:local_name"},
                 {"0.0.0.0 0.0.0.0", "skip:local_name"},
                 {"192.0.2.7 coinhive.com", "skip:hosts_redirect"},
                 {"0.0.0.0 192.0.2.7", "skip:ip_in_domain_list"},
                 {"0.0.0.0 com", "skip:public_suffix"},
                 {"0.0.0.0 coin*.com", "skip:wildcard_host"},
                 {"coinhive.com", "skip:malformed"},
                 {"0.0.0.0", "skip:malformed"},
             });
  // Several names on one line count one by one.
  const auto result = blacklist::import_list("::1 localhost ip6-localhost coinhive.com\n", ListFormat::hosts);
  CHECK(result.entries.size() == 1);
  CHECK(result.skipped_count(SkipKind::local_name) == 2);
}

TEST_CASE("domain lists", "[import]") {
  check_rows(ListFormat::domains, {
                                      {"coinhive.com", "domain coinhive.com"},
                                      {"Coinhive.COM.", "domain coinhive.com"},
                                      {"*.coinhive.com", "domain coinhive.com"},
                                      {"coinhive.com # trailing comment", "domain coinhive.com"},
                                      {"_dmarc.example.org", "domain _dmarc.example.org"},
                                      {"bücher.de", "domain xn--bcher-kva.de"},
                                      {"@@cdn.example.org", "allow cdn.example.org"},
                                      {"# comment", "comment"},
                                      {"192.0.2.7", "skip:ip_in_domain_list"},
                                      {"2001:db8::1", "skip:ip_in_domain_list"},
                                      {"com", "skip:public_suffix"},
                                      {"github.io", "skip:public_suffix"},
                                      {"hashbag.cc:8688", "skip:host_with_port"},
                                      {"foo.*.example.org", "skip:wildcard_host"},
                                      {"a..example.org", "skip:bad_host"},
                                      {"ex!ample.org", "skip:bad_host"},
                                      {"1.2.3", "skip:bad_host"},
                                      {std::string(64, 'a') + ".example.org", "skip:bad_host"},
                                      {"\xFF\xFE.example.org", "skip:bad_host"},
                                      {"https://coinhive.com/lib", "skip:malformed"},
                                      {"coin hive.com", "skip:malformed"},
                                  });
}

TEST_CASE("IP lists", "[import]") {
  check_rows(ListFormat::ips, {
                                  {"192.0.2.7", "ip 192.0.2.7"},
                                  {"192.0.2.0/24", "ip 192.0.2.0/24"},
                                  {"192.0.2.7/32", "ip 192.0.2.7"},
                                  {"2001:DB8:0:0::/32", "ip 2001:db8::/32"},
                                  {"::ffff:192.0.2.7", "ip 192.0.2.7"},
                                  {"::ffff:192.0.2.0/120", "ip 192.0.2.0/24"},
                                  {"192.0.2.7 # pool", "ip 192.0.2.7"},
                                  {"@@192.0.2.0/24", "allow 192.0.2.0/24"},
                                  {"0.0.0.0/0", "skip:too_broad"},
                                  {"10.0.0.0/7", "skip:too_broad"},
                                  {"192.0.2.1/24", "skip:bad_ip"},  // host bits set
                                  {"192.0.2.0/33", "skip:bad_ip"},
                                  {"192.0.2.7:3333", "skip:bad_ip"},
                                  {"300.1.1.1", "skip:bad_ip"},
                                  {"coinhive.com", "skip:bad_ip"},
                              });
}

TEST_CASE("WebExtension match patterns", "[import]") {
  check_rows(ListFormat::webext,
             {
                 {"*://*.coinhive.com/*", "domain coinhive.com"},
                 {"*://load.jsecoin.com/*", "domain load.jsecoin.com"},
                 {"https://coinhive.com/", "domain coinhive.com"},
                 {"*://coinhive.com/lib*", "script_url coinhive.com/lib"},
                 {"*://kisshentai.net/Content/js/c-hive.js*", "script_url kisshentai.net/content/js/c-hive.js"},
                 {"wss://*.coinhive.com/proxy*", "ws_endpoint coinhive.com/proxy"},
                 {"ws://*.webmine.pro/*", "ws_endpoint webmine.pro"},
                 {"ws://31.187.64.216/*", "ws_endpoint 31.187.64.216"},
                 {"*://185.14.28.10/*", "ip 185.14.28.10"},
                 {"*://*/*cryptonight.wasm", "script_path cryptonight.wasm"},
                 {"*://*/*?proxy=wss://*", "script_path ?proxy=wss://"},
                 {"*://*/lib/crlt.js", "script_path /lib/crlt.js"},
                 {"# comment", "comment"},
                 {"<all_urls>", "skip:too_broad"},
                 {"*://*/*", "skip:too_broad"},
                 {"*://*/*n.2.1.l*.js*", "skip:wildcard_path"},
                 {"*://*.coinhive.com/lib/*/worker.js", "skip:wildcard_path"},
                 {"wss://*/proxy", "skip:websocket_path"},
                 {"*://coin*.com/*", "skip:wildcard_host"},
                 {"ws://*.monerise.com:9333/proxy/*", "skip:host_with_port"},
                 {"*://*.github.io/*", "skip:public_suffix"},
                 {"ftp://example.org/*", "skip:malformed"},
                 {"*://example.org", "skip:malformed"},
                 {"coinhive.com", "skip:malformed"},
             });
}

TEST_CASE("entries are unique, sorted and the same on every import", "[import]") {
  const std::string text =
      "||b.example^\n||a.example^$third-party\n/m.wasm\n||a.example^\n@@||c.example^\n||b.example^$websocket\n";
  const auto first = blacklist::import_list(text);
  CHECK(first == blacklist::import_list(text));
  std::vector<std::pair<std::string, std::size_t>> got;
  for (const auto& entry : first.entries)
    got.emplace_back(std::string(to_string(entry.kind)) + " " + entry.value, entry.line);
  const std::vector<std::pair<std::string, std::size_t>> expected = {{"domain a.example", 2},
                                                                     {"domain b.example", 1},
                                                                     {"ws_endpoint b.example", 6},
                                                                     {"script_path /m.wasm", 3},
                                                                     {"allow c.example", 5}};
  CHECK(got == expected);
  REQUIRE(first.skipped_count(SkipKind::duplicate) == 1);
  CHECK(first.skipped.at(SkipKind::duplicate).sample_line == 4);

  // Reordered lines give the same entries (only their line numbers differ).
  const auto reordered = blacklist::import_list(
      "/m.wasm\n@@||c.example^\n||b.example^$websocket\n||a.example^\n||b.example^\n", ListFormat::adblock);
  REQUIRE(reordered.entries.size() == first.entries.size());
  for (std::size_t i = 0; i < first.entries.size(); ++i) {
    CHECK(reordered.entries[i].kind == first.entries[i].kind);
    CHECK(reordered.entries[i].value == first.entries[i].value);
  }
}

TEST_CASE("bounds: line length and entry count", "[import]") {
  const std::string at_limit = std::string(blacklist::kMaxImportLineBytes - 4, 'a') + ".com";  // a bad host, but read
  const std::string over_limit = "coinhive.com" + std::string(blacklist::kMaxImportLineBytes, ' ');
  const auto result = blacklist::import_list(at_limit + "\n" + over_limit + "\nminer.example\n", ListFormat::domains);
  CHECK(result.skipped_count(SkipKind::bad_host) == 1);
  CHECK(result.skipped_count(SkipKind::line_too_long) == 1);
  CHECK(result.skipped.at(SkipKind::line_too_long).sample_line == 2);
  CHECK(result.entries.size() == 1);

  const auto limited =
      blacklist::import_list("a.example\nb.example\na.example\nc.example\nd.example\n", ListFormat::domains, {2});
  CHECK(limited.entries.size() == 2);
  CHECK(limited.skipped_count(SkipKind::duplicate) == 1);
  CHECK(limited.skipped_count(SkipKind::entry_limit) == 2);
  CHECK(limited.skipped.at(SkipKind::entry_limit).sample_line == 4);
}

TEST_CASE("hostile input never crashes and never leaks raw bytes into reasons", "[import]") {
  const std::string nul_line = std::string("coin\0hive.com", 13);
  const std::string invalid_utf8 = "\xC3\x28.example\n\xF8\x88\x80\x80\x80.example\n\xED\xA0\x80.example\n";
  const std::string megabyte_line(1 << 20, 'x');
  const std::string crlf = "coinhive.com\r\ncoinhive.net\r\n\r\n";
  const std::vector<std::string> inputs = {nul_line,
                                           invalid_utf8,
                                           megabyte_line,
                                           megabyte_line + "\n" + crlf,
                                           crlf,
                                           std::string(1000, '\n'),
                                           std::string("||\0^$\0", 6),
                                           "||^",
                                           "|",
                                           "||",
                                           "@@",
                                           "$",
                                           "$$",
                                           "/",
                                           "//",
                                           "*://",
                                           "[",
                                           "]",
                                           "#",
                                           "##",
                                           std::string(20'000, '*'),
                                           "||" + std::string(5000, '.') + "^",
                                           "||[::1^",
                                           "||[::1]:^",
                                           "0.0.0.0 \xFF",
                                           "*://*." + std::string(300, 'a') + "\xC3\xA9/*",
                                           "||\xC3\xA9" + std::string(2000, '\xA9') + "^"};
  for (const auto& input : inputs) {
    for (auto format :
         {ListFormat::adblock, ListFormat::hosts, ListFormat::domains, ListFormat::ips, ListFormat::webext}) {
      const auto result = blacklist::import_list(input, format);
      for (const auto& [kind, count] : result.skipped) CHECK(printable(count.sample_reason, ' '));
      for (const auto& entry : result.entries) CHECK(printable(entry.value, '!'));
    }
    (void)blacklist::import_list(input);  // detected
  }
  const auto with_cr = blacklist::import_list(crlf);
  CHECK(with_cr.format == ListFormat::domains);
  CHECK(with_cr.entries.size() == 2);
  CHECK(with_cr.lines == 3);
  CHECK(with_cr.comment_lines == 1);

  const auto with_nul = blacklist::import_list(nul_line, ListFormat::domains);
  CHECK(with_nul.entries.empty());
  CHECK(with_nul.skipped.at(SkipKind::bad_host).sample_reason.find("\\x00") != std::string::npos);

  const auto big = blacklist::import_list(megabyte_line + "\n" + crlf);
  CHECK(big.skipped_count(SkipKind::line_too_long) == 1);
  CHECK(big.entries.size() == 2);
}

TEST_CASE("what is no text list is told apart from a list before parsing", "[list_import]") {
  CHECK(blacklist::not_a_text_list("coinhive.com\n||miner.example^\n").empty());
  CHECK(blacklist::not_a_text_list("").empty());  // an empty list lists nothing: valid
  CHECK(blacklist::not_a_text_list("caf\xc3\xa9.example\n").empty());
  CHECK(blacklist::not_a_text_list(std::string("a.com\n\0b.com\n", 13)).find("NUL bytes") != std::string::npos);
  std::string latin1(200, 'a');
  latin1[10] = '\xe9';  // one stray byte in 200: a small share is tolerated
  CHECK(blacklist::not_a_text_list(latin1).empty());
  latin1[20] = '\xe9';
  latin1[30] = '\xff';
  CHECK(blacklist::not_a_text_list(latin1).find("not UTF-8") != std::string::npos);
  CHECK(util::invalid_utf8_bytes("\xc0\xaf") == 2);          // overlong
  CHECK(util::invalid_utf8_bytes("\xed\xa0\x80") == 3);      // a surrogate
  CHECK(util::invalid_utf8_bytes("\xf0\x9f\x98\x80") == 0);  // U+1F600
  CHECK(util::invalid_utf8_bytes("\xe2\x82") == 2);          // cut short
}
