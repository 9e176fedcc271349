#pragma once
// ConnectStep: what an upstream connection (HTTP/1.1 or HTTP/2, and so callouts) does between
// "socket connecting" and "open": the TCP connect's result, then the TLS handshake when the
// cluster has `tls:`, keeping the connection's events armed for whichever the handshake waits
// on and counting its outcome in the cluster's TLS stats. The connect timeout covers both.

#include <event2/event.h>

#include <cstdint>

#include "network/transport.h"
#include "stats/stats.h"

namespace remora::upstream {

class ConnectStep {
 public:
  enum class Result {
    kOpen,     // connected (and handshake done): the connection may send
    kWaiting,  // the handshake waits for the socket; events are armed for it
    kConnectFailed,
    kTlsFailed,  // handshake refused; counted by reason
  };

  // Called on each event while connecting. `write_pending` mirrors whether `write_ev` is added.
  Result advance(network::Transport& transport, event* read_ev, event* write_ev,
                 bool& write_pending, stats::TlsStats& tls);

  // The connect timeout fired: a handshake under way counts as failed (timeout).
  void timedOut(stats::TlsStats& tls);
  // The connection closed while a handshake was under way (no timeout, no failure).
  void abandoned(stats::TlsStats& tls);

 private:
  bool connected_ = false;
  bool handshaking_ = false;
  uint64_t started_us_ = 0;
};

}  // namespace remora::upstream
