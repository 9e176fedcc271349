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
  // An endpoint with no connection keeps no spare streams (they are not on the stack: only
  // retired streams can be).
  if (h2_.empty()) spare_streams_.clear();
  if (!pending_.empty() && h2_.size() < cluster_.config().max_connections_per_endpoint) {
    UpstreamCallbacks* next = pending_.front();
    pending_.pop_front();
    cluster_.removePending();
    openHttp2()->newStream(*next);
  }
}

Http2UpstreamStream* EndpointPool::newStream(Http2Connection& conn, UpstreamCallbacks& cb) {
  ++streams_out_;
  if (spare_streams_.empty()) return new Http2UpstreamStream(*this, conn, cb);
  Http2UpstreamStream* s = spare_streams_.back().release();
  spare_streams_.pop_back();
  s->reopen(conn, cb);
  return s;
}

void EndpointPool::retireStream(Http2UpstreamStream& s) {
  --streams_out_;
  retired_streams_.push_back(&s);
  // Inside a connection callback the scope recycles at its end; elsewhere (a downstream event
  // released the stream, its own timer) once the current pass is over.
  if (callback_depth_ > 0 || recycle_scheduled_) return;
  if (!recycle_ev_) recycle_ev_.reset(event_new(dispatcher_.base(), -1, 0, onRecycle, this));
  recycle_scheduled_ = true;
  event_active(recycle_ev_.get(), 0, 0);
}

void EndpointPool::onRecycle(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<EndpointPool*>(arg);
  self->recycle_scheduled_ = false;
  self->recycleStreams();
}

void EndpointPool::recycleStreams() {
  for (Http2UpstreamStream* s : retired_streams_) {
    if (!h2_.empty() && spare_streams_.size() < kMaxSpareStreams) {
      spare_streams_.emplace_back(s);
    } else {
      delete s;
    }
  }
  retired_streams_.clear();
}

}  // namespace remora::upstream
