// cjcrawl-testserver: serves a fixture or demo docroot on 127.0.0.1 with the fake pools and chat
// socket of testsupport::FixtureServer, for the demo script and for poking at fixtures by hand.
// Prints exactly one line `PORT=<n>` on stdout once listening; runs until SIGINT or SIGTERM.
#include "tests/support/fixture_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kUsage =
    "usage: cjcrawl-testserver --root DIR [--port N] [--verbose]\n"
    "  Serves DIR on 127.0.0.1: fixture pages, fake mining pools (/ws/pool and /ws/relay coinhive-style,\n"
    "  /ws/wmp webminerpool, /ws/stratum stratum JSON-RPC; /ws/binary-pool, /ws/scrambled-pool and the\n"
    "  HTTP pool /pool-api/* check every share with CryptoNight-pico), a chat socket (/ws/echo), and hostile routes\n"
    "  (/hang, /slow, /redirect-loop, /ws/flood, /generated/big-script.js, /download).\n"
    "  Prints PORT=<n> on stdout once listening, then runs until SIGINT or SIGTERM.\n"
    "  --port 0 (the default) lets the kernel pick a free port.\n"
    "  --verbose also prints the request count of every path on exit (stderr).\n";

struct Options {
  std::string root;
  std::uint16_t port = 0;
  bool verbose = false;
};

// Parses the command line; nullopt after printing what was wrong (or the help).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options options;
  bool have_root = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--help" || argument == "-h") {
      std::cout << kUsage;
      exit_code = 0;
      return std::nullopt;
    }
    if ((argument == "--root" || argument == "--port") && i + 1 >= argc) {
      std::cerr << "cjcrawl-testserver: " << argument << " needs a value\n" << kUsage;
      exit_code = 2;
      return std::nullopt;
    }
    if (argument == "--verbose") {
      options.verbose = true;
    } else if (argument == "--root") {
      options.root = argv[++i];
      have_root = true;
    } else if (argument == "--port") {
      const std::string_view value = argv[++i];
      unsigned parsed = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (error != std::errc() || end != value.data() + value.size() || parsed > 65535) {
        std::cerr << "cjcrawl-testserver: --port expects a number from 0 to 65535, got '" << value << "'\n";
        exit_code = 2;
        return std::nullopt;
      }
      options.port = static_cast<std::uint16_t>(parsed);
    } else {
      std::cerr << "cjcrawl-testserver: unknown argument '" << argument << "'\n" << kUsage;
      exit_code = 2;
      return std::nullopt;
    }
  }
  if (!have_root) {
    std::cerr << "cjcrawl-testserver: --root DIR is required\n" << kUsage;
    exit_code = 2;
    return std::nullopt;
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  const std::optional<Options> options = parse_options(argc, argv, exit_code);
  if (!options) return exit_code;

  try {
    // Catch the signals before the server starts, so an early SIGTERM still exits cleanly.
    boost::asio::io_context signals_context{1};
    boost::asio::signal_set signals(signals_context, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { signals_context.stop(); });

    testsupport::FixtureServer server(options->root, "127.0.0.1", options->port);
    std::cout << "PORT=" << server.port() << std::endl;  // endl flushes: the demo script waits for it

    // Wait for SIGINT or SIGTERM; the server runs on its own thread meanwhile.
    signals_context.run();

    const testsupport::FixtureServer::Stats stats = server.stats();
    std::cerr << "cjcrawl-testserver: stopping after " << stats.http_requests << " HTTP requests, "
              << stats.pool_connections << " pool connections (" << stats.pool_auths << " auths, "
              << stats.pool_jobs_sent << " jobs, " << stats.pool_submits << " submits), " << stats.relay_connections
              << " relay connections (" << stats.relay_auths << " auths, " << stats.relay_jobs_sent << " jobs, "
              << stats.relay_submits << " submits), " << stats.wmp_connections << " webminerpool connections ("
              << stats.wmp_handshakes << " handshakes, " << stats.wmp_jobs_sent << " jobs, " << stats.wmp_solved
              << " solved), " << stats.stratum_connections << " stratum connections (" << stats.stratum_logins
              << " logins, " << stats.stratum_jobs_sent << " jobs, " << stats.stratum_submits << " submits, "
              << stats.stratum_keepalives << " keepalives), " << stats.pool_errors_sent << " pool errors sent, "
              << stats.echo_messages << " chat messages echoed";
    if (stats.internal_errors > 0) {
      std::cerr << ", " << stats.internal_errors << " internal errors (last: " << stats.last_internal_error << ")";
    }
    std::cerr << "\n";
    if (options->verbose) {
      for (const auto& [path, count] : stats.requests_by_path) {
        std::cerr << "cjcrawl-testserver:   " << count << " " << path << "\n";
      }
    }
  } catch (const std::exception& error) {
    std::cerr << "cjcrawl-testserver: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
