#pragma once
// What a certificate says about its holder: the workload identity Remora reports for a peer
// (the SPIFFE URI SAN, else the first DNS SAN, else the subject CN), its SANs for allow-lists,
// and a summary for the admin `/certs` view and the expiry metric.

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "network/transport.h"

namespace remora::network {

struct CertificateSans {
  std::vector<std::string> uris;
  std::vector<std::string> dns;
};

CertificateSans sansOf(X509* cert);

// identity and cert_sha256 of `cert` (a verified peer's leaf).
PeerIdentity identityOf(X509* cert);

// Lower-case hex sha256 of the DER form.
std::string sha256Hex(X509* cert);

// True when one of `cert`'s URI or DNS SANs matches an entry of `allowed`: equal, or starting
// with an entry's text before its trailing `*`.
bool sanAllowed(X509* cert, const std::vector<std::string>& allowed);
bool sanPatternMatches(std::string_view pattern, std::string_view san);

struct CertificateSummary {
  std::string subject;
  std::string issuer;
  std::vector<std::string> sans;  // "URI:spiffe://...", "DNS:example.com"
  int64_t not_before = 0;         // seconds since the epoch
  int64_t not_after = 0;
  std::string sha256;
};

CertificateSummary summarize(X509* cert);

}  // namespace remora::network
