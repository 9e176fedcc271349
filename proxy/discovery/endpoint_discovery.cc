#include "discovery/endpoint_discovery.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/c_handles.h"
#include "config/yaml_fields.h"
#include "etcd/mirror.h"

namespace remora::discovery {

config::Duration nextDnsRefresh(std::optional<std::chrono::seconds> min_ttl,
                                config::Duration refresh) {
  if (!min_ttl) return refresh;
  const config::Duration floor = std::min<config::Duration>(kDnsMinRefresh, refresh);
  return std::clamp<config::Duration>(*min_ttl, floor, refresh);
}

Result<config::SocketAddress> parseEndpointValue(const std::string& value) {
  std::string text = value;
  if (!text.empty() && text.front() == '{') {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("address") || !j["address"].is_string())
      return Error{"expected {\"address\":\"host:port\"}"};
    text = j["address"].get<std::string>();
  }
  return config::yaml::parseAddress(text);
}

class EndpointDiscovery::Watcher {
 public:
  virtual ~Watcher() = default;
  config::Discovery discovery;
};

namespace {

void sortUnique(std::vector<config::SocketAddress>& v) {
  auto less = [](const config::SocketAddress& a, const config::SocketAddress& b) {
    return std::tie(a.host, a.port) < std::tie(b.host, b.port);
  };
  std::sort(v.begin(), v.end(), less);
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

class EtcdWatcher : public EndpointDiscovery::Watcher {
 public:
  EtcdWatcher(etcd::Client& client, const std::string& cluster, const std::string& prefix,
              PublishFn& publish)
      : mirror_(client, prefix, etcd::prefixEnd(prefix),
                [this, cluster, &publish](const etcd::Mirror::State& state, int64_t) {
                  std::vector<config::SocketAddress> eps;
                  for (const auto& [key, entry] : state) {
                    auto addr = parseEndpointValue(entry.value);
                    if (addr) {
                      eps.push_back(std::move(addr.value()));
                    } else {
                      spdlog::warn("cluster {}: etcd key {}: {}", cluster, key, addr.error());
                    }
                  }
                  sortUnique(eps);
                  if (published_ && eps == last_) return;
                  published_ = true;
                  last_ = eps;
                  spdlog::info("cluster {}: {} endpoint(s) from etcd", cluster, eps.size());
                  publish(cluster, std::make_shared<const std::vector<config::SocketAddress>>(
                                       std::move(eps)));
                }) {
    mirror_.start();
  }

 private:
  etcd::Mirror mirror_;
  std::vector<config::SocketAddress> last_;
  bool published_ = false;
};

class DnsWatcher : public EndpointDiscovery::Watcher {
 public:
  DnsWatcher(event_base* base, evdns_base* dns, std::string cluster, PublishFn& publish,
             const config::Discovery& d)
      : dns_(dns),
        cluster_(std::move(cluster)),
        publish_(publish),
        hosts_(d.hosts),
        from_dns_(d.hosts.size(), false),
        refresh_(d.refresh) {
    timer_.reset(evtimer_new(base, &DnsWatcher::onTimer, this));
    resolve();
  }
  ~DnsWatcher() override {
    // Outstanding lookups call back with an error later; they must not find us.
    // (evdns_base_free fails them at the latest.)
    for (Lookup* l : lookups_) l->owner = nullptr;
  }

 private:
  struct Lookup {
    DnsWatcher* owner;
    uint16_t port;
    bool superseded = false;  // a cancelled getaddrinfo replaced by an A query: ignore its answer
  };

  static void onTimer(evutil_socket_t, short, void* arg) {
    static_cast<DnsWatcher*>(arg)->resolve();
  }

  void resolve() {
    if (pending_ > 0) return;
    round_.clear();
    failed_ = false;
    min_ttl_.reset();
    pending_ = hosts_.size() + 1;  // +1 so a lookup answered at once cannot finish the round
    for (size_t i = 0; i < hosts_.size(); ++i) {
      if (from_dns_[i]) {
        queryA(hosts_[i]);
        continue;
      }
      // getaddrinfo answers /etc/hosts entries and literals at once (and without a TTL), which
      // the A query below would not see. A name it has to send to a name server is a DNS name:
      // ask for its A records instead, whose answer carries the TTL. /etc/hosts is read once, so
      // this is learnt once per name.
      evutil_addrinfo hints{};
      hints.ai_family = AF_INET;
      hints.ai_socktype = SOCK_STREAM;
      auto* lookup = new Lookup{this, hosts_[i].port};
      lookups_.push_back(lookup);
      evdns_getaddrinfo_request* req = evdns_getaddrinfo(dns_, hosts_[i].host.c_str(), nullptr,
                                                         &hints, &DnsWatcher::onAddrinfo, lookup);
      if (req) {
        lookup->superseded = true;
        evdns_getaddrinfo_cancel(req);
        from_dns_[i] = true;
        queryA(hosts_[i]);
      }
    }
    finishOne();
  }

  void queryA(const config::HostPort& h) {
    auto* lookup = new Lookup{this, h.port};
    lookups_.push_back(lookup);
    evdns_base_resolve_ipv4(dns_, h.host.c_str(), 0, &DnsWatcher::onA, lookup);
  }

  // Takes the lookup back; null when its answer is to be ignored.
  static DnsWatcher* release(Lookup* lookup) {
    DnsWatcher* self = lookup->owner;
    if (self) self->lookups_.erase(std::find(self->lookups_.begin(), self->lookups_.end(), lookup));
    if (lookup->superseded) self = nullptr;
    return self;
  }

  static void onAddrinfo(int result, evutil_addrinfo* res, void* arg) {
    auto* lookup = static_cast<Lookup*>(arg);
    if (DnsWatcher* self = release(lookup)) {
      if (result != 0) {
        self->failed_ = true;
        spdlog::warn("cluster {}: dns: {}", self->cluster_, evutil_gai_strerror(result));
      }
      for (evutil_addrinfo* a = res; a; a = a->ai_next) {
        if (a->ai_family != AF_INET) continue;
        self->add(reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, lookup->port);
      }
      self->finishOne();
    }
    if (res) evutil_freeaddrinfo(res);
    delete lookup;
  }

  static void onA(int result, char type, int count, int ttl, void* addresses, void* arg) {
    auto* lookup = static_cast<Lookup*>(arg);
    if (DnsWatcher* self = release(lookup)) {
      if (result != DNS_ERR_NONE || type != DNS_IPv4_A) {
        self->failed_ = true;
        spdlog::warn("cluster {}: dns: {}", self->cluster_, evdns_err_to_string(result));
      } else {
        const auto* addrs = static_cast<const in_addr*>(addresses);
        for (int i = 0; i < count; ++i) self->add(addrs[i], lookup->port);
        const auto seconds = std::chrono::seconds(std::max(ttl, 0));
        if (!self->min_ttl_ || seconds < *self->min_ttl_) self->min_ttl_ = seconds;
      }
      self->finishOne();
    }
    delete lookup;
  }

  void add(in_addr addr, uint16_t port) {
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr, text, sizeof text);
    round_.push_back({text, port});
  }

  void finishOne() {
    if (--pending_ > 0) return;
    sortUnique(round_);
    // A failed lookup keeps the last good set rather than dropping every endpoint of a name.
    if (!(failed_ && published_) && (!published_ || round_ != last_)) {
      published_ = true;
      last_ = round_;
      spdlog::info("cluster {}: {} endpoint(s) from dns", cluster_, last_.size());
      publish_(cluster_, std::make_shared<const std::vector<config::SocketAddress>>(last_));
    }
    const int64_t ms = nextDnsRefresh(min_ttl_, refresh_).count();
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
    event_add(timer_.get(), &tv);
  }

  evdns_base* dns_;
  std::string cluster_;
  PublishFn& publish_;
  std::vector<config::HostPort> hosts_;
  std::vector<bool> from_dns_;  // per host: not in /etc/hosts nor a literal, so asked by A query
  config::Duration refresh_;
  EventPtr timer_;
  std::vector<Lookup*> lookups_;
  std::vector<config::SocketAddress> round_;
  std::vector<config::SocketAddress> last_;
  std::optional<std::chrono::seconds> min_ttl_;  // smallest TTL answered in this round
  size_t pending_ = 0;
  bool failed_ = false;
  bool published_ = false;
};

}  // namespace

EndpointDiscovery::EndpointDiscovery(event_base* base, etcd::Client* client, PublishFn publish,
                                     evdns_base* dns)
    : base_(base), client_(client), publish_(std::move(publish)), dns_(dns), owns_dns_(!dns) {}

EndpointDiscovery::~EndpointDiscovery() {
  watchers_.clear();
  if (dns_ && owns_dns_) evdns_base_free(dns_, 1);
}

void EndpointDiscovery::reconcile(const config::Config& config) {
  std::map<std::string, std::unique_ptr<Watcher>> next;
  for (const config::Cluster& c : config.clusters) {
    if (c.type != config::ClusterType::kEtcd && c.type != config::ClusterType::kDns) continue;
    auto it = watchers_.find(c.name);
    if (it != watchers_.end() && it->second->discovery == c.discovery) {
      next.emplace(c.name, std::move(it->second));
      continue;
    }
    std::unique_ptr<Watcher> w;
    if (c.type == config::ClusterType::kEtcd) {
      if (!client_) {
        spdlog::error("cluster {}: type etcd needs sources.etcd in the startup file", c.name);
        continue;
      }
      w = std::make_unique<EtcdWatcher>(*client_, c.name, c.discovery.prefix, publish_);
    } else {
      if (!dns_) {
        // Name servers from /etc/resolv.conf; evdns_getaddrinfo reads /etc/hosts first.
        dns_ = evdns_base_new(
            base_, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_NAMESERVERS_NO_DEFAULT);
        if (!dns_) dns_ = evdns_base_new(base_, 0);
        evdns_base_load_hosts(dns_, nullptr);
      }
      w = std::make_unique<DnsWatcher>(base_, dns_, c.name, publish_, c.discovery);
    }
    w->discovery = c.discovery;
    next.emplace(c.name, std::move(w));
  }
  watchers_.swap(next);
}

}  // namespace remora::discovery
