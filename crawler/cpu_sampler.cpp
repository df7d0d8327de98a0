// crawler/cpu_sampler.cpp — see cpu_sampler.hpp.
#include "crawler/cpu_sampler.hpp"

#include <algorithm>

#include "cdp/chrome_process.hpp"
#include "util/clock.hpp"

namespace crawler {

bool RendererCpu::is_site_renderer(std::int64_t pid) {
  // Known UI (and earlier) renderers are skipped; a renderer whose command line does not show what
  // it is yet (just forked) is counted, and looked at again next time.
  if (browser_ui_.contains(pid)) return false;
  if (!web_.contains(pid)) {
    const auto kind = cdp::renderer_kind(pid);
    if (kind == cdp::RendererKind::browser_ui) {
      browser_ui_.insert(pid);
      return false;
    }
    if (kind == cdp::RendererKind::web) web_.insert(pid);
  }
  return true;
}

double RendererCpu::wait_added(std::int64_t pid, double cpu_delta, bool known_cpu,
                               std::map<std::int64_t, std::map<std::int64_t, double>>& now_waits) {
  // Per thread. A renderer that barely ran since the last sample is not read: wait accrues only
  // while a thread is runnable, and one that was runnable got its fair share of a core, so its wait
  // in an idle interval is nil or tiny, and is read (not lost) when it next runs. Most samples of
  // most pages are idle; this was the bulk of cjcrawl's /proc reading (perf).
  const auto known = last_waits_.find(pid);
  if (known_cpu && known != last_waits_.end() && cpu_delta < kIdleRendererCpuSeconds) {
    now_waits[pid] = std::move(known->second);
    return 0;
  }
  auto waits = wait_reader_.read(pid);
  double added_total = 0;
  for (const auto& [tid, wait] : waits) {
    double added = 0;
    if (known != last_waits_.end() && known->second.contains(tid)) added = std::max(0.0, wait - known->second.at(tid));
    else if (!first_) added = wait;
    added_total += added;
  }
  now_waits[pid] = std::move(waits);
  return added_total;
}

double RendererCpu::update(const std::vector<cdp::ProcessInfo>& processes) {
  std::map<std::int64_t, double> now_cpu;
  std::map<std::int64_t, std::map<std::int64_t, double>> now_waits;
  double delta = 0;
  for (const auto& process : processes) {
    if (process.type != "renderer" || !is_site_renderer(process.pid)) continue;
    // CPU: the process's cumulative cpuTime, clamped on its own.
    now_cpu[process.pid] = process.cpu_seconds;
    const auto before = last_cpu_.find(process.pid);
    const bool known_cpu = before != last_cpu_.end();
    const double cpu_delta = known_cpu ? std::max(0.0, process.cpu_seconds - before->second) : 0.0;
    if (known_cpu) delta += cpu_delta;
    else if (!first_) delta += process.cpu_seconds;
    const double waited = wait_added(process.pid, cpu_delta, known_cpu, now_waits);
    delta += waited;
    waited_ += waited;
  }
  for (const auto& [pid, waits] : last_waits_)
    if (!now_waits.contains(pid)) wait_reader_.forget(pid);  // gone: its files close
  last_cpu_ = std::move(now_cpu);
  last_waits_ = std::move(now_waits);
  first_ = false;
  cumulative_ += delta;
  return cumulative_;
}

asio::awaitable<std::set<std::int64_t>> running_renderers(cdp::Session browser) {
  constexpr std::chrono::milliseconds kTimeout{10'000};
  std::set<std::int64_t> renderers;
  const cdp::SystemInfoGetProcessInfo get_processes;
  auto processes = co_await browser.send(get_processes, kTimeout);
  if (processes)
    for (const auto& process : processes->processes)
      if (process.type == "renderer") renderers.insert(process.pid);
  co_return renderers;
}

CpuSampler::CpuSampler(VisitContext& visit, cdp::Session browser, std::set<std::int64_t> earlier_renderers,
                       std::chrono::milliseconds sample_period)
    : visit_(visit), browser_(std::move(browser)), sample_period_(sample_period),
      renderer_cpu_(std::move(earlier_renderers)) {}

asio::awaitable<bool> CpuSampler::sample() {
  if (visit_.evidence().cpu_samples.empty()) started_ = Clock::now();
  const auto timeout = std::max(std::chrono::milliseconds(2'000), sample_period_ * 4);
  const cdp::SystemInfoGetProcessInfo get_processes;
  auto info = co_await browser_.send(get_processes, timeout);
  if (!info) {
    visit_.count("cpu_sample_failed");
    co_return false;
  }
  const double demand = renderer_cpu_.update(info->processes);
  processes_ = std::move(info->processes);
  auto& evidence = visit_.evidence();
  evidence.cpu_samples.push_back(
      {util::seconds_between(started_, Clock::now()), demand, renderer_cpu_.waited_seconds()});
  // How much of the CPU reading was waiting for a core (see RendererCpu), when there was any.
  if (const auto waited_ms = static_cast<std::uint64_t>(renderer_cpu_.waited_seconds() * 1000); waited_ms > 0)
    evidence.counters["runqueue_wait_ms"] = waited_ms;
  co_return true;
}

}  // namespace crawler
