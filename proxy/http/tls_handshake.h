#pragma once
// TlsHandshake: a downstream connection on a TLS listener before it has a codec. It drives the
// server handshake on the connection's own events, bounded by the listener's handshake_timeout,
// then hands the transport to the codec ALPN chose (ConnectionOwner::startCodec: "h2" →
// HTTP/2, anything else → HTTP/1.1) and goes away. A refused handshake closes the connection
// and is counted by reason (stats::TlsStats); plain HTTP sent to the port is one of them.

#include <memory>
#include <string>

#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "http/downstream_connection.h"
#include "network/tls_transport.h"

namespace remora::http {

class TlsHandshake final : public DownstreamConnection {
 public:
  // `in_progress` is the worker's count of handshakes under way (its max_handshakes cap); this
  // handshake holds one until it ends.
  TlsHandshake(Dispatcher& dispatcher, ConnectionOwner& owner, std::shared_ptr<ListenerSlot> slot,
               std::unique_ptr<network::TlsTransport> transport, std::string peer,
               size_t& in_progress);
  ~TlsHandshake() override;

  // A handshake carries no request: drain closes it at once.
  void closeWhenIdle() override { end(); }

 private:
  static void onEvent(evutil_socket_t, short what, void* arg);
  static void onTimeout(void* arg);
  void step();
  void refuse(network::TlsFailure why);
  // Stops the events and the timer, gives back the in-progress slot, tells the owner.
  void end();

  ConnectionOwner& owner_;
  std::shared_ptr<ListenerSlot> slot_;
  std::unique_ptr<network::TlsTransport> transport_;
  std::string peer_;
  size_t& in_progress_;
  stats::TlsStats& stats_;
  EventPtr read_ev_;
  EventPtr write_ev_;
  LazyTimer timer_;
  uint64_t started_us_;
  bool ended_ = false;
};

}  // namespace remora::http
