#pragma once
// TcpProxy: one opaque TCP connection carried between a client and an upstream endpoint — what a
// `protocol: tcp` listener does with every connection, and an `auto` listener with bytes that
// are neither HTTP nor TLS it terminates.
//
// - Connect: the cluster's load balancer picks an endpoint (health and ejection honoured, as for
//   HTTP), or the connection's original destination; a refused or timed-out connect (the
//   cluster's connect_timeout, the TLS handshake included when the cluster has `tls:`) tries the
//   next endpoint, up to max_connect_attempts, while no byte has been sent. Until then the
//   client's bytes wait in its socket.
// - Bytes both ways through the two transports, read into the worker's scratch buffer. Each
//   direction's queue is bounded by the listener's buffer_high_watermark: past it, reading from
//   the sender stops until the receiver drains it to half, so a slow reader cannot grow memory.
// - Half-close: a FIN from one side is passed on once that direction's queue is written, and the
//   other direction goes on; the connection ends when both directions have finished, when either
//   socket fails, or after tcp.idle_timeout with no byte either way (one lazy timer).
// - Drain: a TCP connection has no request boundary, so drain lets it run; the drain deadline
//   closes what is left.

#include <memory>
#include <optional>
#include <string>

#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "http/downstream_connection.h"
#include "http/original_dst.h"
#include "upstream/connect_step.h"
#include "upstream/worker_cluster.h"

namespace remora::tcp {

// Where a connection's bytes go: a cluster, and for an original_dst cluster the destination.
struct TcpTarget {
  std::shared_ptr<upstream::WorkerCluster> cluster;
  std::optional<http::OriginalDst> dst;
};

class TcpProxy final : public http::DownstreamConnection {
 public:
  TcpProxy(Dispatcher& dispatcher, http::ConnectionOwner& owner,
           std::shared_ptr<http::ListenerSlot> slot, std::unique_ptr<network::Transport> client,
           std::string peer, TcpTarget target);
  ~TcpProxy() override;

  void closeWhenIdle() override {}  // see the header comment: drain lets it run

  // Ends the connection now, counting `why` (the drain deadline, a worker stopping).
  void close(stats::TcpClose why);

 public:
  // One side of the connection: its transport, events, and the bytes queued to be written to it.
  struct Side {
    std::unique_ptr<network::Transport> transport;
    EventPtr read_ev;
    EventPtr write_ev;
    EvbufferPtr out{evbuffer_new()};
    bool reading = false;      // read_ev added
    bool write_armed = false;  // write_ev added
    bool eof_seen = false;     // the peer sent FIN: no more reads
    bool shut = false;         // our FIN to this side is sent
  };

  static void onClientEvent(evutil_socket_t, short what, void* arg);
  static void onUpstreamEvent(evutil_socket_t, short what, void* arg);
  static void onTimer(void* arg);

  void connectNext();
  void onConnecting();
  void connected();
  // Moves what `from` has to read into `to`'s queue and on; counts it.
  void pump(Side& from, Side& to, bool from_client);
  // Writes `to`'s queue; resumes `from` once below half the watermark; passes on a FIN.
  void flush(Side& to, Side& from);
  void setReading(Side& side, bool on);
  void setWriting(Side& side, bool on);
  void checkDone();
  void upstreamClosed();

  Dispatcher& dispatcher_;
  http::ConnectionOwner& owner_;
  std::shared_ptr<http::ListenerSlot> slot_;
  std::shared_ptr<const http::ListenerRuntime> runtime_;
  std::string peer_;
  TcpTarget target_;
  stats::TcpStats& stats_;
  Side client_;
  Side upstream_;
  upstream::ConnectStep connect_;
  LazyTimer timer_;  // connect timeout while connecting, then the idle timeout
  uint64_t tried_ = 0;
  uint32_t attempts_ = 0;
  bool open_ = false;  // connected to an upstream endpoint
  bool closed_ = false;
  size_t high_watermark_;
};

}  // namespace remora::tcp
