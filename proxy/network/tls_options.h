#pragma once
// The plain-data form of a `tls:` block: a listener's (termination) and a cluster's
// (origination). The config loader fills these with every field checked for syntax and range;
// the contexts (tls_context.h) load the files and check what only OpenSSL can tell (a cipher
// name, a key that does not match its certificate), each error with its field path.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace remora::network {

enum class TlsVersion { k1_2, k1_3 };
enum class ClientCertificate { kNone, kOptional, kRequired };

// Settings both sides share. Empty lists mean the safe defaults: TLS 1.2 and 1.3 with
// forward-secret AEAD suites only, X25519 and P-256.
struct TlsProtocol {
  TlsVersion min_version = TlsVersion::k1_2;
  TlsVersion max_version = TlsVersion::k1_3;
  std::vector<std::string> cipher_suites;  // OpenSSL names; TLS_* ones are TLS 1.3 suites
  std::vector<std::string> groups;         // X25519, P-256, P-384 ...
  bool operator==(const TlsProtocol&) const = default;
};

// A PEM certificate chain (leaf first) and its private key (ECDSA or RSA).
struct TlsCertificateFiles {
  std::string certificate_file;
  std::string key_file;
  bool operator==(const TlsCertificateFiles&) const = default;
};

struct TlsServerOptions {
  // Chosen by SNI against each certificate's DNS SANs (exact, then `*.` wildcard); the first is
  // the default for a ClientHello without SNI or with a name none covers, unless strict_sni.
  std::vector<TlsCertificateFiles> certificates;
  bool strict_sni = false;
  TlsProtocol protocol;
  // ALPN protocols offered, in preference order; empty = h2 and http/1.1 when the listener
  // speaks HTTP/2, else http/1.1.
  std::vector<std::string> alpn;
  ClientCertificate client_certificate = ClientCertificate::kNone;
  std::string ca_file;  // trusted CAs for client certificates
  // When not empty, a client certificate must carry one of these as a URI or DNS SAN; an entry
  // ending in `*` matches every SAN that starts with what precedes it.
  std::vector<std::string> allowed_sans;
  std::chrono::milliseconds handshake_timeout{10000};
  uint32_t max_handshakes = 1024;  // in progress per worker; more are refused at accept
  bool session_tickets = true;
  bool operator==(const TlsServerOptions&) const = default;
};

struct TlsClientOptions {
  std::string sni;  // server name sent; empty = none (and no host name check)
  // Trusted CAs for the upstream's certificate; empty = the system bundle.
  std::string ca_file;
  bool insecure_skip_verify = false;
  // When not empty, the upstream's certificate must carry one of these as a URI or DNS SAN (same
  // matching as allowed_sans); otherwise, with `sni` set, the certificate must be valid for it.
  std::vector<std::string> verify_sans;
  TlsCertificateFiles client_certificate;  // empty = none (no mTLS)
  TlsProtocol protocol;
  bool operator==(const TlsClientOptions&) const = default;
};

}  // namespace remora::network
