// crawler/cli/serve.cpp — `cjcrawl serve`: the blacklist feeds, the API, the dashboard and /metrics over
// HTTP, read-only, until SIGINT or SIGTERM (then exit 0: stopping a server is its normal end).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "crawler/cli/commands.hpp"
#include "crawler/feed.hpp"
#include "crawler/metrics.hpp"
#include "crawler/report.hpp"
#include "crawler/serve.hpp"

namespace crawler::cli {

namespace asio = boost::asio;

CLI::App* add_serve(CLI::App& app, ServeArgs& args) {
  auto* command =
      app.add_subcommand("serve", "Serve the blacklist feeds, a JSON API and a dashboard over HTTP (read-only)");
  command->add_option("--listen", args.listen, "HOST:PORT to listen on (IP literal or localhost; port 0: any)")
      ->capture_default_str();
  command->add_option("--db", args.db_path, kDatabaseHelp);
  command->add_option("--max-connections", args.max_connections, "Connections served at once; more get 503")
      ->check(in_range(1, 100'000))
      ->capture_default_str();
  command->add_option("--header-timeout", args.header_timeout_seconds, "Seconds for a client to send its first request")
      ->check(in_range(0.1, 3600, "seconds"))
      ->capture_default_str();
  command
      ->add_option("--idle-timeout", args.idle_timeout_seconds,
                   "Seconds a keep-alive connection may wait for its next request")
      ->check(in_range(0.1, 3600, "seconds"))
      ->capture_default_str();
  command->add_option("--write-timeout", args.write_timeout_seconds, "Seconds for a client to take one response")
      ->check(in_range(0.1, 3600, "seconds"))
      ->capture_default_str();
  return command;
}

int run_serve(const ServeArgs& args) {
  const auto endpoint = crawler::parse_listen(args.listen);
  if (!endpoint)
    return usage_error(fmt::format("--listen {}: {}", terminal_safe(args.listen), endpoint.error().message));
  const auto milliseconds = [](double seconds) { return std::chrono::milliseconds(static_cast<long>(seconds * 1000)); };

  asio::io_context io(1);
  // Before the service and the server: they hand it families it renders while they live.
  crawler::MetricsExposition exposition;
  auto service = crawler::FeedService::open(args.db_path, io.get_executor());
  if (!service)
    return database_error(fmt::format("cannot serve {}", db::shown_location(args.db_path)), service.error());
  crawler::ServeOptions options;
  options.listen = *endpoint;
  options.max_connections = args.max_connections;
  options.header_timeout = milliseconds(args.header_timeout_seconds);
  options.idle_timeout = milliseconds(args.idle_timeout_seconds);
  options.write_timeout = milliseconds(args.write_timeout_seconds);
  crawler::FeedServer server(io, **service, options, std::make_shared<crawler::HttpMetrics>(exposition.registry()));
  exposition.add(server.connection_metrics());
  (*service)->serve_metrics(exposition);
  boost::asio::ip::tcp::endpoint bound;
  try {
    bound = server.bind();
  } catch (const std::exception& e) {
    return failure(e.what());
  }
  if (!bound.address().is_loopback())
    fmt::print(stderr,
               "cjcrawl: warning: serving on {}, not loopback: anyone who can reach it can read the "
               "blacklist and every visit's evidence\n",
               bound.address().to_string());
  const std::string host =
      bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  // stdout, one line, flushed: scripts and tests read the address (with --listen :0, the port) here.
  fmt::print("cjcrawl: serving {} on http://{}:{}/ (Ctrl-C to stop)\n", db::shown_location(args.db_path), host,
             bound.port());
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (error) return;
    server.stop();
    io.stop();
  });
  asio::co_spawn(io, server.run(), asio::detached);
  io.run();
  return kExitClean;
}

}  // namespace crawler::cli
