#include "upstream/worker_cluster.h"

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
  int i = lb_->pick(tried);
  if (i < 0) return nullptr;
  if (i < 64) tried |= uint64_t{1} << i;
  return endpoints_[size_t(i)].get();
}

void WorkerCluster::closeIdle() {
  for (auto& ep : endpoints_) ep->closeIdle();
}

}  // namespace remora::upstream
