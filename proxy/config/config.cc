#include "config/config.h"

namespace remora::config {

std::string SocketAddress::str() const {
  // IPv6 hosts need brackets so the port's colon stays unambiguous.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

const Cluster* Config::findCluster(const std::string& name) const {
  // A linear scan: called at config time, and configs hold a handful of clusters.
  for (const Cluster& cluster : clusters) {
    if (cluster.name == name) return &cluster;
  }
  return nullptr;
}

}  // namespace remora::config
