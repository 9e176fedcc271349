#include "kernel/snapshot_publisher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "network/listen_socket.h"
#include "plugin/filter_chain.h"

namespace remora {

ConfigStatus SnapshotPublisher::publish(std::shared_ptr<const config::Config> config,
                                        uint64_t version, const std::string& source) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point started = Clock::now();
  // Sockets first: a listener that cannot bind refuses the whole change before any worker sees
  // it. A listener whose name and address are unchanged keeps its sockets (and connections).
  std::vector<std::map<std::string, Fd>> per_worker(workers_.size());
  FieldErrors errors;
  for (size_t i = 0; i < config->listeners.size(); ++i) {
    const config::Listener& l = config->listeners[i];
    bool unchanged = false;
    if (current_) {
      for (const config::Listener& old : current_->config->listeners)
        unchanged |= old.name == l.name && old.address == l.address;
    }
    if (unchanged) continue;
    auto fds = network::openListenSockets(l.address, workers_.size());
    if (!fds) {
      errors.push_back({"listeners[" + std::to_string(i) + "].address", fds.error()});
      continue;
    }
    for (size_t w = 0; w < workers_.size(); ++w)
      per_worker[w].emplace(l.name, std::move(fds.value()[w]));
  }
  auto snap = std::make_shared<Snapshot>();
  snap->tls = buildTlsContexts(*config, errors);
  compileChains(*config, *snap, errors);
  if (!errors.empty()) return errors;
  snap->version = version;
  snap->config = std::move(config);
  snap->source = source;
  snap->applied_at = std::chrono::system_clock::now();

  // Publish to every worker and wait until all have installed it: the caller reports the
  // version as applied only when every new stream will use it.
  // Each worker notes when its install began and ended, so the debug log can say where the
  // time went: preparing here, queued behind a worker's ready connections, installing, or
  // waking this thread. The state is shared with the closures so that the last worker can
  // notify after unlocking: notifying under the lock lets this thread wake only to block on
  // the mutex until that worker runs again, which on a loaded machine can take milliseconds.
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    Clock::time_point latest_start, last_done;
    Clock::duration longest_install{0};
  };
  auto wait = std::make_shared<Wait>();
  wait->pending = workers_.size();
  const Clock::time_point posted = Clock::now();
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->install(snap, std::move(per_worker[i]), [wait](Clock::time_point begun) {
      const Clock::time_point done = Clock::now();
      bool last;
      {
        std::lock_guard<std::mutex> g(wait->mu);
        wait->latest_start = std::max(wait->latest_start, begun);
        wait->longest_install = std::max(wait->longest_install, done - begun);
        wait->last_done = std::max(wait->last_done, done);
        last = --wait->pending == 0;
      }
      if (last) wait->cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(wait->mu);
    wait->cv.wait(lock, [&] { return wait->pending == 0; });
  }
  const Clock::time_point woken = Clock::now();
  current_ = snap;
  if (spdlog::should_log(spdlog::level::debug)) {
    auto us = [](Clock::duration d) {
      return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    };
    spdlog::debug(
        "snapshot {} phases: prepare_us={} queue_us={} install_us={} wake_us={} total_us={}",
        version, us(posted - started), us(wait->latest_start - posted), us(wait->longest_install),
        us(woken - wait->last_done), us(woken - started));
  }
  return ConfigStatus();
}

void SnapshotPublisher::compileChains(const config::Config& config, Snapshot& snap,
                                      FieldErrors& errors) {
  plugins_.scan(config.plugins.dir, config.plugins.cache_dir);
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const config::Listener& l = config.listeners[i];
    if (l.filters.empty()) continue;
    // The chain in service for this listener hands its plugins' state to the new one.
    const plugin::FilterChain* previous = nullptr;
    if (current_) {
      auto it = current_->chains.find(l.name);
      if (it != current_->chains.end()) previous = it->second.get();
    }
    auto chain = plugin::compileChain(l, "listeners[" + std::to_string(i) + "]", plugins_, metrics_,
                                      previous);
    if (!chain) {
      append(errors, chain.error());
      continue;
    }
    snap.chains.emplace(l.name, chain.value());
  }
}

}  // namespace remora
