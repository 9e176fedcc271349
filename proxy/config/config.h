#pragma once
// The validated, plain-data form of a Remora config file. The loader (loader.h) builds it from
// YAML and rejects anything invalid with the exact field path; everything downstream of the
// loader may assume every field is within range.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace remora::config {

using Duration = std::chrono::milliseconds;

// "host:port" resolved to a numeric IPv4/IPv6 address at load time.
struct SocketAddress {
  std::string host;  // numeric, e.g. "127.0.0.1" or "::1"
  uint16_t port = 0;
  std::string str() const;  // "127.0.0.1:80" or "[::1]:80"
  bool operator==(const SocketAddress&) const = default;
};

struct Route {
  std::string prefix = "/";  // request path prefix to match
  std::string cluster;       // must name a cluster
  bool operator==(const Route&) const = default;
};

// One entry of a listener's filter chain: a plugin by name and its config block (as JSON text,
// converted from the YAML node; the plugin parses and validates it in its config_new).
struct FilterRef {
  std::string name;
  std::string config_json = "{}";
  bool operator==(const FilterRef&) const = default;
};

// Per-route override of a listener's chain: requests whose path starts with `prefix` skip the
// filters named in `disable` (e.g. no auth on /healthz). First matching prefix wins.
struct FilterOverride {
  std::string prefix;
  std::vector<std::string> disable;
  bool operator==(const FilterOverride&) const = default;
};

struct ListenerLimits {
  uint32_t max_request_headers_bytes = 60 * 1024;  // request line + headers; 431 above
  uint32_t max_request_headers = 100;              // header count; 431 above
  uint32_t buffer_high_watermark = 1024 * 1024;    // bytes queued before reading pauses
  bool operator==(const ListenerLimits&) const = default;
};

struct ListenerTimeouts {
  Duration request_headers{10000};  // first byte to end of headers (slowloris)
  Duration idle{60000};             // keep-alive connection with no request in flight
  Duration request{0};              // whole request/response exchange; 0 = none
  Duration grpc_max{0};             // cap on a gRPC request's grpc-timeout; 0 = none
  bool operator==(const ListenerTimeouts&) const = default;
};

struct Listener {
  std::string name;
  SocketAddress address;
  ListenerLimits limits;
  ListenerTimeouts timeouts;
  std::vector<Route> routes;       // built-in prefix routes, used when `filters` is empty
  std::vector<FilterRef> filters;  // the chain, in order; must include the router filter
  bool order_by_priority = false;  // filter_order: priority — sort by each plugin's priority
  std::vector<FilterOverride> filter_overrides;
  bool operator==(const Listener&) const = default;
};

enum class LbPolicy { kRoundRobin, kLeastRequest };

struct Cluster {
  std::string name;
  std::vector<SocketAddress> endpoints;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  Duration connect_timeout{1000};
  Duration response_timeout{15000};  // request sent to first response byte... and between reads
  uint32_t max_connections_per_endpoint = 1024;  // per worker
  uint32_t max_pending_requests = 1024;          // per worker, waiting for a connection
  uint32_t max_connect_attempts = 3;             // endpoints tried before 503
  Duration idle_timeout{60000};                  // pooled idle connection lifetime
  bool operator==(const Cluster&) const = default;
};

struct Admin {
  SocketAddress address{"127.0.0.1", 9901};
  bool operator==(const Admin&) const = default;
};

struct Drain {
  Duration grace_period{5000};  // /ready fails but the listeners keep accepting
  Duration deadline{30000};     // after the grace period: in-flight requests get this long
  bool operator==(const Drain&) const = default;
};

struct Plugins {
  std::string dir;  // scanned at start-up for *.so; empty = no plugins
  std::string cache_dir = "/tmp/remora-plugin-cache";  // content-addressed copies, see DESIGN §5
  bool operator==(const Plugins&) const = default;
};

struct Config {
  uint32_t workers = 0;  // 0 = one per core
  std::string log_level = "info";
  Admin admin;
  Drain drain;
  Plugins plugins;
  std::vector<Listener> listeners;
  std::vector<Cluster> clusters;

  const Cluster* findCluster(const std::string& name) const;
  bool operator==(const Config&) const = default;
};

}  // namespace remora::config
