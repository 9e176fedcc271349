#include "upstream/worker_cluster.h"

#include <algorithm>

#include "event/lazy_timer.h"

namespace remora::upstream {
namespace {

// The label under which every destination of an original_dst cluster is counted: per-address
// series would grow with whatever the application connects to.
constexpr const char* kOriginalDstEndpoint = "original_dst";

}  // namespace

WorkerCluster::WorkerCluster(const config::Cluster& config, Dispatcher& dispatcher,
                             stats::Store& store, size_t worker_index)
    : config_(config),
      dispatcher_(dispatcher),
      stats_(store.cluster(worker_index, config.name)),
      worker_index_(worker_index),
      store_(store) {
  setEndpoints(config.endpoints);
  if (originalDst()) {
    dst_stats_ = &store.endpoint(worker_index, config.name, kOriginalDstEndpoint);
    // Pools whose connections all closed (idle_timeout) are removed after two sweeps, so the
    // table stays as large as the set of destinations in recent use.
    sweep_timer_.reset(event_new(dispatcher.base(), -1, EV_PERSIST, onSweep, this));
    auto ms = std::clamp<int64_t>(config.idle_timeout.count(), 1000, 60000);
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
    event_add(sweep_timer_.get(), &tv);
  }
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

WorkerCluster::~WorkerCluster() {
  sweep_timer_.reset();
  by_dst_.clear();  // before the stats they point at are gone
}

EndpointPool* WorkerCluster::choose(uint64_t& tried) {
  // Ejected endpoints count as tried, unless every endpoint is ejected (then balance anyway,
  // as Envoy's panic threshold does: some traffic beats none).
  uint64_t mask = tried;
  uint64_t now = LazyTimer::nowMs();
  size_t usable = 0;
  for (size_t k = 0; k < endpoints_.size() && k < 64; ++k) {
    if (endpoints_[k]->ejectedAt(now) || !endpoints_[k]->healthy()) {
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

void WorkerCluster::setHealthy(const std::string& address, bool healthy) {
  for (auto& ep : endpoints_)
    if (ep->name() == address) ep->setHealthy(healthy);
}

EndpointPool* WorkerCluster::chooseOriginalDst(std::string_view key, const sockaddr_storage& addr,
                                               socklen_t len, uint64_t& tried) {
  if (tried & 1) return nullptr;
  tried |= 1;
  auto it = by_dst_.find(key);
  if (it != by_dst_.end()) {
    it->second.unused_at_last_sweep = false;
    return it->second.pool.get();
  }
  if (by_dst_.size() >= kMaxOriginalDstPools) return nullptr;
  auto pool =
      std::make_unique<EndpointPool>(*this, dispatcher_, addr, len, std::string(key), *dst_stats_);
  EndpointPool* raw = pool.get();
  by_dst_.emplace(std::string(key), DstPool{std::move(pool), false});
  return raw;
}

void WorkerCluster::onSweep(evutil_socket_t, short, void* arg) {
  static_cast<WorkerCluster*>(arg)->sweep();
}

void WorkerCluster::sweep() {
  for (auto it = by_dst_.begin(); it != by_dst_.end();) {
    DstPool& d = it->second;
    if (!d.pool->unused()) {
      d.unused_at_last_sweep = false;
    } else if (d.unused_at_last_sweep) {
      it = by_dst_.erase(it);
      continue;
    } else {
      d.unused_at_last_sweep = true;
    }
    ++it;
  }
}

void WorkerCluster::closeIdle() {
  for (auto& ep : endpoints_) ep->closeIdle();
  for (auto& [key, d] : by_dst_) d.pool->closeIdle();
}

}  // namespace remora::upstream
