#pragma once
// TLS contexts: a listener's (termination) and a cluster's (origination), built on the main
// thread from a `tls:` block and its files, immutable afterwards and shared by every worker
// (OpenSSL's SSL_CTX is safe to make connections from on many threads). A snapshot holds the
// contexts of its config; a connection keeps the context it started with, so new material
// (a push, a rotated file) reaches new handshakes only.

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/c_handles.h"
#include "common/field_error.h"
#include "network/tls_identity.h"
#include "network/tls_options.h"
#include "network/tls_transport.h"

namespace remora::network {

// A certificate chain and key as loaded, for SNI selection and the `/certs` view.
struct LoadedCertificate {
  LoadedCertificate() = default;
  LoadedCertificate(const LoadedCertificate&) = delete;
  LoadedCertificate& operator=(const LoadedCertificate&) = delete;
  ~LoadedCertificate();
  X509* leaf = nullptr;
  STACK_OF(X509) * chain = nullptr;  // intermediates, leaf excluded
  EVP_PKEY* key = nullptr;
  std::vector<std::string> names;  // DNS SANs (the CN when there are none), lower case
  CertificateSummary summary;
  std::string file;
};

// Loads `files` (a PEM chain and its key), with errors at `path`.certificate_file / .key_file:
// unreadable, no certificate or key in it, a key that does not match, an expired certificate.
ConfigResult<std::unique_ptr<LoadedCertificate>> loadCertificate(const TlsCertificateFiles& files,
                                                                 const std::string& path);

class TlsServerContext {
 public:
  // `path` is the block's field path ("listeners[0].tls"); `http2` says whether the listener
  // speaks HTTP/2 (the default ALPN list).
  static ConfigResult<std::shared_ptr<const TlsServerContext>> create(
      const TlsServerOptions& options, const std::string& path, bool http2);
  ~TlsServerContext();

  // A transport for an accepted socket; the handshake has not begun.
  std::unique_ptr<TlsTransport> accept(Fd fd) const;

  const TlsServerOptions& options() const { return options_; }
  const std::vector<std::unique_ptr<LoadedCertificate>>& certificates() const { return certs_; }
  const std::vector<CertificateSummary>& cas() const { return cas_; }
  // A certificate names `sni` (exactly or by wildcard): protocol detection terminates such a
  // ClientHello and passes others through (tcp/protocol_detector.h).
  bool hasCertificateFor(std::string_view sni) const { return select(sni) != nullptr; }

 private:
  TlsServerContext() = default;
  static int onServerName(SSL* ssl, int* alert, void* arg);
  static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                    const unsigned char* in, unsigned int inlen, void* arg);
  const LoadedCertificate* select(std::string_view name) const;

  TlsServerOptions options_;
  SSL_CTX* ctx_ = nullptr;
  std::vector<std::unique_ptr<LoadedCertificate>> certs_;
  std::unordered_map<std::string, size_t> exact_;     // name → certs_ index
  std::unordered_map<std::string, size_t> wildcard_;  // "example.com" for "*.example.com"
  std::vector<CertificateSummary> cas_;
  std::string alpn_;  // wire format: length-prefixed names
  std::weak_ptr<const TlsServerContext> self_;
};

class TlsClientContext {
 public:
  // `alpn` is what to offer (["h2"] for an HTTP/2 cluster), empty for none.
  static ConfigResult<std::shared_ptr<const TlsClientContext>> create(
      const TlsClientOptions& options, const std::string& path, std::vector<std::string> alpn);
  ~TlsClientContext();

  // A transport for a socket that is connecting; resumes `session`'s latest session if any and
  // stores new ones there.
  std::unique_ptr<TlsTransport> connect(Fd fd, std::shared_ptr<TlsSessionSlot> session) const;

  const TlsClientOptions& options() const { return options_; }
  const LoadedCertificate* clientCertificate() const { return cert_.get(); }
  const std::vector<CertificateSummary>& cas() const { return cas_; }

 private:
  TlsClientContext() = default;
  static int onNewSession(SSL* ssl, SSL_SESSION* session);

  TlsClientOptions options_;
  SSL_CTX* ctx_ = nullptr;
  std::unique_ptr<LoadedCertificate> cert_;
  std::vector<CertificateSummary> cas_;
  std::weak_ptr<const TlsClientContext> self_;
};

}  // namespace remora::network
