#include "kernel/tls_inventory.h"

#include <chrono>
#include <ctime>

#include "stats/metric_families.h"

namespace remora {
namespace {

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string isoTime(int64_t epoch) {
  std::time_t t = std::time_t(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::vector<CertificateEntry> certificateInventory(const TlsContexts& tls) {
  std::vector<CertificateEntry> out;
  for (const auto& [name, ctx] : tls.listeners) {
    for (const auto& c : ctx->certificates())
      out.push_back({"listener", name, "certificate", c->file, c->summary});
    for (const network::CertificateSummary& ca : ctx->cas())
      out.push_back({"listener", name, "ca", ctx->options().ca_file, ca});
  }
  for (const auto& [name, ctx] : tls.clusters) {
    if (const network::LoadedCertificate* c = ctx->clientCertificate())
      out.push_back({"cluster", name, "client_certificate", c->file, c->summary});
    for (const network::CertificateSummary& ca : ctx->cas())
      out.push_back({"cluster", name, "ca", ctx->options().ca_file, ca});
  }
  return out;
}

nlohmann::json certificatesJson(const TlsContexts& tls) {
  const int64_t now = nowSeconds();
  nlohmann::json list = nlohmann::json::array();
  for (const CertificateEntry& e : certificateInventory(tls)) {
    const network::CertificateSummary& s = e.summary;
    list.push_back({{e.owner_kind, e.owner},
                    {"role", e.role},
                    {"file", e.file},
                    {"subject", s.subject},
                    {"issuer", s.issuer},
                    {"sans", s.sans},
                    {"not_before", isoTime(s.not_before)},
                    {"not_after", isoTime(s.not_after)},
                    {"expires_in_seconds", s.not_after - now},
                    {"sha256", s.sha256}});
  }
  return {{"certificates", std::move(list)}};
}

std::vector<prometheus::MetricFamily> TlsCertificateMetrics::Collect() const {
  auto family = stats::makeFamily("remora_tls_certificate_expiry_seconds",
                                  "Seconds until a loaded certificate or CA expires.",
                                  prometheus::MetricType::Gauge);
  if (SnapshotPtr snap = current_()) {
    const int64_t now = nowSeconds();
    for (const CertificateEntry& e : certificateInventory(snap->tls)) {
      stats::addSample(family,
                       {{e.owner_kind, e.owner},
                        {"role", e.role},
                        {"subject", e.summary.subject},
                        {"sha256", e.summary.sha256}},
                       double(e.summary.not_after - now));
    }
  }
  std::vector<prometheus::MetricFamily> out;
  out.push_back(std::move(family));
  return out;
}

}  // namespace remora
