#include "kernel/snapshot_publisher.h"

#include <condition_variable>
#include <map>
#include <mutex>

#include "kernel/listen_socket.h"
#include "plugin/filter_chain.h"

namespace remora {

Status SnapshotPublisher::publish(std::shared_ptr<const config::Config> config, uint64_t version,
                                  const std::string& source) {
  // Sockets first: a listener that cannot bind refuses the whole change before any worker sees
  // it. A listener whose name and address are unchanged keeps its sockets (and connections).
  std::vector<std::map<std::string, Fd>> per_worker(workers_.size());
  std::string errors;
  for (size_t i = 0; i < config->listeners.size(); ++i) {
    const config::Listener& l = config->listeners[i];
    bool unchanged = false;
    if (current_) {
      for (const config::Listener& old : current_->config->listeners)
        unchanged |= old.name == l.name && old.address == l.address;
    }
    if (unchanged) continue;
    auto fds = openListenSockets(l.address, workers_.size());
    if (!fds) {
      errors += (errors.empty() ? "" : "\n") + ("listeners[" + std::to_string(i) + "].address: ") +
                fds.error();
      continue;
    }
    for (size_t w = 0; w < workers_.size(); ++w)
      per_worker[w].emplace(l.name, std::move(fds.value()[w]));
  }
  auto snap = std::make_shared<Snapshot>();
  Status chains = compileChains(*config, *snap);
  if (!chains) errors += (errors.empty() ? "" : "\n") + chains.error();
  if (!errors.empty()) return Error{errors};
  snap->version = version;
  snap->config = std::move(config);
  snap->source = source;
  snap->applied_at = std::chrono::system_clock::now();

  // Publish to every worker and wait until all have installed it: the caller reports the
  // version as applied only when every new stream will use it.
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = workers_.size();
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->install(snap, std::move(per_worker[i]), [&] {
      std::lock_guard<std::mutex> g(mu);
      if (--pending == 0) cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
  current_ = snap;
  return Status();
}

Status SnapshotPublisher::compileChains(const config::Config& config, Snapshot& snap) {
  plugins_.scan(config.plugins.dir, config.plugins.cache_dir);
  std::string errors;
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
      errors += (errors.empty() ? "" : "\n") + chain.error();
      continue;
    }
    snap.chains.emplace(l.name, chain.value());
  }
  if (!errors.empty()) return Error{errors};
  return Status();
}

}  // namespace remora
