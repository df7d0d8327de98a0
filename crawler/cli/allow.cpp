// crawler/cli/allow.cpp — `cjcrawl allow HOST|URL --reason TEXT`: a reviewed false positive. The
// value is checked before anything is written (a host by RFC 1123 and the Public Suffix List, a URL by
// the same rules as `check`), the reason must say something, and the entry is listed by the 'review'
// source, which wins over every other in the feeds (an exception rule) and in the detector.
#include <arpa/inet.h>

#include <algorithm>

#include "blacklist/rules.hpp"
#include "crawler/cli/commands.hpp"
#include "crawler/report.hpp"
#include "crawler/url_input.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace crawler::cli {
namespace {

constexpr std::size_t kMaxReasonBytes = 1000;

bool is_ip_address(const std::string& text) {
  unsigned char bytes[16];
  return ::inet_pton(AF_INET, text.c_str(), bytes) == 1 || ::inet_pton(AF_INET6, text.c_str(), bytes) == 1;
}

// The value as stored: a URL normalised as `check` would visit it, or a lower-case host or IP.
util::Result<std::string> allow_value(const std::string& given) {
  if (given.find("://") != std::string::npos) {
    auto urls = crawler::parse_input(given);
    if (!urls)
      return usage(fmt::format("allow {}: not a URL cjcrawl visits: {}", terminal_safe(given), urls.error().message));
    return urls->front();
  }
  std::string host = util::to_lower(given);
  if (!host.empty() && host.back() == '.') host.pop_back();  // the root's dot
  if (is_ip_address(host)) return host;
  // Stored as the feeds match it: an international name in its punycode form.
  auto problem = std::any_of(host.begin(), host.end(), [](unsigned char c) { return c >= 0x80; })
                     ? std::string("give an international name in punycode (xn--...)")
                     : crawler::host_name_problem(host);
  if (problem.empty() && blacklist::registrable_domain(host).empty())
    problem = "it is a public suffix (or a single label): an exception for it would cover every site under it";
  if (!problem.empty()) return usage(fmt::format("allow {}: not a host name: {}", terminal_safe(given), problem));
  return host;
}

util::Result<std::string> checked_reason(const std::string& given) {
  const auto first = given.find_first_not_of(" \t");
  const auto last = given.find_last_not_of(" \t");
  if (first == std::string::npos) return usage("allow: --reason is empty; say why this is a false positive");
  std::string reason = given.substr(first, last - first + 1);
  if (reason.size() > kMaxReasonBytes)
    return usage(fmt::format("allow: --reason is longer than {} bytes", kMaxReasonBytes));
  if (std::any_of(reason.begin(), reason.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return usage("allow: --reason has control characters (newlines included); write it on one line");
  return reason;
}

}  // namespace

CLI::App* add_allow(CLI::App& app, AllowArgs& args) {
  auto* command = app.add_subcommand(
      "allow",
      "Record a reviewed false positive: HOST (and every name below it) or URL is never blacklisted in the "
      "feeds, whatever lists it");
  command->add_option("VALUE", args.value, "A host name, an IP address, or an http(s) URL")->required();
  command->add_option("--reason", args.reason, "Why (kept with the entry, shown in its proof)")->required();
  command->add_option("--db", args.db_path, kDatabaseHelp);
  return command;
}

int run_allow(const AllowArgs& args) {
  auto value = allow_value(args.value);
  if (!value) return report(value.error());
  auto reason = checked_reason(args.reason);
  if (!reason) return report(reason.error());
  const auto store = open_database(args.db_path, db::OpenMode::write);
  if (!store) return kExitCouldNotCheck;
  auto id = store->allow(*value, *reason, util::wall_ms());
  if (!id)
    return database_error(fmt::format("cannot write the database {}", db::shown_location(args.db_path)), id.error());
  fmt::print(stderr, "cjcrawl: allowed {} (entry {}): the feeds carry it as an exception from now on\n",
             terminal_safe(*value), *id);
  return kExitClean;
}

}  // namespace crawler::cli
