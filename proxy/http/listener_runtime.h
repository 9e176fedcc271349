#pragma once
// ListenerRuntime: one worker's compiled, immutable view of one listener in one snapshot — the
// route table with its clusters resolved, the limits, timeouts as common timeouts, and the stats
// slots. A stream pins the runtime it started on; new streams take the newest (ListenerSlot).

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "network/tls_context.h"
#include "plugin/filter_chain.h"
#include "stats/stats.h"
#include "upstream/worker_cluster.h"

namespace remora::http {

struct RouteTarget {
  std::string prefix;
  std::shared_ptr<upstream::WorkerCluster> cluster;
};

struct ListenerRuntime {
  config::Listener config;
  std::vector<RouteTarget> routes;
  stats::ListenerStats* stats = nullptr;
  // The filter chain (shared by every worker), or nullptr for the built-in prefix routes.
  std::shared_ptr<const plugin::FilterChain> chain;
  // Every cluster of the snapshot on this worker, for route decisions by name.
  std::map<std::string, std::shared_ptr<upstream::WorkerCluster>> clusters;
  uint64_t version = 0;
  // TLS termination (listeners with `tls:`), or nullptr for plain TCP.
  std::shared_ptr<const network::TlsServerContext> tls;
  // Every listener's and the admin's address, when this listener recovers original
  // destinations: a destination among them would loop back into this proxy.
  std::vector<config::SocketAddress> own_addresses;
  // protocol tcp / auto: where opaque bytes go (tcp.cluster, or on an original_dst listener
  // without one the worker's passthrough cluster; nullptr: refused), and the SNI routes of TLS
  // passthrough with their clusters resolved, in order.
  std::shared_ptr<upstream::WorkerCluster> tcp_cluster;
  std::vector<std::pair<std::string, std::shared_ptr<upstream::WorkerCluster>>> sni_routes;

  // First route whose prefix starts `path`, or nullptr.
  const RouteTarget* match(std::string_view path) const {
    for (const RouteTarget& r : routes)
      if (path.substr(0, r.prefix.size()) == r.prefix) return &r;
    return nullptr;
  }
};

// The per-worker, per-listener holder of the newest runtime; outlives its connections.
struct ListenerSlot {
  std::shared_ptr<const ListenerRuntime> current;
};

}  // namespace remora::http
