// crawler/cli/check.cpp — `cjcrawl check URL`: one site in a sandboxed Chrome of its own, a verdict,
// the visit recorded. Exit 0 not cryptojacking, 3 cryptojacking, 1 could not check, 2 usage error,
// 130 interrupted (README "Exit codes").
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "cdp/chrome_process.hpp"
#include "crawler/cli/commands.hpp"
#include "crawler/dashboard.hpp"
#include "crawler/report.hpp"
#include "crawler/url_input.hpp"
#include "util/clock.hpp"
#include "util/worker.hpp"

namespace crawler::cli {
namespace {

namespace asio = boost::asio;

struct CheckRun {
  std::optional<crawler::VisitOutcome> outcome;
  bool interrupted = false;
};

// The visit of each candidate URL in turn (https, then http for a bare host), until one answers.
CheckRun visit_candidates(const CheckArgs& args, const std::vector<std::string>& candidates,
                          crawler::VisitOptions options) {
  CheckRun run;
  asio::io_context io;
  util::WorkerThread scanner;  // (after the io_context: joined before it goes)
  options.scanner = &scanner;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (error) return;
    run.interrupted = true;
    io.stop();  // the io_context's end tears the visit down: Chrome killed, profile removed
  });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (const auto& url : candidates) {
          run.outcome = co_await crawler::visit(args.input, url, options);
          if (!run.outcome->tool_error.empty() || !crawler::worth_http_fallback(run.outcome->evidence.status)) break;
        }
        signals.cancel();
      },
      asio::detached);
  io.run();
  return run;
}

}  // namespace

CLI::App* add_check(CLI::App& app, CheckArgs& args) {
  auto* command = app.add_subcommand("check", "Visit one site in sandboxed headless Chrome and give a verdict");
  command->add_option("URL", args.input, "http(s) URL or bare host name")->required();
  command->add_flag("--json", args.json, "Print one JSON object (schema in README) instead of the summary");
  command->add_option("--report", args.report_path,
                      "Also write a self-contained HTML report (verdict, reasons, CPU chart, hot code, pool traffic, "
                      "scripts, what was blacklisted) to FILE.html; it runs no script and loads nothing");
  add_visit_options(command, args.visit);
  return command;
}

int run_check(const CheckArgs& args) {
  // Validate everything before launching anything.
  if (auto checked = check_visit_args(args.visit); !checked) return report(checked.error());
  if (auto checked = check_output_path("--report", args.report_path); !checked) return report(checked.error());
  const auto candidates = crawler::parse_input(args.input);
  if (!candidates)
    return usage_error(
        fmt::format("'{}' is not a site to check: {}", terminal_safe(args.input), candidates.error().message));
  auto found = find_rules_and_chrome(args.visit);
  if (!found) return report(found.error());
  const auto store = open_database(args.visit.db_path, db::OpenMode::write);
  if (!store) return kExitCouldNotCheck;
  auto known = store->known_entries();
  if (!known)
    return database_error(fmt::format("cannot read the blacklist in {}", db::shown_location(args.visit.db_path)),
                          known.error());
  const blacklist::Detector detector(std::move(found->rules), std::move(known).value(), !args.visit.no_late_watch);

  const int orphans = cdp::remove_orphaned_profiles();
  if (orphans > 0) spdlog::info("removed {} Chrome profile(s) left by an earlier, killed cjcrawl", orphans);

  const auto run = visit_candidates(args, *candidates, visit_options(args.visit, found->chrome, detector));
  if (run.interrupted) {
    fmt::print(stderr, "cjcrawl: interrupted; Chrome stopped and its profile removed\n");
    return kExitInterrupted;
  }
  const auto& outcome = run.outcome;
  if (!outcome || !outcome->tool_error.empty())
    return failure(fmt::format("could not check {}: {}", args.input, outcome ? outcome->tool_error : "no result"));

  const auto judgement = detector.judge(outcome->evidence, args.visit.rule, outcome->cpu);
  auto recorded = store->record_visit(outcome->evidence, judgement, util::wall_ms());
  if (!recorded)
    return database_error(fmt::format("the visit could not be recorded in {}", db::shown_location(args.visit.db_path)),
                          recorded.error());

  if (!args.report_path.empty()) {
    auto row = store->visit(*recorded);
    if (!row || !*row)
      return database_error(
          fmt::format("cannot read visit {} back from {}", *recorded, db::shown_location(args.visit.db_path)),
          row ? util::make_error(util::ErrorCode::not_found, "no such visit", "") : row.error());
    if (auto written = write_file_atomically(args.report_path, crawler::render_report(**row, judgement.offenders));
        !written)
      return report(written.error());
  }
  if (args.json)
    std::cout << crawler::report_json(outcome->evidence, judgement, args.visit.rule, outcome->cpu)
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  else
    std::cout << crawler::human_summary(outcome->evidence, judgement, args.visit.rule, outcome->cpu, &detector.known());
  std::cout.flush();

  if (judgement.verdict == blacklist::Verdict::cryptojacking) return kExitCryptojacking;
  if (outcome->evidence.status != blacklist::Status::ok) return kExitCouldNotCheck;
  return kExitClean;
}

}  // namespace crawler::cli
