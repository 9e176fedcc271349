#pragma once
// Every certificate and CA the TLS contexts in service hold: the admin `/certs` view and
// remora_tls_certificate_expiry_seconds, both read on the main thread from the current snapshot.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernel/snapshot.h"
#include "network/tls_identity.h"

namespace remora {

struct CertificateEntry {
  std::string owner_kind;  // "listener" or "cluster"
  std::string owner;       // its name
  std::string role;        // "certificate" (served), "client_certificate" or "ca"
  std::string file;        // the PEM file it came from
  network::CertificateSummary summary;
};

std::vector<CertificateEntry> certificateInventory(const TlsContexts& tls);

// `GET /certs`: {"certificates": [{listener|cluster, role, file, subject, issuer, sans,
// not_before, not_after, expires_in_seconds, sha256}, ...]}.
nlohmann::json certificatesJson(const TlsContexts& tls);

// remora_tls_certificate_expiry_seconds{listener|cluster, role, sha256, subject}: seconds until
// each certificate's not-after (negative once expired), for alerts before a rotation is missed.
class TlsCertificateMetrics : public prometheus::Collectable {
 public:
  explicit TlsCertificateMetrics(std::function<SnapshotPtr()> current)
      : current_(std::move(current)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<SnapshotPtr()> current_;
};

}  // namespace remora
