// crawler/main.cpp — the `cjcrawl` command line: parses, then runs one command (crawler/cli/).
//
// Subcommands: `check URL` (one site, end to end), `crawl LIST` (many sites, resumable), `crawls`,
// `import SOURCE...` (public blocklists), `export` (the blacklist as a feed file), `serve` (feeds,
// API and dashboard over HTTP), `merge OUT IN...` (the SQLite files of a sharded crawl, as one).
// Exit codes are documented in README.md:
//   0 checked, not cryptojacking · 3 cryptojacking · 1 could not check · 2 usage error · 130 interrupted
#include <signal.h>

#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cdp/chrome_process.hpp"
#include "crawler/cli/commands.hpp"
#include "crawler/rules_path.hpp"

namespace {

namespace cli = crawler::cli;

std::string version_text(const std::optional<std::filesystem::path>& rules_flag) {
  const auto rules = crawler::find_rules(rules_flag);
  const auto chrome = cdp::find_chrome(std::nullopt);
  return fmt::format("cjcrawl {}\nrules:  {}\nchrome: {}", CJCRAWL_VERSION,
                     rules ? fmt::format("{} ({})", rules->dir.string(), rules->origin) : rules.error().describe(),
                     chrome ? chrome->string() : std::string("not found"));
}

void set_up_logging(int verbose) {
  auto logger = spdlog::stderr_color_mt("cjcrawl");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("cjcrawl: %l: %v");
  spdlog::set_level(spdlog::level::warn);
  if (verbose > 0) spdlog::set_level(verbose > 1 ? spdlog::level::trace : spdlog::level::debug);
  if (verbose > 1) spdlog::set_pattern("cjcrawl: %H:%M:%S.%e %l: %v");  // a protocol trace needs its times
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout pipe is an error to report, not a silent death

  CLI::App app{"cjcrawl — find web cryptojacking with instrumented headless Chrome"};
  bool show_version = false;
  int verbose = 0;
  std::optional<std::filesystem::path> version_rules;
  app.add_flag("--version", show_version, "Print the version, the rules directory in use, and the Chrome found");
  app.add_option("--rules", version_rules, "Rules directory (with --version)");
  app.add_flag("-v,--verbose", verbose,
               "Log protocol details to stderr; twice (-vv) also every CDP message, each cut to 1,000 bytes");
  app.require_subcommand(0, 1);

  cli::CheckArgs check;
  cli::CrawlArgs crawl;
  cli::RecheckArgs recheck;
  cli::AllowArgs allow;
  cli::CrawlsArgs crawls;
  cli::CrawlLinesArgs crawl_lines;
  cli::ImportArgs import;
  cli::ExportArgs exporting;
  cli::ServeArgs serving;
  cli::MergeArgs merging;
  auto* check_command = cli::add_check(app, check);
  auto* crawl_command = cli::add_crawl(app, crawl);
  auto* recheck_command = cli::add_recheck(app, recheck);
  auto* allow_command = cli::add_allow(app, allow);
  auto* crawls_command = cli::add_crawls(app, crawls);
  auto* crawl_lines_command = cli::add_crawl_lines(app, crawl_lines);
  auto* import_command = cli::add_import(app, import);
  auto* export_command = cli::add_export(app, exporting);
  auto* serve_command = cli::add_serve(app, serving);
  auto* merge_command = cli::add_merge(app, merging);
  // `cjcrawl crawl list.txt -vv` as well as `cjcrawl -vv crawl list.txt`. (Not app.fallthrough(): that
  // would also take the top-level --rules, meant for --version, after a command that has none.)
  for (auto* command : app.get_subcommands([](CLI::App*) { return true; }))
    command->add_flag("-v,--verbose", verbose, "Log protocol details to stderr; -vv also every CDP message");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (show_version) {
      fmt::print("{}\n", version_text(version_rules));
      return cli::kExitClean;
    }
    return cli::usage_error(fmt::format("{}\nRun with --help for more information.", cli::usage_message(e)));
  }
  set_up_logging(verbose);
  if (show_version) {
    fmt::print("{}\n", version_text(version_rules));
    return cli::kExitClean;
  }
  if (check_command->parsed()) return cli::run_check(check);
  if (crawl_command->parsed()) return cli::run_crawl(crawl);
  if (recheck_command->parsed()) return cli::run_recheck(recheck);
  if (allow_command->parsed()) return cli::run_allow(allow);
  if (crawls_command->parsed()) return cli::run_crawls(crawls);
  if (crawl_lines_command->parsed()) return cli::run_crawl_lines(crawl_lines);
  if (import_command->parsed()) return cli::run_import(import);
  if (export_command->parsed()) return cli::run_export(exporting);
  if (serve_command->parsed()) return cli::run_serve(serving);
  if (merge_command->parsed()) return cli::run_merge(merging);
  fmt::print(stderr, "{}", app.help());
  return cli::kExitUsage;
}
