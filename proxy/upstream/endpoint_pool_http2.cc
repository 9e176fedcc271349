// EndpointPool's HTTP/2 side: streams multiplexed on as few connections as the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS (and the cluster's http2.max_concurrent_streams) allow.
#include <algorithm>

#include "upstream/endpoint_pool.h"
#include "upstream/worker_cluster.h"

namespace remora::upstream {

Http2Connection* EndpointPool::openHttp2() {
  auto* conn = new Http2Connection(*this, dispatcher_);
  h2_.push_back(conn);
  stats_.cx_idle.add();  // counted idle until it carries a stream (onConnectionBusy)
  conn->connect();
  return conn;
}

PendingAdmission EndpointPool::acquireHttp2(UpstreamCallbacks& cb, bool requeued,
                                            uint32_t pending_limit) {
  // The busiest connection with room first: load concentrates, and the others go idle and
  // time out instead of each keeping a trickle of streams.
  Http2Connection* best = nullptr;
  for (Http2Connection* c : h2_)
    if (c->hasRoom() && (best == nullptr || c->load() > best->load())) best = c;
  if (best == nullptr && h2_.size() < cluster_.config().max_connections_per_endpoint)
    best = openHttp2();
  if (best != nullptr) {
    best->newStream(cb);
    return PendingAdmission::kAdmitted;
  }
  if (requeued) {
    // Admitted once already: it waits at the front, beyond the queue's bounds.
    pending_.push_front(&cb);
    cluster_.addPendingUnbounded();
    return PendingAdmission::kAdmitted;
  }
  return enqueue(cb, pending_limit);
}

void EndpointPool::requeue(UpstreamCallbacks& cb) {
  acquireHttp2(cb, true, UINT32_MAX);
}

void EndpointPool::cancelHttp2(UpstreamCallbacks& cb) {
  for (Http2Connection* c : h2_)
    if (c->cancelWaiting(cb)) return;
}

void EndpointPool::onCapacity(Http2Connection& conn) {
  while (!pending_.empty() && conn.hasRoom()) {
    UpstreamCallbacks* next = pending_.front();
    pending_.pop_front();
    cluster_.removePending();
    conn.newStream(*next);
  }
  // A connection that stopped taking streams (GOAWAY) leaves room for a new one.
  if (!pending_.empty() && !conn.hasRoom() && conn.draining()) {
    size_t live = size_t(
        std::count_if(h2_.begin(), h2_.end(), [](Http2Connection* c) { return !c->draining(); }));
    if (live < cluster_.config().max_connections_per_endpoint) {
      UpstreamCallbacks* next = pending_.front();
      pending_.pop_front();
      cluster_.removePending();
      openHttp2()->newStream(*next);
    }
  }
}

void EndpointPool::onClosed(Http2Connection& conn) {
  auto it = std::find(h2_.begin(), h2_.end(), &conn);
  if (it == h2_.end()) return;
  h2_.erase(it);
  stats_.cx_idle.sub();  // close() settled a busy connection to idle first
  dispatcher_.deferDelete(std::unique_ptr<Deferrable>(&conn));
  if (!pending_.empty() && h2_.size() < cluster_.config().max_connections_per_endpoint) {
    UpstreamCallbacks* next = pending_.front();
    pending_.pop_front();
    cluster_.removePending();
    openHttp2()->newStream(*next);
  }
}

}  // namespace remora::upstream
