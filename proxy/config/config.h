#pragma once
// The validated, plain-data form of a Remora config file. The loader (loader.h) builds it from
// YAML and rejects anything invalid with the exact field path; everything downstream of the
// loader may assume every field is within range.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "network/socket_address.h"
#include "network/tls_options.h"

namespace remora::config {

using Duration = std::chrono::milliseconds;

// "host:port" resolved to a numeric IPv4/IPv6 address at load time.
using network::SocketAddress;

struct Route {
  std::string prefix = "/";  // request path prefix to match
  std::string cluster;       // must name a cluster
  bool operator==(const Route&) const = default;
};

// A chain entry's traffic split between its build (A) and a canary build (B) of the same plugin:
// requests carrying `header` (equal to `value` when one is given) or falling in `percent` run B.
struct FilterCanary {
  std::string path;      // the canary build's .so
  uint32_t percent = 0;  // 0..100
  std::string header;    // lower-case; empty = no header rule
  std::string value;     // empty = any value of `header`
  bool operator==(const FilterCanary&) const = default;
};

// What a failing hook (error result, caught exception, over its time budget) does to a stream.
// fail_closed (the default, as Envoy's failure_mode_allow: false): the stream is answered 500
// (503 once the entry is quarantined); fail_open: the failure is counted and the stream goes on
// as if the hook had returned CONTINUE (bypassed once quarantined).
enum class OnError { kFailClosed, kFailOpen };

// When an entry is taken out of service: after `after_errors` hook failures (0 = never), where a
// hook running longer than `hook_budget_ms` (0 = no budget) counts as a failure.
struct Quarantine {
  uint32_t after_errors = 0;
  uint32_t hook_budget_ms = 0;
  bool operator==(const Quarantine&) const = default;
};

// One entry of a listener's filter chain: a plugin by name and its config block (as JSON text,
// converted from the YAML node; the plugin parses and validates it in its config_new).
struct FilterRef {
  std::string name;
  std::string path;  // a specific build (.so); empty = the plugin of that name in plugins.dir
  std::string config_json = "{}";
  std::optional<FilterCanary> canary;
  std::optional<OnError> on_error;       // unset = the listener's default
  std::optional<Quarantine> quarantine;  // unset = the listener's default
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

// Downstream HTTP/2 (prior-knowledge h2c): the codec's limits and flood budgets. Every budget
// counts one connection's frames within `flood_window`; over it the connection gets GOAWAY
// ENHANCE_YOUR_CALM.
struct ListenerHttp2 {
  bool enabled = true;                          // mode: auto (sniff the preface) | off
  uint32_t max_concurrent_streams = 100;        // SETTINGS_MAX_CONCURRENT_STREAMS
  uint32_t initial_stream_window = 256 * 1024;  // per-stream receive window (request bodies)
  uint32_t max_resets = 200;              // RST_STREAM frames from the client (CVE-2023-44487)
  uint32_t max_settings_frames = 100;     // SETTINGS frames (not ACKs)
  uint32_t max_ping_frames = 100;         // PING frames (not ACKs)
  uint32_t max_empty_data_frames = 100;   // DATA frames with no payload and no END_STREAM
  uint32_t max_continuation_frames = 16;  // CONTINUATION frames in one header block
  Duration flood_window{10000};
  bool operator==(const ListenerHttp2&) const = default;
};

// How the codec normalizes a request's path before any filter sees it (codec/request_target.h):
// `%2F` and `%5C` (and a raw backslash) are kept as sent, refused with 400, or decoded to "/".
enum class EncodedSlashes : uint8_t { kKeep, kReject, kDecode };

struct PathNormalization {
  bool merge_slashes = false;  // "/a//b" -> "/a/b" (off by default, as in Envoy)
  EncodedSlashes encoded_slashes = EncodedSlashes::kKeep;
  bool operator==(const PathNormalization&) const = default;
};

// What a listener carries (`protocol:`). http: HTTP/1.1 and h2c (and TLS before them when `tls:`
// is set). tcp: opaque bytes to `tcp.cluster` (TLS terminated first when `tls:` is set). auto:
// the first bytes decide (tcp/protocol_detector.h) — HTTP/1, the h2c preface, a TLS ClientHello
// (terminated when a certificate matches its SNI, else passed through by `tcp.sni_routes`), or
// opaque TCP. auto is the default for `original_dst` listeners, http for the others.
enum class ListenerProtocol : uint8_t { kHttp, kTcp, kAuto };

// TLS passthrough: a ClientHello whose SNI matches `sni` (exact, or "*.suffix" for one or more
// labels before the suffix) goes as opaque bytes to `cluster`.
struct SniRoute {
  std::string sni;  // lower case
  std::string cluster;
  bool operator==(const SniRoute&) const = default;
};

// The TCP proxy of a `tcp` or `auto` listener (`tcp:`).
struct ListenerTcp {
  // Where opaque bytes go; empty on an original_dst listener = each connection's original
  // destination (passthrough), else opaque bytes are refused (closed and counted).
  std::string cluster;
  std::vector<SniRoute> sni_routes;   // TLS passthrough, first match wins
  Duration idle{3600000};             // no byte either way for this long: closed
  uint32_t max_connect_attempts = 3;  // endpoints tried before the first byte is sent
  bool operator==(const ListenerTcp&) const = default;
};

struct Listener {
  std::string name;
  SocketAddress address;
  ListenerLimits limits;
  ListenerHttp2 http2;
  ListenerTimeouts timeouts;
  PathNormalization path_normalization;
  // Upgrade protocols forwarded (lower case, compared without a "/version"); any other is taken
  // off the request, which then goes on as a plain one. h2c is never forwarded.
  std::vector<std::string> upgrades{"websocket"};
  std::vector<Route> routes;       // built-in prefix routes, used when `filters` is empty
  std::vector<FilterRef> filters;  // the chain, in order; must include the router filter
  bool order_by_priority = false;  // filter_order: priority — sort by each plugin's priority
  std::vector<FilterOverride> filter_overrides;
  // Recover each accepted connection's original destination (SO_ORIGINAL_DST, set by an
  // iptables REDIRECT; see deploy/iptables-init.sh) for `type: original_dst` clusters and filters.
  bool original_dst = false;
  // Defaults for entries that do not set on_error / quarantine (`filter_defaults` in YAML).
  OnError on_error = OnError::kFailClosed;
  Quarantine quarantine;
  // TLS termination (`tls:`); unset = plain TCP.
  std::optional<network::TlsServerOptions> tls;
  ListenerProtocol protocol = ListenerProtocol::kHttp;
  // auto: how long to wait for the first bytes before the connection is taken as opaque TCP (a
  // server-speaks-first protocol on a port not listed in opaque_ports).
  Duration detection_timeout{5000};
  // auto: destination ports (the original destination's on an original_dst listener, else the
  // listener's own) whose connections skip detection and go straight to the TCP proxy.
  std::vector<uint16_t> opaque_ports;
  ListenerTcp tcp;
  bool operator==(const Listener&) const = default;
};

enum class LbPolicy { kRoundRobin, kLeastRequest };

// Where a cluster's endpoints come from. static: the listed endpoints. original_dst: none; each
// request goes to its downstream connection's original destination (a listener with
// `original_dst: true`). etcd: the keys under a prefix. dns: names resolved on the main thread.
// Discovered endpoints never enter the config: the main thread posts each new endpoint set to
// every worker (WorkerCluster::setEndpoints).
enum class ClusterType { kStatic, kOriginalDst, kEtcd, kDns };

// Active health checking of a static cluster's endpoints, run from the main thread.
struct HealthCheck {
  std::string path;  // empty = no health checking
  Duration interval{5000};
  Duration timeout{1000};
  uint32_t healthy_threshold = 2;    // consecutive passes to come back
  uint32_t unhealthy_threshold = 3;  // consecutive failures to be taken out
  std::vector<uint32_t> expected_statuses{200};
  bool enabled() const { return !path.empty(); }
  bool operator==(const HealthCheck&) const = default;
};

// A DNS name and port, e.g. "localhost:8080" (not resolved at load time).
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
  bool operator==(const HostPort&) const = default;
};

// `discovery:` of an etcd or dns cluster.
struct Discovery {
  std::string prefix;           // etcd: every key under it is one endpoint
  std::vector<HostPort> hosts;  // dns: names to resolve (A records and /etc/hosts)
  Duration refresh{30000};      // dns: re-resolve interval
  bool operator==(const Discovery&) const = default;
};

// The protocol Remora speaks to a cluster's endpoints. http2 is cleartext with prior knowledge
// (h2c, RFC 9113 §3.3): the upstream must accept the connection preface without an upgrade.
enum class UpstreamProtocol { kHttp1, kHttp2 };

struct Http2Settings {
  // Our cap on streams per connection; the peer's SETTINGS_MAX_CONCURRENT_STREAMS may lower it.
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE we announce: response bytes a stream may have unread.
  uint32_t initial_window_size = 1024 * 1024;
  // PING every interval (0: never); no ACK within the timeout closes the connection, so a peer
  // that vanished without a FIN or RST is found before a request waits on it.
  Duration keepalive_interval{0};
  Duration keepalive_timeout{5000};
  bool operator==(const Http2Settings&) const = default;
};

struct Cluster {
  std::string name;
  ClusterType type = ClusterType::kStatic;
  std::vector<SocketAddress> endpoints;  // static clusters only
  Discovery discovery;                   // etcd and dns clusters only
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  Duration connect_timeout{1000};
  Duration response_timeout{15000};  // request sent to first response byte... and between reads
  uint32_t max_connections_per_endpoint = 1024;  // per worker
  uint32_t max_pending_requests = 1024;          // per worker, waiting for a connection
  uint32_t max_connect_attempts = 3;             // endpoints tried before 503
  Duration idle_timeout{60000};                  // pooled idle connection lifetime
  HealthCheck health_check;
  UpstreamProtocol protocol = UpstreamProtocol::kHttp1;
  Http2Settings http2;  // used when protocol is http2
  // TLS origination (`tls:`); unset = plain TCP. With protocol http2 the connection offers ALPN
  // h2 (and expects it).
  std::optional<network::TlsClientOptions> tls;
  bool operator==(const Cluster&) const = default;
};

// The control listener: every admin endpoint, including those that change the sidecar (PUT
// /config, /config/rollback, /drain, POST /logging). Loopback or a Unix socket by default, so
// nothing on the pod network can reach it; a non-loopback address needs a token (or an explicit
// allow_insecure).
struct AdminControl {
  SocketAddress address{"127.0.0.1", 9902};  // used when unix_path is empty
  std::string unix_path;                     // `unix:`: a Unix socket instead of address
  uint32_t mode = 0600;                      // the socket file's permissions
  std::string token_file;  // bearer token, read at start-up; empty: no authentication
  bool allow_insecure = false;
  bool operator==(const AdminControl&) const = default;
};

struct Admin {
  SocketAddress address{"127.0.0.1", 9901};  // the observe listener: probes, metrics, views
  AdminControl control;
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

// sources.etcd: the sidecar watches `<prefix>config` for its config and writes its ACK/NACK to
// `<prefix>status/<instance>`. Startup-only: a pushed config cannot move its own source.
struct EtcdSource {
  std::vector<SocketAddress> endpoints;  // empty = no etcd source
  std::string prefix;                    // ends with "/"
  std::string instance;                  // this sidecar's id; default: hostname-pid
  bool operator==(const EtcdSource&) const = default;
};

// registration: this sidecar's local service instance, kept under a lease at
// `<prefix><service>/<instance>` while the sidecar lives. Needs sources.etcd.endpoints.
struct Registration {
  std::string service;  // empty = do not register
  SocketAddress address;
  std::string prefix = "/remora/services/";
  Duration ttl{10000};
  bool operator==(const Registration&) const = default;
};

struct Config {
  uint32_t workers = 0;  // 0 = one per core
  std::string log_level = "info";
  // Watch the --config file and apply it when it changes (see docs/configuration.md).
  bool config_watch = true;
  Admin admin;
  Drain drain;
  Plugins plugins;
  EtcdSource etcd;  // sources.etcd
  Registration registration;
  std::vector<Listener> listeners;
  std::vector<Cluster> clusters;

  const Cluster* findCluster(const std::string& name) const;
  bool operator==(const Config&) const = default;
};

}  // namespace remora::config
