#pragma once
// TlsTransport: TLS over a connected TCP socket, with OpenSSL 3 reading and writing the socket
// itself (a socket BIO: no copy of the ciphertext through a memory BIO, and one recv for
// several records, as read-ahead is on). The handshake is a step of its own (handshake()), run by
// whoever owns the connection before a codec sits on it (http/tls_handshake.h downstream, the
// pool's connect step upstream); read and write then carry application data only.
//
// A read may leave decrypted or buffered bytes inside OpenSSL that the socket will not announce
// again: the owner reads again while readPending() (see Transport::readPending).

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "common/c_handles.h"
#include "network/tls_failure.h"
#include "network/transport.h"

namespace remora::network {

// One upstream endpoint's latest TLS session, so the pool's next connection resumes it. Worker
// thread only.
class TlsSessionSlot {
 public:
  TlsSessionSlot() = default;
  TlsSessionSlot(const TlsSessionSlot&) = delete;
  TlsSessionSlot& operator=(const TlsSessionSlot&) = delete;
  ~TlsSessionSlot() { SSL_SESSION_free(session_); }
  void store(SSL_SESSION* s) {  // takes the reference
    SSL_SESSION_free(session_);
    session_ = s;
  }
  SSL_SESSION* get() const { return session_; }

 private:
  SSL_SESSION* session_ = nullptr;
};

class TlsTransport final : public Transport {
 public:
  // Takes `ssl`, already set up by a context (server or client state, options, SNI), and
  // `keep`, what must outlive it (the context whose callbacks the handshake calls).
  TlsTransport(Fd fd, SSL* ssl, std::shared_ptr<const void> keep);
  ~TlsTransport() override;

  int fd() const override { return fd_.get(); }
  ssize_t read(char* buf, size_t len) override;
  int write(evbuffer* out) override;
  void shutdownWrite() override;
  void close() override;
  bool wantsWrite() const override { return want_write_; }
  bool wantsRead() const override { return want_read_; }
  bool handshakePending() const override { return !established_; }
  HandshakeStatus handshake() override;
  bool readPending() const override;
  const PeerIdentity* peerIdentity() const override;
  std::string_view alpn() const override;

  // After a failed handshake: why (for the metric and the log) and OpenSSL's own words.
  TlsFailure failure() const { return failure_; }
  const std::string& failureDetail() const { return failure_detail_; }
  void setFailure(TlsFailure f) {
    failure_ = f;
    failure_set_ = true;
  }
  TlsVersionSeen version() const;
  bool resumed() const { return SSL_session_reused(ssl_) == 1; }
  // Upstream: where a new session ticket from the server goes.
  void setSessionSlot(std::shared_ptr<TlsSessionSlot> slot) { session_slot_ = std::move(slot); }
  const std::shared_ptr<TlsSessionSlot>& sessionSlot() const { return session_slot_; }

  static TlsTransport* of(SSL* ssl) { return static_cast<TlsTransport*>(SSL_get_app_data(ssl)); }

 private:
  // Classifies a failed handshake from the error queue and the verify result.
  void classifyFailure(int ssl_error);

  Fd fd_;
  SSL* ssl_;
  std::shared_ptr<const void> keep_;
  std::shared_ptr<TlsSessionSlot> session_slot_;
  bool established_ = false;
  bool want_write_ = false;
  bool want_read_ = false;
  bool shut_ = false;
  // A write that returned SSL_ERROR_WANT_WRITE must be repeated with the same length.
  size_t retry_len_ = 0;
  TlsFailure failure_ = TlsFailure::kOther;
  bool failure_set_ = false;
  std::string failure_detail_;
  mutable std::unique_ptr<PeerIdentity> peer_;
  mutable bool peer_checked_ = false;
};

}  // namespace remora::network
