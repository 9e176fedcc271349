#pragma once
// DownstreamConnection: what a worker holds for each accepted client connection, whatever its
// codec (HTTP/1.1 ServerConnection or Http2ServerConnection), and ConnectionOwner, what such a
// connection needs from its worker.

#include <memory>
#include <string>
#include <string_view>

#include <event2/event.h>
#include <sys/socket.h>

#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "http/listener_runtime.h"
#include "network/transport.h"

namespace remora::http {

class DownstreamConnection : public Deferrable {
 public:
  // Drain: closes now if idle, else once the requests in flight are answered (HTTP/2: GOAWAY).
  virtual void closeWhenIdle() = 0;
};

// Writes `out` through `transport` until it is empty or the transport would block, counting the
// bytes sent, and keeps `write_ev` added exactly while bytes remain, in `out` or inside the
// transport (`write_pending` mirrors that). Both codecs send this way. False when the transport
// failed: the caller closes the connection.
bool writeOut(evbuffer* out, network::Transport& transport, event* write_ev, bool& write_pending,
              stats::ListenerStats& stats);

// The client's address as text for logs and the access log ("unknown" for nullptr).
std::string peerText(const sockaddr* sa);

class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  virtual bool draining() const = 0;
  // The connection has closed; the owner forgets it and defers its deletion.
  virtual void onConnectionClosed(DownstreamConnection& conn) = 0;
  // An HTTP/1 connection saw the HTTP/2 client preface as its first bytes: the owner starts an
  // HTTP/2 connection on `transport` with the bytes read so far. The caller hands its transport
  // over and closes itself without closing it.
  virtual void startHttp2(std::shared_ptr<ListenerSlot> slot,
                          std::unique_ptr<network::Transport> transport, std::string peer,
                          std::string_view initial) = 0;
  // A TLS handshake finished: the owner starts the codec ALPN chose on `transport` (HTTP/2 for
  // "h2", else HTTP/1.1, which still accepts the h2c preface).
  virtual void startCodec(std::shared_ptr<ListenerSlot> slot,
                          std::unique_ptr<network::Transport> transport, std::string peer,
                          bool http2) = 0;
};

}  // namespace remora::http
