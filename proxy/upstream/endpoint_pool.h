#pragma once
// EndpointPool: one worker's connections to one endpoint — idle keep-alive connections (reused
// most-recent first, while they are warm), connections in use, and requests waiting for a
// connection when the per-endpoint maximum is reached.
//
// For an HTTP/2 cluster the same pool holds multiplexed connections instead: a request gets a
// stream on a connection with room, a new connection when all are full, or waits in the same
// pending queue (endpoint_pool_http2.cc).

#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "event/dispatcher.h"
#include "network/tls_transport.h"
#include "stats/stats.h"
#include "upstream/http2_connection.h"
#include "upstream/upstream_connection.h"

namespace remora::upstream {

class WorkerCluster;

// Whether a request may wait in the cluster's pending queue (WorkerCluster::tryAddPending).
enum class PendingAdmission {
  kAdmitted,
  kClusterFull,  // the cluster's max_pending_requests
  kStreamLimit,  // the stream's own bound, set by a filter (set_upstream_limits)
};

class EndpointPool {
 public:
  EndpointPool(WorkerCluster& cluster, Dispatcher& dispatcher, const config::SocketAddress& addr,
               stats::EndpointStats& stats);
  // An original_dst cluster's pool for one destination (`name` is its "ip:port" text).
  EndpointPool(WorkerCluster& cluster, Dispatcher& dispatcher, const sockaddr_storage& addr,
               socklen_t len, std::string name, stats::EndpointStats& stats);
  ~EndpointPool();

  // Gives `cb` a connection now (idle or newly connecting) or queues it (kAdmitted). When the
  // pool is full and the request cannot wait — the cluster's pending queue is full, or already
  // holds `pending_limit` requests (a filter's bound for this stream) — says which; the caller
  // answers 503.
  PendingAdmission acquire(UpstreamCallbacks& cb, uint32_t pending_limit = UINT32_MAX);
  // Forgets `cb`: removes it from the pending queue, or closes the connection being opened for
  // it, so nothing calls back into a stream that is gone.
  void cancel(UpstreamCallbacks& cb);

  // From UpstreamConnection.
  void release(UpstreamConnection& conn, bool reusable);
  void onClosed(UpstreamConnection& conn);
  void onActivated() {
    stats_.cx_idle.sub();
    stats_.cx_active.add();
  }

  // From Http2Connection.
  // Requests the connection could not take after the peer's SETTINGS: placed again, ahead of
  // the queue (they were admitted already).
  void requeue(UpstreamCallbacks& cb);
  // The connection may have room (a stream ended, SETTINGS, GOAWAY): serve the pending queue.
  void onCapacity(Http2Connection& conn);
  void onClosed(Http2Connection& conn);
  void onConnectionBusy(bool busy) {
    if (busy) {
      stats_.cx_idle.sub();
      stats_.cx_active.add();
    } else {
      stats_.cx_active.sub();
      stats_.cx_idle.add();
    }
  }
  void onStreamCountChanged(int delta) {
    active_ = uint32_t(int64_t(active_) + delta);
    stats_.streams_active.add(delta);
  }
  size_t http2Connections() const { return h2_.size(); }

  // HTTP/2 stream objects are reused: a new stream reopens a spare one when there is one.
  Http2UpstreamStream* newStream(Http2Connection& conn, UpstreamCallbacks& cb);
  // The stream is closed and released. It becomes a spare (or is deleted) once no code of it
  // can be on the stack: at the end of the current Http2Connection callback, or of the current
  // event-loop pass when retired elsewhere (a downstream event, the stream's own timer).
  void retireStream(Http2UpstreamStream& s);
  // Marks one event callback of an Http2Connection of this pool: streams retired inside it are
  // recycled when it ends. Only at the top of such a callback (libevent never nests them).
  class StreamRecycleScope {
   public:
    explicit StreamRecycleScope(EndpointPool& pool) : pool_(pool) { ++pool_.callback_depth_; }
    ~StreamRecycleScope() {
      if (--pool_.callback_depth_ == 0 && !pool_.retired_streams_.empty()) pool_.recycleStreams();
    }
    StreamRecycleScope(const StreamRecycleScope&) = delete;
    StreamRecycleScope& operator=(const StreamRecycleScope&) = delete;

   private:
    EndpointPool& pool_;
  };
  // Spares kept per endpoint and worker: enough for the requests one connection carries in a
  // burst (h2load -m 10 from 10 clients, a gRPC channel) to cost no allocation, few enough to
  // stay small (each keeps its head, trailers and body buffer, ≈ 1-2 KiB).
  static constexpr size_t kMaxSpareStreams = 64;

  const sockaddr_storage& sockaddr() const { return sockaddr_; }
  socklen_t sockaddrLen() const { return sockaddr_len_; }
  // Starts a connection to this endpoint (HTTP/1 and HTTP/2 connections alike): `transport`
  // becomes a transport (TLS when the cluster has a context, resuming this endpoint's last
  // session; else plain) whose non-blocking TCP_NODELAY socket is connecting, `read_ev` and
  // `write_ev` persistent events on it for `cb`, and the write event is added (it fires once
  // the connect completes; network::connectError tells how). False when the connect failed at
  // once (errno says why): the caller reports that from the loop. The events exist whenever a
  // socket was made.
  bool startConnect(std::unique_ptr<network::Transport>& transport, EventPtr& read_ev,
                    EventPtr& write_ev, event_callback_fn cb, void* arg);
  const std::string& name() const { return name_; }
  WorkerCluster& cluster() { return cluster_; }
  uint32_t activeRequests() const { return active_; }
  size_t idleCount() const { return idle_.size(); }
  // Outlier ejection: out of load balancing until the deadline.
  void ejectFor(uint32_t ms);
  bool ejectedAt(uint64_t now_ms) const { return ejected_until_ms_ > now_ms; }
  bool ejected() const;
  // Removed from its cluster's endpoint set (discovery): connections close once their request
  // is done, instead of going back to the idle list.
  void retire() {
    retired_ = true;
    closeIdle();
  }
  // Connections open, requests waiting or HTTP/2 streams not yet released (a removed endpoint's
  // pool lives on while busy).
  bool busy() const {
    return !all_.empty() || !h2_.empty() || !pending_.empty() || streams_out_ > 0;
  }
  // Closes idle connections (drain, cluster removal).
  void closeIdle();
  // No connection and no waiting request: an original_dst pool may be removed.
  bool unused() const { return !busy(); }
  // Active health checking's verdict (posted by the main thread); unhealthy endpoints are
  // skipped by the load balancer like ejected ones.
  void setHealthy(bool healthy) { healthy_ = healthy; }
  bool healthy() const { return healthy_; }

 private:
  WorkerCluster& cluster_;
  Dispatcher& dispatcher_;
  std::string name_;
  // TLS clusters: the last session this endpoint gave, so the next connection resumes it.
  std::shared_ptr<network::TlsSessionSlot> tls_session_;
  sockaddr_storage sockaddr_{};
  socklen_t sockaddr_len_ = 0;
  stats::EndpointStats& stats_;
  std::unordered_set<UpstreamConnection*> all_;
  std::vector<UpstreamConnection*> idle_;
  std::deque<UpstreamCallbacks*> pending_;
  uint32_t active_ = 0;  // connections bound to a request (incl. connecting); HTTP/2: streams
  const bool http2_;
  std::vector<Http2Connection*> h2_;  // owned; deleted (deferred) when closed
  // HTTP/2 stream objects: handed out and not yet retired; retired in the current callback or
  // pass (maybe still on the stack); spares, reset at reopen.
  uint32_t streams_out_ = 0;
  std::vector<Http2UpstreamStream*> retired_streams_;
  std::vector<std::unique_ptr<Http2UpstreamStream>> spare_streams_;
  EventPtr recycle_ev_;  // recycles streams retired outside a connection callback
  uint32_t callback_depth_ = 0;
  bool recycle_scheduled_ = false;

  PendingAdmission acquireHttp2(UpstreamCallbacks& cb, bool requeued, uint32_t pending_limit);
  // Puts `cb` at the back of the pending queue if the cluster admits it.
  PendingAdmission enqueue(UpstreamCallbacks& cb, uint32_t pending_limit);
  void cancelHttp2(UpstreamCallbacks& cb);
  Http2Connection* openHttp2();
  static void onRecycle(evutil_socket_t, short, void* arg);
  // Retired streams become spares (up to kMaxSpareStreams while a connection is open), the rest
  // are deleted. Only where no stream code can be on the stack.
  void recycleStreams();
  uint64_t ejected_until_ms_ = 0;
  bool healthy_ = true;
  bool retired_ = false;
};

}  // namespace remora::upstream
