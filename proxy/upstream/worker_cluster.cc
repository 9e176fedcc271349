#include "upstream/worker_cluster.h"

#include "kernel/lazy_timer.h"

namespace remora::upstream {

WorkerCluster::WorkerCluster(const config::Cluster& config, Dispatcher& dispatcher,
                             stats::Store& store, size_t worker_index)
    : config_(config), dispatcher_(dispatcher), stats_(store.cluster(worker_index, config.name)) {
  for (const config::SocketAddress& addr : config.endpoints) {
    endpoints_.push_back(std::make_unique<EndpointPool>(
        *this, dispatcher, addr, store.endpoint(worker_index, config.name, addr.str())));
  }
  lb_ = makeLoadBalancer(
      config.lb_policy, endpoints_.size(),
      [this](size_t i) { return endpoints_[i]->activeRequests(); },
      [&dispatcher] { return dispatcher.random(); });
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
