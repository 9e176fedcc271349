#pragma once
// Per-worker metrics for the request path.
//
// prometheus-cpp's Counter/Histogram lock or use atomic read-modify-writes; on the request path
// every worker instead bumps plain per-worker slots that only it writes (relaxed load + store,
// which compiles to an ordinary add). Slots are resolved when a worker installs a config
// snapshot, never per request. The main thread folds all workers' slots into prometheus-cpp
// MetricFamily objects at scrape time (see collector.h).

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "network/tls_failure.h"

namespace remora::stats {

// Single-writer counter: written by one worker thread, read by the scraper.
class Counter {
 public:
  void inc(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Single-writer gauge.
class Gauge {
 public:
  void add(int64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(int64_t n = 1) { add(-n); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Single-writer histogram over fixed latency buckets (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  void observe(double seconds);
  // Non-cumulative count per bucket; the last slot is +Inf.
  uint64_t bucket(size_t i) const { return buckets_[i].value(); }
  uint64_t count() const { return count_.value(); }
  double sum() const { return sum_micros_.value() / 1e6; }

 private:
  std::array<Counter, kBounds.size() + 1> buckets_;
  Counter count_;
  Counter sum_micros_;
};

// Response code classes as label values: index 0 → "1xx" ... 4 → "5xx".
inline size_t codeClassIndex(int status) {
  return status >= 100 && status < 600 ? status / 100 - 1 : 4;
}
inline constexpr std::array<const char*, 5> kCodeClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};

// Protocol errors by kind (label `kind`).
enum class ProtocolError : uint8_t {
  kBadRequest,       // unparsable request line or headers
  kHeadersTooLarge,  // request line + headers over the limit, or too many headers
  kBadFraming,       // CL+TE, repeated/differing Content-Length, bad chunk size
  kBadHeaderBytes,   // invalid bytes in a header name or value, obs-fold
  kHeadersTimeout,   // request headers not complete in time (slowloris)
  kUpstreamBadResponse,
  // Downstream HTTP/2: each closes the offending connection with GOAWAY.
  kH2Protocol,           // PROTOCOL_ERROR and other malformed framing nghttp2 rejects
  kH2FlowControl,        // FLOW_CONTROL_ERROR: window overflow, DATA beyond the window
  kH2RapidReset,         // RST_STREAM budget exceeded (CVE-2023-44487)
  kH2ContinuationFlood,  // too many CONTINUATION frames in one header block
  kH2SettingsFlood,      // SETTINGS budget exceeded
  kH2PingFlood,          // PING budget exceeded
  kH2EmptyDataFlood,     // empty DATA frames budget exceeded
  kH2OutboundFlood,      // the client does not read the ACKs it provokes (nghttp2 FLOODED)
  // An Upgrade (e.g. WebSocket) routed to an HTTP/2 cluster, which cannot carry it: 501.
  kUpgradeUnsupported,
  // Request heads refused before the filter chain (codec/request_head.h): 400 or 405.
  kBadPath,         // fragment, dot-segments above the root, bad percent-encoding, %2F refused
  kBadHost,         // Host / :authority not host[:port], userinfo, repeated, disagreeing
  kConnectRefused,  // CONNECT: 405
  kCount
};
inline constexpr std::array<const char*, static_cast<size_t>(ProtocolError::kCount)>
    kProtocolErrorNames = {"bad_request",
                           "headers_too_large",
                           "bad_framing",
                           "bad_header_bytes",
                           "headers_timeout",
                           "upstream_bad_response",
                           "h2_protocol",
                           "h2_flow_control",
                           "h2_rapid_reset",
                           "h2_continuation_flood",
                           "h2_settings_flood",
                           "h2_ping_flood",
                           "h2_empty_data_flood",
                           "h2_outbound_flood",
                           "upgrade_unsupported",
                           "bad_path",
                           "bad_host",
                           "connect_refused"};

class GrpcStats;

// TLS handshakes on one side of one listener or cluster (exported only where `tls:` is set).
struct TlsStats {
  std::atomic<bool> enabled{false};  // set by the worker when the listener or cluster has TLS
  std::array<Counter, size_t(network::TlsVersionSeen::kCount)> handshakes;  // by version
  std::array<Counter, size_t(network::TlsFailure::kCount)> failures;        // by reason
  Counter resumed;
  Gauge in_progress;
  Histogram duration;
};

// How an `auto` listener's connections were taken (tcp/protocol_detector.h).
enum class Detected : uint8_t { kHttp1, kHttp2, kTlsTerminated, kTlsPassthrough, kTcp, kCount };
inline constexpr std::array<const char*, size_t(Detected::kCount)> kDetectedNames = {
    "http1", "h2c", "tls", "tls_passthrough", "tcp"};

// Why a proxied TCP connection ended (tcp/tcp_proxy.h).
enum class TcpClose : uint8_t {
  kDone,             // both directions finished (FIN each way)
  kDownstreamReset,  // the client's socket failed
  kUpstreamReset,    // the upstream's socket failed
  kConnectFailed,    // no endpoint accepted within max_connect_attempts
  kIdleTimeout,
  kNoRoute,           // no cluster for these bytes (an SNI without a route, no tcp.cluster)
  kDetectionTimeout,  // auto listener: no byte and no TCP destination
  kDrain,             // still open at the drain deadline
  kCount
};
inline constexpr std::array<const char*, size_t(TcpClose::kCount)> kTcpCloseNames = {
    "done",         "downstream_reset", "upstream_reset",    "connect_failed",
    "idle_timeout", "no_route",         "detection_timeout", "drain"};

// A listener's opaque TCP connections and its protocol detection (exported where `protocol:` is
// tcp or auto). Bytes are counted per direction: received from clients, sent to them.
struct TcpStats {
  std::atomic<bool> enabled{false};
  Counter cx_total;
  Gauge cx_active;
  Counter bytes_received;
  Counter bytes_sent;
  std::array<Counter, size_t(TcpClose::kCount)> closes;
  std::array<Counter, size_t(Detected::kCount)> detected;
  Counter detection_timeouts;
};

// A cluster's side of proxied TCP connections: sent = to the upstream, received = from it.
struct UpstreamTcpStats {
  std::atomic<bool> enabled{false};  // set at the first TCP connection to the cluster
  Counter cx_total;
  Gauge cx_active;
  Counter bytes_sent;
  Counter bytes_received;
};

struct ListenerStats {
  ListenerStats() = default;
  ListenerStats(const ListenerStats&) = delete;
  ListenerStats& operator=(const ListenerStats&) = delete;
  ~ListenerStats();
  Gauge downstream_cx_active;
  Counter downstream_cx_total;
  std::array<Counter, 5> requests;  // by code class
  Histogram request_duration;
  Counter bytes_received;
  Counter bytes_sent;
  std::array<Counter, static_cast<size_t>(ProtocolError::kCount)> protocol_errors;
  TlsStats tls;
  TcpStats tcp;
  // Made by the worker at its first gRPC request (grpcStatsOf, grpc_stats.h), published with
  // release for the scraper; owned here.
  std::atomic<GrpcStats*> grpc{nullptr};
};

struct EndpointStats {
  Gauge cx_active;       // connections carrying a request
  Gauge cx_idle;         // pooled keep-alive connections (HTTP/2: connections with no stream)
  Gauge streams_active;  // HTTP/2 streams open on the endpoint's connections
  // Monotonic (CLOCK_MONOTONIC_COARSE) ms until which the endpoint is ejected; 0 = never.
  std::atomic<uint64_t> ejected_until_ms{0};
};

struct ClusterStats {
  std::array<Counter, 5> upstream_requests;  // by code class
  Counter connect_failures;
  Counter connect_timeouts;
  Counter response_timeouts;
  Counter pending_overflow;  // 503: pending queue full
  Gauge pending_requests;
  TlsStats tls;
  UpstreamTcpStats tcp;
  std::map<std::string, std::unique_ptr<EndpointStats>> endpoints;  // by "host:port"; see Store
};

// Owns every worker's stats blocks. Blocks are created on first use and never freed (their number
// is bounded by listener/cluster/endpoint names), so a worker may keep raw pointers to them.
class Store {
 public:
  explicit Store(size_t workers);

  // Worker thread, while installing a snapshot (not per request).
  ListenerStats& listener(size_t worker, const std::string& name);
  ClusterStats& cluster(size_t worker, const std::string& name);
  EndpointStats& endpoint(size_t worker, const std::string& cluster, const std::string& address);

  // Scrape side (main thread): visits every worker's block for each name, under the lock.
  template <typename F>
  void forEachListener(F&& f) const {
    std::lock_guard<std::mutex> g(mu_);
    for (size_t w = 0; w < workers_.size(); ++w)
      for (auto& [name, s] : workers_[w].listeners) f(name, w, *s);
  }
  template <typename F>
  void forEachCluster(F&& f) const {
    std::lock_guard<std::mutex> g(mu_);
    for (size_t w = 0; w < workers_.size(); ++w)
      for (auto& [name, s] : workers_[w].clusters) f(name, w, *s);
  }
  size_t workerCount() const { return workers_.size(); }

 private:
  struct PerWorker {
    std::map<std::string, std::unique_ptr<ListenerStats>> listeners;
    std::map<std::string, std::unique_ptr<ClusterStats>> clusters;
  };
  mutable std::mutex mu_;
  std::vector<PerWorker> workers_;
};

}  // namespace remora::stats
