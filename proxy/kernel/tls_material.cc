#include "kernel/tls_material.h"

#include <spdlog/spdlog.h>

namespace remora {

TlsContexts buildTlsContexts(const config::Config& config, FieldErrors& errors) {
  TlsContexts out;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const config::Listener& l = config.listeners[i];
    if (!l.tls) continue;
    auto ctx = network::TlsServerContext::create(*l.tls, "listeners[" + std::to_string(i) + "].tls",
                                                 l.http2.enabled);
    if (!ctx) {
      append(errors, ctx.error());
      continue;
    }
    out.listeners.emplace(l.name, std::move(ctx.value()));
  }
  for (size_t i = 0; i < config.clusters.size(); ++i) {
    const config::Cluster& c = config.clusters[i];
    if (!c.tls) continue;
    if (c.tls->insecure_skip_verify)
      spdlog::warn(
          "cluster {}: tls.insecure_skip_verify is on: its endpoints' certificates are "
          "not verified",
          c.name);
    std::vector<std::string> alpn = {c.protocol == config::UpstreamProtocol::kHttp2 ? "h2"
                                                                                    : "http/1.1"};
    auto ctx = network::TlsClientContext::create(*c.tls, "clusters[" + std::to_string(i) + "].tls",
                                                 std::move(alpn));
    if (!ctx) {
      append(errors, ctx.error());
      continue;
    }
    out.clusters.emplace(c.name, std::move(ctx.value()));
  }
  return out;
}

std::vector<std::string> tlsFiles(const config::Config& config) {
  std::vector<std::string> files;
  auto add = [&files](const std::string& f) {
    if (!f.empty()) files.push_back(f);
  };
  for (const config::Listener& l : config.listeners) {
    if (!l.tls) continue;
    for (const network::TlsCertificateFiles& c : l.tls->certificates) {
      add(c.certificate_file);
      add(c.key_file);
    }
    add(l.tls->ca_file);
  }
  for (const config::Cluster& c : config.clusters) {
    if (!c.tls) continue;
    add(c.tls->ca_file);
    add(c.tls->client_certificate.certificate_file);
    add(c.tls->client_certificate.key_file);
  }
  return files;
}

}  // namespace remora
