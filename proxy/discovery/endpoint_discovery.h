#pragma once
// EndpointDiscovery: endpoint sets of `type: etcd` and `type: dns` clusters, kept on the main
// thread and handed to `publish` whenever one changes (Server posts it to every worker).
//
// etcd: every key under `discovery.prefix` is one endpoint; its value is "host:port" or the
//   registration JSON {"address":"host:port",...}. Values that are neither are skipped (logged).
// dns: each `name:port` is resolved with evdns (A records; /etc/hosts first) every
//   `discovery.refresh`; a failed resolution keeps the last good set.
//
// reconcile() is called after every applied config: watchers of unchanged clusters keep going,
// new ones start, removed ones stop. Main thread only.

#include <event2/dns.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "etcd/etcd_client.h"

namespace remora::discovery {

using EndpointSet = std::shared_ptr<const std::vector<config::SocketAddress>>;
using PublishFn = std::function<void(const std::string& cluster, EndpointSet endpoints)>;

class EndpointDiscovery {
 public:
  // `client` may be null when sources.etcd is not configured (then only dns clusters work).
  EndpointDiscovery(event_base* base, etcd::Client* client, PublishFn publish);
  ~EndpointDiscovery();

  void reconcile(const config::Config& config);

  class Watcher;

 private:
  event_base* base_;
  etcd::Client* client_;
  PublishFn publish_;
  evdns_base* dns_ = nullptr;  // created with the first dns cluster
  std::map<std::string, std::unique_ptr<Watcher>> watchers_;
};

// "host:port" or {"address":"host:port"} → an address; exposed for tests.
Result<config::SocketAddress> parseEndpointValue(const std::string& value);

}  // namespace remora::discovery
