#pragma once
// Why a TLS handshake failed, as a bounded set: the label of the handshake failure metrics and
// the word in the log line. Classified from OpenSSL's error queue and the verify result
// (tls_transport.cc), or set by Remora itself (timeout, overload, identity rules).

#include <array>
#include <cstddef>
#include <cstdint>

namespace remora::network {

enum class TlsFailure : uint8_t {
  kNotTls,               // the first bytes are no TLS record (plain HTTP to a TLS port)
  kProtocolVersion,      // TLS 1.0/1.1, SSLv3, or outside the configured versions
  kNoSharedCipher,       // no common suite, group or signature algorithm
  kUnknownSni,           // strict_sni: no certificate covers the server name
  kNoClientCertificate,  // client_certificate: required, and none was sent
  kCertificateExpired,   // the peer's certificate (or one in its chain) is expired or not yet valid
  kUntrusted,            // the peer's chain does not lead to a trusted CA
  kCertificateInvalid,   // any other verification failure (bad signature, purpose, ...)
  kIdentityNotAllowed,   // the peer's SANs are not in allowed_sans / verify_sans, or not its name
  kPeerAlert,            // the peer refused our handshake with an alert
  kPeerClosed,           // the peer closed or reset the connection mid-handshake
  kTimeout,              // not finished within handshake_timeout (or the connect timeout)
  kOverloaded,           // max_handshakes in progress on this worker: refused at accept
  kOther,
  kCount
};

inline constexpr std::array<const char*, size_t(TlsFailure::kCount)> kTlsFailureNames = {
    "not_tls",
    "protocol_version",
    "no_shared_cipher",
    "unknown_sni",
    "no_client_certificate",
    "certificate_expired",
    "untrusted",
    "certificate_invalid",
    "identity_not_allowed",
    "peer_alert",
    "peer_closed",
    "timeout",
    "overloaded",
    "other"};

inline const char* tlsFailureName(TlsFailure f) {
  return kTlsFailureNames[size_t(f)];
}

// Negotiated versions, as label values.
enum class TlsVersionSeen : uint8_t { k1_2, k1_3, kCount };
inline constexpr std::array<const char*, size_t(TlsVersionSeen::kCount)> kTlsVersionNames = {
    "TLSv1.2", "TLSv1.3"};

}  // namespace remora::network
