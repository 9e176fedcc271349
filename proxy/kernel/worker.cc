#include "kernel/worker.h"

#include <spdlog/spdlog.h>

#include "plugin/event_bus.h"

namespace remora {

Worker::Worker(size_t index, stats::Store& store) : index_(index), store_(store) {}

Worker::~Worker() {
  stop();
  stopping_ = true;
  for (http::DownstreamConnection* c :
       std::unordered_set<http::DownstreamConnection*>(connections_))
    delete c;
  for (auto& [name, l] : listeners_)
    if (l.listener) evconnlistener_free(l.listener);
}

void Worker::start() {
  dispatcher_.setWorkerIndex(index_);
  thread_ = std::thread([this] {
    plugin::EventBus::setThreadDispatcher(&dispatcher_);
    dispatcher_.run();
  });
}

void Worker::ejectEndpoint(const std::string& cluster, const std::string& address, uint32_t ms) {
  dispatcher_.post([this, cluster, address, ms] {
    auto it = clusters_.find(cluster);
    if (it != clusters_.end()) it->second->eject(address, ms);
  });
}

void Worker::setEndpointHealth(const std::string& cluster, const std::string& address,
                               bool healthy) {
  dispatcher_.post([this, cluster, address, healthy] {
    auto it = clusters_.find(cluster);
    if (it != clusters_.end()) it->second->setHealthy(address, healthy);
  });
}

void Worker::updateEndpoints(const std::string& cluster,
                             std::shared_ptr<const std::vector<config::SocketAddress>> endpoints) {
  dispatcher_.post([this, cluster, endpoints = std::move(endpoints)] {
    discovered_[cluster] = endpoints;
    auto it = clusters_.find(cluster);
    if (it != clusters_.end()) it->second->setEndpoints(*endpoints);
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  dispatcher_.post([this] { dispatcher_.exit(); });
  thread_.join();
}

void Worker::install(SnapshotPtr snapshot, std::map<std::string, Fd> sockets, InstallDone done) {
  auto shared = std::make_shared<std::map<std::string, Fd>>(std::move(sockets));
  dispatcher_.post([this, snapshot = std::move(snapshot), shared, done = std::move(done)] {
    const auto begun = std::chrono::steady_clock::now();
    installOnThread(snapshot, *shared);
    if (done) done(begun);
  });
}

void Worker::installOnThread(const SnapshotPtr& snapshot, std::map<std::string, Fd>& sockets) {
  const config::Config& cfg = *snapshot->config;
  // Clusters whose config is unchanged keep their WorkerCluster, and so their pooled connections.
  std::map<std::string, std::shared_ptr<upstream::WorkerCluster>> clusters;
  for (const config::Cluster& c : cfg.clusters) {
    auto it = clusters_.find(c.name);
    auto tls = snapshot->tls.clusters.find(c.name);
    auto context = tls == snapshot->tls.clusters.end() ? nullptr : tls->second;
    if (it != clusters_.end() && it->second->config() == c) {
      it->second->setTls(std::move(context));  // rotated material: new connections use it
      clusters.emplace(c.name, it->second);
    } else {
      auto cluster = std::make_shared<upstream::WorkerCluster>(c, dispatcher_, store_, index_);
      cluster->setTls(std::move(context));
      auto found = discovered_.find(c.name);
      if ((c.type == config::ClusterType::kEtcd || c.type == config::ClusterType::kDns) &&
          found != discovered_.end())
        cluster->setEndpoints(*found->second);
      clusters.emplace(c.name, std::move(cluster));
    }
  }
  for (auto& [name, old] : clusters_) {
    auto it = clusters.find(name);
    if (it == clusters.end() || it->second != old) old->closeIdle();
  }
  clusters_.swap(clusters);
  // Plugin state moves to the new chains before this worker's first stream on them.
  for (const auto& [name, chain] : snapshot->chains) chain->handOffState(index_);
  snapshot_ = snapshot;

  std::map<std::string, ActiveListener> listeners;
  for (const config::Listener& l : cfg.listeners) {
    ActiveListener active;
    auto it = listeners_.find(l.name);
    auto sock = sockets.find(l.name);
    if (it != listeners_.end() && sock == sockets.end()) {
      active = it->second;  // same address: keep the socket, so no connection is refused
      it->second.listener = nullptr;
    } else if (sock != sockets.end()) {
      active.slot =
          it != listeners_.end() ? it->second.slot : std::make_shared<http::ListenerSlot>();
      active.listener = evconnlistener_new(dispatcher_.base(), onAccept, this,
                                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
                                           sock->second.release());
      if (draining_) evconnlistener_disable(active.listener);
    } else {
      continue;  // not reachable: main always sends a socket for a new listener
    }
    active.address = l.address;
    active.slot->current = compile(l, *snapshot);
    listeners.emplace(l.name, std::move(active));
  }
  for (auto& [name, old] : listeners_)
    if (old.listener) evconnlistener_free(old.listener);  // removed or moved listeners
  listeners_.swap(listeners);
}

std::shared_ptr<const http::ListenerRuntime> Worker::compile(const config::Listener& l,
                                                             const Snapshot& snapshot) {
  auto rt = std::make_shared<http::ListenerRuntime>();
  rt->config = l;
  rt->version = snapshot.version;
  auto chain = snapshot.chains.find(l.name);
  if (chain != snapshot.chains.end()) rt->chain = chain->second;
  rt->clusters = clusters_;
  rt->stats = &store_.listener(index_, l.name);
  auto tls = snapshot.tls.listeners.find(l.name);
  if (tls != snapshot.tls.listeners.end()) rt->tls = tls->second;
  rt->stats->tls.enabled.store(rt->tls != nullptr, std::memory_order_relaxed);
  for (const config::Route& r : l.routes) rt->routes.push_back({r.prefix, clusters_.at(r.cluster)});
  compileTcp(l, *rt);
  if (l.original_dst) {
    for (const config::Listener& other : snapshot.config->listeners)
      rt->own_addresses.push_back(other.address);
    rt->own_addresses.push_back(snapshot.config->admin.address);
    if (snapshot.config->admin.control.unix_path.empty())
      rt->own_addresses.push_back(snapshot.config->admin.control.address);
  }
  return rt;
}

void Worker::onAccept(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  for (auto& [name, active] : self->listeners_) {
    if (active.listener != l) continue;
    self->startConnection(active.slot, Fd(fd), http::peerText(addr));
    return;
  }
  evutil_closesocket(fd);
}

void Worker::startHttp2(std::shared_ptr<http::ListenerSlot> slot,
                        std::unique_ptr<network::Transport> transport, std::string peer,
                        std::string_view initial) {
  auto* conn = new http::Http2ServerConnection(dispatcher_, *this, std::move(slot),
                                               std::move(transport), std::move(peer));
  connections_.insert(conn);
  conn->start(initial);
}

void Worker::startCodec(std::shared_ptr<http::ListenerSlot> slot,
                        std::unique_ptr<network::Transport> transport, std::string peer,
                        bool http2) {
  if (slot->current->config.protocol == config::ListenerProtocol::kTcp)
    return startTcp(slot, std::move(transport), std::move(peer));  // TLS-wrapped opaque bytes
  if (!http2) {
    connections_.insert(new http::ServerConnection(dispatcher_, *this, std::move(slot),
                                                   std::move(transport), std::move(peer)));
    return;
  }
  slot->current->stats->downstream_cx_total.inc();  // HTTP/1 counts itself; HTTP/2 does not
  startHttp2(std::move(slot), std::move(transport), std::move(peer), {});
}

void Worker::onConnectionClosed(http::DownstreamConnection& conn) {
  connections_.erase(&conn);
  if (stopping_) return;  // ~Worker deletes it
  dispatcher_.deferDelete(std::unique_ptr<Deferrable>(&conn));
  if (draining_) checkDrained();
}

void Worker::drain(std::function<void()> drained) {
  dispatcher_.post([this, drained = std::move(drained)] {
    draining_ = true;
    drained_ = drained;
    // Close the listening sockets (not just stop accepting): connections the kernel would
    // otherwise queue in the backlog are refused at once and can go to another instance.
    for (auto& [name, l] : listeners_) {
      if (l.listener) evconnlistener_free(l.listener);
      l.listener = nullptr;
    }
    for (http::DownstreamConnection* c :
         std::unordered_set<http::DownstreamConnection*>(connections_))
      c->closeWhenIdle();
    for (auto& [name, c] : clusters_) c->closeIdle();
    checkDrained();
  });
}

void Worker::checkDrained() {
  if (!connections_.empty() || !drained_) return;
  auto done = std::move(drained_);
  drained_ = nullptr;
  done();
}

}  // namespace remora
