#pragma once
// Transport: the byte stream under every codec. A connection (downstream HTTP/1.1 or HTTP/2,
// upstream HTTP/1.1 or HTTP/2, and so callouts) owns one and moves bytes only through it; none
// calls recv/send itself. PlainTransport (plain_transport.h) is the socket as it is; TLS and raw
// TCP are further kinds on the same seam (docs/architecture.md, "Floors").
//
// Threading: a transport belongs to the connection that owns it and lives on that connection's
// worker thread. The connection registers its libevent events on fd() and calls read/write when
// they fire; the transport never registers events itself.

#include <event2/buffer.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>

namespace remora::network {

// What the peer proved about itself during a handshake. Empty on a plain transport; TLS fills it
// with the verified identity (SPIFFE URI SAN, else the first DNS SAN, else the subject CN) and
// the leaf certificate's sha256, for stream metadata and the access log.
struct PeerIdentity {
  std::string identity;
  std::string cert_sha256;  // lower-case hex
  bool empty() const { return identity.empty() && cert_sha256.empty(); }
};

// Where a handshake stands after one step: finished, waiting for the socket to become readable
// or writable, or failed (the transport says why).
enum class HandshakeStatus { kDone, kWantRead, kWantWrite, kFailed };

class Transport {
 public:
  virtual ~Transport() = default;

  // The socket the owner's read and write events watch (-1 once closed).
  virtual int fd() const = 0;

  // Reads at most `len` bytes into `buf`, the caller's buffer (a worker's scratch buffer): the
  // byte count, 0 at the peer's end of stream, or -1 with errno set (EAGAIN or EINTR: nothing
  // now, wait for the next event).
  virtual ssize_t read(char* buf, size_t len) = 0;

  // Writes what it can of `out` in one go and drains what it took: the byte count, or -1 with
  // errno set (EAGAIN or EINTR when the socket is full).
  virtual int write(evbuffer* out) = 0;

  // Ends the write direction (a FIN on TCP; close_notify first on TLS). Reading goes on.
  virtual void shutdownWrite() = 0;

  // Closes the socket now; fd() is -1 afterwards. Idempotent.
  virtual void close() = 0;

  // The transport holds bytes of its own that wait for the socket to become writable (a TLS
  // record or handshake message it could not send yet): the owner keeps its write event armed
  // while this is true, even when its own buffer is empty. False for a plain transport.
  virtual bool wantsWrite() const = 0;

  // The transport cannot finish a write until the socket is readable (a handshake waiting for
  // the peer): the owner keeps its read event armed while this is true, even when it paused
  // reading for backpressure. False for a plain transport.
  virtual bool wantsRead() const = 0;

  // A handshake is under way: bytes read so far are the transport's, not the codec's.
  virtual bool handshakePending() const { return false; }

  // Runs the handshake as far as the socket allows. The owner calls it again when the socket
  // becomes readable (kWantRead) or writable (kWantWrite); read and write are for after kDone.
  virtual HandshakeStatus handshake() { return HandshakeStatus::kDone; }

  // Bytes already taken from the socket wait inside the transport (TLS records read ahead):
  // the socket will not become readable for them, so the owner reads again, now, unless it has
  // paused reading (and then as soon as it resumes).
  virtual bool readPending() const { return false; }

  // The application protocol the handshake agreed (ALPN: "h2", "http/1.1"), or empty.
  virtual std::string_view alpn() const { return {}; }

  // What the peer proved about itself, or nullptr when it proved nothing (plain, or TLS without a
  // client certificate).
  virtual const PeerIdentity* peerIdentity() const { return nullptr; }
};

// Writes `out`, which holds `len` bytes (the caller has just read evbuffer_get_length), through
// `transport` until it is empty or the transport would block; `len` becomes what is left.
// Returns the bytes written (possibly 0), or -1 when the transport failed: the caller closes the
// connection. Every connection kind sends this way. Inline, and the length handed in and out,
// because it runs for every write on the request path and libevent's evbuffer_get_length is a
// call with a lock check.
inline ssize_t writeAvailable(Transport& transport, evbuffer* out, size_t& len) {
  ssize_t total = 0;
  while (len > 0) {
    int n = transport.write(out);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return -1;
    }
    total += n;
    len -= size_t(n);
  }
  return total;
}

}  // namespace remora::network
