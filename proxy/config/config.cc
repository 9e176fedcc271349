#include "config/config.h"

namespace remora::config {

const Cluster* Config::findCluster(const std::string& name) const {
  // A linear scan: called at config time, and configs hold a handful of clusters.
  for (const Cluster& cluster : clusters) {
    if (cluster.name == name) return &cluster;
  }
  return nullptr;
}

}  // namespace remora::config
