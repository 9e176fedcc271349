#pragma once
// EndpointDiscovery: endpoint sets of `type: etcd` and `type: dns` clusters, kept on the main
// thread and handed to `publish` whenever one changes (Server posts it to every worker).
//
// etcd: every key under `discovery.prefix` is one endpoint; its value is "host:port" or the
//   registration JSON {"address":"host:port",...}. Values that are neither are skipped (logged).
// dns: each `name:port` is resolved with evdns (A records; /etc/hosts first) again when the
//   smallest TTL of the round's answers runs out, at most `discovery.refresh` later (see
//   nextDnsRefresh); a failed resolution keeps the last good set.
//
// reconcile() is called after every applied config: watchers of unchanged clusters keep going,
// new ones start, removed ones stop. Main thread only.

#include <event2/dns.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
  // `dns`, when given, is the resolver of dns clusters instead of one built from
  // /etc/resolv.conf and /etc/hosts (tests point it at their own name server); not owned.
  EndpointDiscovery(event_base* base, etcd::Client* client, PublishFn publish,
                    evdns_base* dns = nullptr);
  ~EndpointDiscovery();

  void reconcile(const config::Config& config);

  class Watcher;

 private:
  event_base* base_;
  etcd::Client* client_;
  PublishFn publish_;
  evdns_base* dns_;  // created with the first dns cluster unless given
  bool owns_dns_;
  std::map<std::string, std::unique_ptr<Watcher>> watchers_;
};

// A TTL below this is not followed: a name with TTL 0 would otherwise be resolved in a loop.
inline constexpr config::Duration kDnsMinRefresh{1000};

// Delay until a dns cluster's names are resolved again. `min_ttl` is the smallest TTL of the
// round's DNS answers, none when no answer carried one (/etc/hosts entries, literals, failed
// lookups). The TTL is followed, kept within [min(kDnsMinRefresh, refresh), refresh]; without a
// TTL the delay is `refresh`.
config::Duration nextDnsRefresh(std::optional<std::chrono::seconds> min_ttl,
                                config::Duration refresh);

// "host:port" or {"address":"host:port"} → an address; exposed for tests.
Result<config::SocketAddress> parseEndpointValue(const std::string& value);

}  // namespace remora::discovery
