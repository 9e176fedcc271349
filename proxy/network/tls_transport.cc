#include "network/tls_transport.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>

#include "network/tls_identity.h"

namespace remora::network {
namespace {

// The largest TLS plaintext record: a write hands OpenSSL at most this, so each call is one
// record and one send.
constexpr size_t kMaxRecord = 16384;

TlsFailure failureOfVerify(long result) {
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return TlsFailure::kCertificateExpired;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return TlsFailure::kUntrusted;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_APPLICATION_VERIFICATION:
      return TlsFailure::kIdentityNotAllowed;
    default:
      return TlsFailure::kCertificateInvalid;
  }
}

TlsFailure failureOfReason(int reason) {
  switch (reason) {
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
      return TlsFailure::kNotTls;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return TlsFailure::kProtocolVersion;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
      return TlsFailure::kNoSharedCipher;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return TlsFailure::kNoClientCertificate;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return TlsFailure::kPeerClosed;
    default:
      // Reasons from SSL_AD_REASON_OFFSET on are alerts the peer sent.
      return reason >= SSL_AD_REASON_OFFSET ? TlsFailure::kPeerAlert : TlsFailure::kOther;
  }
}

}  // namespace

TlsTransport::TlsTransport(Fd fd, SSL* ssl, std::shared_ptr<const void> keep)
    : fd_(std::move(fd)), ssl_(ssl), keep_(std::move(keep)) {
  SSL_set_fd(ssl_, fd_.get());
  SSL_set_app_data(ssl_, this);
}

TlsTransport::~TlsTransport() {
  close();
  SSL_free(ssl_);
}

HandshakeStatus TlsTransport::handshake() {
  if (established_) return HandshakeStatus::kDone;
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    want_read_ = want_write_ = false;
    return HandshakeStatus::kDone;
  }
  int err = SSL_get_error(ssl_, rc);
  want_read_ = err == SSL_ERROR_WANT_READ;
  want_write_ = err == SSL_ERROR_WANT_WRITE;
  if (want_read_) return HandshakeStatus::kWantRead;
  if (want_write_) return HandshakeStatus::kWantWrite;
  classifyFailure(err);
  return HandshakeStatus::kFailed;
}

void TlsTransport::classifyFailure(int ssl_error) {
  unsigned long first = ERR_peek_error();
  if (first != 0) {
    char buf[256];
    ERR_error_string_n(first, buf, sizeof(buf));
    failure_detail_ = buf;
  } else {
    failure_detail_ = "connection closed during the handshake";
  }
  if (!failure_set_) {
    if (first == 0 || ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
      failure_ = TlsFailure::kPeerClosed;
    } else if (ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      failure_ = failureOfVerify(SSL_get_verify_result(ssl_));
    } else {
      failure_ = failureOfReason(ERR_GET_REASON(first));
    }
    // A client certificate refused by the verify callback shows as a generic verify failure.
    if (failure_ == TlsFailure::kOther && SSL_get_verify_result(ssl_) != X509_V_OK)
      failure_ = failureOfVerify(SSL_get_verify_result(ssl_));
  }
  ERR_clear_error();
}

ssize_t TlsTransport::read(char* buf, size_t len) {
  size_t total = 0;
  ERR_clear_error();
  while (total < len) {
    size_t n = 0;
    int rc = SSL_read_ex(ssl_, buf + total, len - total, &n);
    if (rc == 1) {
      total += n;
      if (SSL_has_pending(ssl_) != 1) break;
      continue;
    }
    int err = SSL_get_error(ssl_, rc);
    ERR_clear_error();
    if (total > 0) break;  // what failed shows again on the next read
    switch (err) {
      case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_WANT_WRITE:
        want_write_ = true;
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_ZERO_RETURN:
        return 0;  // close_notify, or an end of stream (SSL_OP_IGNORE_UNEXPECTED_EOF)
      default:
        errno = ECONNRESET;
        return -1;
    }
  }
  return ssize_t(total);
}

int TlsTransport::write(evbuffer* out) {
  const size_t have = evbuffer_get_length(out);
  if (have == 0) return 0;
  // Repeating a write that wanted the socket: the same length, so the same bytes (nothing was
  // drained since).
  const size_t len = retry_len_ != 0 ? retry_len_ : std::min(have, kMaxRecord);
  evbuffer_iovec first;
  evbuffer_peek(out, -1, nullptr, &first, 1);
  const void* data = first.iov_base;
  char stage[kMaxRecord];
  if (first.iov_len < len) {
    // Head and body in separate chains: one record for both, not one per chain.
    evbuffer_copyout(out, stage, len);
    data = stage;
  }
  size_t n = 0;
  ERR_clear_error();
  int rc = SSL_write_ex(ssl_, data, len, &n);
  if (rc == 1) {
    retry_len_ = 0;
    want_write_ = false;
    evbuffer_drain(out, n);
    return int(n);
  }
  int err = SSL_get_error(ssl_, rc);
  ERR_clear_error();
  if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
    retry_len_ = len;
    want_write_ = err == SSL_ERROR_WANT_WRITE;
    errno = EAGAIN;
    return -1;
  }
  errno = EPIPE;
  return -1;
}

void TlsTransport::shutdownWrite() {
  if (!fd_.valid()) return;
  if (established_ && !shut_) {
    shut_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify; the peer's is not waited for
    ERR_clear_error();
  }
  ::shutdown(fd_.get(), SHUT_WR);
}

void TlsTransport::close() {
  if (!fd_.valid()) return;
  if (established_ && !shut_) {
    shut_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // best effort: a full socket buffer drops it
    ERR_clear_error();
  }
  fd_.reset();
}

bool TlsTransport::readPending() const {
  return established_ && SSL_has_pending(ssl_) == 1;
}

const PeerIdentity* TlsTransport::peerIdentity() const {
  if (!peer_checked_ && established_) {
    peer_checked_ = true;
    X509* cert = SSL_get0_peer_certificate(ssl_);
    if (cert != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK &&
        SSL_get_verify_mode(ssl_) != SSL_VERIFY_NONE)
      peer_ = std::make_unique<PeerIdentity>(identityOf(cert));
  }
  return peer_.get();
}

std::string_view TlsTransport::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return p ? std::string_view(reinterpret_cast<const char*>(p), len) : std::string_view();
}

TlsVersionSeen TlsTransport::version() const {
  return SSL_version(ssl_) == TLS1_3_VERSION ? TlsVersionSeen::k1_3 : TlsVersionSeen::k1_2;
}

}  // namespace remora::network
