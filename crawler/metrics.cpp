// crawler/metrics.cpp — see metrics.hpp.
#include "crawler/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>

#include <prometheus/text_serializer.h>

#include "util/proc.hpp"

namespace crawler {

namespace {

using prometheus::MetricType;

// Seconds: a millisecond to ten seconds (a commit waits on a busy database up to its 5 s timeout).
const prometheus::Histogram::BucketBoundaries kSecondsBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                              0.25,  0.5,    1,     2.5,  5,     10};

// The process's start, in Unix seconds: field 22 of /proc/self/stat (clock ticks after boot) and
// the boot time of /proc/stat. nullopt when either cannot be read.
std::optional<double> process_start_seconds() {
  const auto stat = util::proc::read_small_file("/proc/self/stat");
  const auto machine = util::proc::read_small_file("/proc/stat", 1 << 16);
  if (!stat || !machine) return std::nullopt;
  // Fields after the command's closing parenthesis: state is field 3, starttime field 22.
  const auto close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(*stat).substr(close + 1);
  long long ticks = -1;
  for (int field = 2; field < 22 && !rest.empty(); ++field) {
    rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(' ')));
    const auto end = std::min(rest.size(), rest.find(' '));
    if (field == 21) std::from_chars(rest.data(), rest.data() + end, ticks);
    rest.remove_prefix(end);
  }
  const auto btime_at = machine->find("\nbtime ");
  if (ticks < 0 || btime_at == std::string::npos) return std::nullopt;
  long long boot = 0;
  const char* first = machine->data() + btime_at + 7;
  if (std::from_chars(first, machine->data() + machine->size(), boot).ec != std::errc()) return std::nullopt;
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return std::nullopt;
  return static_cast<double>(boot) + static_cast<double>(ticks) / static_cast<double>(ticks_per_second);
}

// process_* as Prometheus's own clients name them, read from /proc/self and getrusage at each scrape.
class ProcessCollectable final : public prometheus::Collectable {
 public:
  ProcessCollectable() : start_(process_start_seconds()) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    rusage self{};
    if (::getrusage(RUSAGE_SELF, &self) == 0) {
      const double cpu = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                         static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
      families.push_back(single_sample("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
                                       MetricType::Counter, cpu));
    }
    if (const auto resident = util::proc::resident_bytes(::getpid()))
      families.push_back(single_sample("process_resident_memory_bytes", "Resident memory size in bytes",
                                       MetricType::Gauge, static_cast<double>(*resident)));
    if (start_)
      families.push_back(single_sample("process_start_time_seconds",
                                       "Start time of the process since the Unix epoch, in seconds", MetricType::Gauge,
                                       *start_));
    return families;
  }

 private:
  std::optional<double> start_;
};

}  // namespace

prometheus::MetricFamily single_sample(std::string name, std::string help, MetricType type, double value) {
  prometheus::MetricFamily family{std::move(name), std::move(help), type, {}};
  prometheus::ClientMetric metric;
  if (type == MetricType::Counter) metric.counter.value = value;
  else metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

MetricsExposition::MetricsExposition() : registry_(std::make_shared<prometheus::Registry>()) {
  sources_.push_back(registry_);
  sources_.push_back(std::make_shared<ProcessCollectable>());
}

void MetricsExposition::add(std::shared_ptr<const prometheus::Collectable> source) {
  std::lock_guard lock(mutex_);
  sources_.push_back(std::move(source));
}

std::string MetricsExposition::render() const {
  std::vector<prometheus::MetricFamily> families;
  {
    std::lock_guard lock(mutex_);
    for (const auto& source : sources_) {
      auto collected = source->Collect();
      families.insert(families.end(), std::make_move_iterator(collected.begin()),
                      std::make_move_iterator(collected.end()));
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

HttpResponse metrics_response(const MetricsExposition& exposition) {
  HttpResponse response;
  response.route = "metrics";
  response.content_type = std::string(kMetricsContentType);
  response.headers.emplace_back("Cache-Control", "no-store");
  response.body = std::make_shared<const std::string>(exposition.render());
  return response;
}

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("cjcrawl_http_requests_total")
                    .Help("HTTP requests answered, by route")
                    .Register(registry)),
      responses_(prometheus::BuildCounter()
                     .Name("cjcrawl_http_responses_total")
                     .Help("HTTP responses, by status code (malformed requests and refused connections included)")
                     .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("cjcrawl_http_request_duration_seconds")
                    .Help("Time from a request read to its answer ready to write, by route")
                    .Register(registry)) {}

void HttpMetrics::answered(std::string_view route, int status, double seconds) {
  const std::string name(route);
  requests_.Add({{"route", name}}).Increment();
  duration_.Add({{"route", name}}, kSecondsBuckets).Observe(seconds);
  unrouted(status);
}

void HttpMetrics::unrouted(int status) { responses_.Add({{"code", std::to_string(status)}}).Increment(); }

std::string replacement_label(std::string_view why) {
  std::string label(why);
  for (auto& c : label)
    if (c == ' ' || c == '-') c = '_';
  return label;
}

CrawlMetrics::CrawlMetrics(prometheus::Registry& registry)
    : registry_(registry),
      recorded_(prometheus::BuildCounter()
                    .Name("cjcrawl_sites_recorded_total")
                    .Help("Sites recorded by this worker, by verdict and status (the summary's counts)")
                    .Register(registry)),
      not_checked_(prometheus::BuildCounter()
                       .Name("cjcrawl_sites_not_checked_total")
                       .Help("Sites cjcrawl could not visit at all (Chrome did not start), left for a resume")
                       .Register(registry)
                       .Add({})),
      released_(prometheus::BuildCounter()
                    .Name("cjcrawl_sites_released_total")
                    .Help("A shared crawl's attempts given back to the queue unchecked")
                    .Register(registry)),
      superseded_(prometheus::BuildCounter()
                      .Name("cjcrawl_results_superseded_total")
                      .Help("A shared crawl's results dropped: the lease had lapsed and another worker took the site")
                      .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("cjcrawl_visits_in_flight")
                     .Help("Sites being visited now (at most the slots)")
                     .Register(registry)
                     .Add({})),
      slots_(prometheus::BuildGauge()
                 .Name("cjcrawl_slots")
                 .Help("Slots, running or stopped by their failure budget")
                 .Register(registry)),
      launches_(prometheus::BuildCounter()
                    .Name("cjcrawl_browser_launches_total")
                    .Help("Chromes launched")
                    .Register(registry)
                    .Add({})),
      replacements_(prometheus::BuildCounter()
                        .Name("cjcrawl_browser_replacements_total")
                        .Help("Chromes replaced, by why")
                        .Register(registry)),
      pss_(prometheus::BuildGauge()
               .Name("cjcrawl_chrome_pss_bytes")
               .Help("PSS of a slot's Chrome process tree, read after a site at most once a minute (and when "
                     "its summed RSS passes --memory-cap)")
               .Register(registry)),
      commit_(prometheus::BuildHistogram()
                  .Name("cjcrawl_commit_duration_seconds")
                  .Help("Time of one try to commit a site (visit, blacklist, crawl progress) on the database thread")
                  .Register(registry)
                  .Add({}, kSecondsBuckets)),
      database_unreachable_(prometheus::BuildGauge()
                                .Name("cjcrawl_database_unreachable")
                                .Help("1 while a shared crawl waits for its unreachable database")
                                .Register(registry)),
      leases_held_(prometheus::BuildGauge()
                       .Name("cjcrawl_leases_held")
                       .Help("A shared crawl's sites this worker holds leased")
                       .Register(registry)),
      leases_lost_(prometheus::BuildCounter()
                       .Name("cjcrawl_leases_lost_total")
                       .Help("Leases found lapsed and taken by another worker when renewing")
                       .Register(registry)),
      queue_sites_(prometheus::BuildGauge()
                       .Name("cjcrawl_queue_sites")
                       .Help("A shared crawl's sites by state, read from the database at most every 30 s")
                       .Register(registry)),
      queue_attempts_(prometheus::BuildGauge()
                          .Name("cjcrawl_queue_attempts")
                          .Help("A shared crawl's attempts made so far, every worker's, read at most every 30 s")
                          .Register(registry)) {
  // Every why and state from the start, at 0: a rate over a series that appears late misses its first step.
  for (const char* why : {"sites", "memory", "crash", "connection_lost", "hang", "setup_failed"})
    replacements_.Add({{"why", why}});
  slots(0, 0);
}

void CrawlMetrics::crawl_info(std::int64_t crawl_id, std::string_view name) {
  prometheus::BuildGauge()
      .Name("cjcrawl_crawl_info")
      .Help("The crawl this worker records into (always 1)")
      .Register(registry_)
      .Add({{"crawl_id", std::to_string(crawl_id)}, {"name", std::string(name)}})
      .Set(1);
}

void CrawlMetrics::shared_crawl() {
  released_.Add({});
  superseded_.Add({});
  database_unreachable_.Add({});
  leases_held_.Add({});
  leases_lost_.Add({});
  queue_attempts_.Add({});
  for (const char* state : {"queued", "leased", "done", "failed"}) queue_sites_.Add({{"state", state}});
}

void CrawlMetrics::recorded(std::string_view verdict, std::string_view status) {
  recorded_.Add({{"verdict", std::string(verdict)}, {"status", std::string(status)}}).Increment();
}

void CrawlMetrics::slots(int running, int stopped) {
  slots_.Add({{"state", "running"}}).Set(running);
  slots_.Add({{"state", "stopped"}}).Set(stopped);
}

void CrawlMetrics::browser_replaced(std::string_view why) {
  replacements_.Add({{"why", replacement_label(why)}}).Increment();
}

void CrawlMetrics::chrome_pss(int slot, std::uint64_t bytes) {
  pss_.Add({{"slot", std::to_string(slot)}}).Set(static_cast<double>(bytes));
}

void CrawlMetrics::queue(const db::CrawlQueue::QueueState& state) {
  queue_sites_.Add({{"state", "queued"}}).Set(static_cast<double>(state.queued));
  queue_sites_.Add({{"state", "leased"}}).Set(static_cast<double>(state.leased));
  queue_sites_.Add({{"state", "done"}}).Set(static_cast<double>(state.done));
  queue_sites_.Add({{"state", "failed"}}).Set(static_cast<double>(state.failed));
  queue_attempts_.Add({}).Set(static_cast<double>(state.attempts));
}

}  // namespace crawler
