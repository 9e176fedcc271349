#include "upstream/endpoint_pool.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "event/lazy_timer.h"
#include "network/client_socket.h"
#include "network/plain_transport.h"
#include "network/tls_context.h"
#include "upstream/worker_cluster.h"

namespace remora::upstream {

EndpointPool::EndpointPool(WorkerCluster& cluster, Dispatcher& dispatcher,
                           const config::SocketAddress& addr, stats::EndpointStats& stats)
    : cluster_(cluster),
      dispatcher_(dispatcher),
      name_(addr.str()),
      stats_(stats),
      http2_(cluster.config().protocol == config::UpstreamProtocol::kHttp2) {
  // The loader resolved the address; a host that is not numeric leaves the family unset and
  // every connect fails, as before.
  addr.toSockaddr(sockaddr_, sockaddr_len_);
}

EndpointPool::EndpointPool(WorkerCluster& cluster, Dispatcher& dispatcher,
                           const sockaddr_storage& addr, socklen_t len, std::string name,
                           stats::EndpointStats& stats)
    : cluster_(cluster),
      dispatcher_(dispatcher),
      name_(std::move(name)),
      sockaddr_(addr),
      sockaddr_len_(len),
      stats_(stats),
      http2_(cluster.config().protocol == config::UpstreamProtocol::kHttp2) {}

bool EndpointPool::startConnect(std::unique_ptr<network::Transport>& transport, EventPtr& read_ev,
                                EventPtr& write_ev, event_callback_fn cb, void* arg) {
  Fd fd;
  bool started = network::startConnect(sockaddr_, sockaddr_len_, fd);
  if (!fd.valid()) return false;
  event_base* base = dispatcher_.base();
  read_ev.reset(event_new(base, fd.get(), EV_READ | EV_PERSIST, cb, arg));
  write_ev.reset(event_new(base, fd.get(), EV_WRITE | EV_PERSIST, cb, arg));
  if (const auto& tls = cluster_.tls()) {
    if (!tls_session_) tls_session_ = std::make_shared<network::TlsSessionSlot>();
    transport = tls->connect(std::move(fd), tls_session_);
  } else {
    transport = std::make_unique<network::PlainTransport>(std::move(fd));
  }
  if (started) event_add(write_ev.get(), nullptr);
  return started;
}

EndpointPool::~EndpointPool() {
  // Streams pin the cluster, so only idle or closing connections can remain here.
  for (UpstreamConnection* c : all_) delete c;
  for (Http2Connection* c : h2_) delete c;
  // Retired in the current pass, so possibly still on the stack; spares go with the pool.
  for (Http2UpstreamStream* s : retired_streams_)
    dispatcher_.deferDelete(std::unique_ptr<Deferrable>(s));
}

PendingAdmission EndpointPool::acquire(UpstreamCallbacks& cb, uint32_t pending_limit) {
  if (http2_) return acquireHttp2(cb, false, pending_limit);
  if (!idle_.empty()) {
    UpstreamConnection* conn = idle_.back();
    idle_.pop_back();
    ++active_;
    onActivated();
    conn->attach(cb);
    return PendingAdmission::kAdmitted;
  }
  if (all_.size() < cluster_.config().max_connections_per_endpoint) {
    auto* conn = new UpstreamConnection(*this, dispatcher_);
    all_.insert(conn);
    ++active_;
    stats_.cx_active.add();
    conn->connect(cb);
    return PendingAdmission::kAdmitted;
  }
  return enqueue(cb, pending_limit);
}

PendingAdmission EndpointPool::enqueue(UpstreamCallbacks& cb, uint32_t pending_limit) {
  PendingAdmission admission = cluster_.tryAddPending(pending_limit);
  if (admission == PendingAdmission::kAdmitted) {
    pending_.push_back(&cb);
  } else if (admission == PendingAdmission::kClusterFull) {
    // The kernel's own bound; a filter's refusal is counted by that filter.
    cluster_.stats().pending_overflow.inc();
  }
  return admission;
}

void EndpointPool::cancel(UpstreamCallbacks& cb) {
  auto it = std::find(pending_.begin(), pending_.end(), &cb);
  if (it != pending_.end()) {
    pending_.erase(it);
    cluster_.removePending();
    return;
  }
  if (http2_) return cancelHttp2(cb);
  auto connecting = std::find_if(all_.begin(), all_.end(),
                                 [&](UpstreamConnection* c) { return c->connectingFor(cb); });
  if (connecting != all_.end()) (*connecting)->detach();  // not reusable yet: closes it
}

void EndpointPool::release(UpstreamConnection& conn, bool reusable) {
  --active_;
  stats_.cx_active.sub();
  if (!reusable) return;  // the connection closes itself and calls onClosed
  if (!pending_.empty()) {
    UpstreamCallbacks* next = pending_.front();
    pending_.pop_front();
    cluster_.removePending();
    ++active_;
    stats_.cx_active.add();
    conn.attach(*next);
    return;
  }
  idle_.push_back(&conn);
  stats_.cx_idle.add();
  if (retired_) closeIdle();
}

void EndpointPool::onClosed(UpstreamConnection& conn) {
  auto it = std::find(idle_.begin(), idle_.end(), &conn);
  if (it != idle_.end()) {
    idle_.erase(it);
    stats_.cx_idle.sub();
  }
  all_.erase(&conn);
  dispatcher_.deferDelete(std::unique_ptr<Deferrable>(&conn));
  // A slot opened: start a connection for the first waiting request.
  if (!pending_.empty() && all_.size() < cluster_.config().max_connections_per_endpoint) {
    UpstreamCallbacks* next = pending_.front();
    pending_.pop_front();
    cluster_.removePending();
    auto* fresh = new UpstreamConnection(*this, dispatcher_);
    all_.insert(fresh);
    ++active_;
    stats_.cx_active.add();
    fresh->connect(*next);
  }
}

void EndpointPool::ejectFor(uint32_t ms) {
  ejected_until_ms_ = LazyTimer::nowMs() + ms;
  stats_.ejected_until_ms.store(ejected_until_ms_, std::memory_order_relaxed);
}

bool EndpointPool::ejected() const {
  return ejectedAt(LazyTimer::nowMs());
}

void EndpointPool::closeIdle() {
  std::vector<Http2Connection*> h2 = h2_;  // closing edits h2_
  for (Http2Connection* c : h2) c->closeIfIdle();
  std::vector<UpstreamConnection*> idle;
  idle.swap(idle_);
  for (UpstreamConnection* c : idle) {
    stats_.cx_idle.sub();
    all_.erase(c);
    dispatcher_.deferDelete(std::unique_ptr<Deferrable>(c));
  }
}

}  // namespace remora::upstream
