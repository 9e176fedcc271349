#include "upstream/worker_cluster.h"

#include <algorithm>

#include "kernel/lazy_timer.h"

namespace remora::upstream {

WorkerCluster::WorkerCluster(const config::Cluster& config, Dispatcher& dispatcher,
                             stats::Store& store, size_t worker_index)
    : config_(config),
      dispatcher_(dispatcher),
      stats_(store.cluster(worker_index, config.name)),
      worker_index_(worker_index),
      store_(store) {
  setEndpoints(config.endpoints);
}

void WorkerCluster::setEndpoints(const std::vector<config::SocketAddress>& addresses) {
  std::vector<std::unique_ptr<EndpointPool>> next;
  next.reserve(addresses.size());
  for (const config::SocketAddress& addr : addresses) {
    const std::string name = addr.str();
    auto same = std::find_if(endpoints_.begin(), endpoints_.end(),
                             [&](const auto& ep) { return ep && ep->name() == name; });
    if (same != endpoints_.end()) {
      next.push_back(std::move(*same));
    } else {
      next.push_back(std::make_unique<EndpointPool>(
          *this, dispatcher_, addr, store_.endpoint(worker_index_, config_.name, name)));
    }
  }
  for (auto& gone : endpoints_) {
    if (!gone) continue;
    gone->retire();
    if (gone->busy()) retired_.push_back(std::move(gone));
  }
  std::erase_if(retired_, [](const auto& ep) { return !ep->busy(); });
  endpoints_.swap(next);
  lb_ = makeLoadBalancer(
      config_.lb_policy, endpoints_.size(),
      [this](size_t i) { return endpoints_[i]->activeRequests(); },
      [this] { return dispatcher_.random(); });
}

WorkerCluster::~WorkerCluster() = default;

EndpointPool* WorkerCluster::choose(uint64_t& tried) {
  // Ejected endpoints count as tried, unless every endpoint is ejected (then balance anyway,
  // as Envoy's panic threshold does: some traffic beats none).
  uint64_t mask = tried;
  uint64_t now = LazyTimer::nowMs();
  size_t usable = 0;
  for (size_t k = 0; k < endpoints_.size() && k < 64; ++k) {
    if (endpoints_[k]->ejectedAt(now)) {
      mask |= uint64_t{1} << k;
    } else if (!((tried >> k) & 1)) {
      ++usable;
    }
  }
  int i = lb_->pick(usable > 0 ? mask : tried);
  if (i < 0) return nullptr;
  if (i < 64) tried |= uint64_t{1} << i;
  return endpoints_[size_t(i)].get();
}

void WorkerCluster::eject(const std::string& address, uint32_t ms) {
  for (auto& ep : endpoints_)
    if (ep->name() == address) ep->ejectFor(ms);
}

void WorkerCluster::closeIdle() {
  for (auto& ep : endpoints_) ep->closeIdle();
}

}  // namespace remora::upstream
