#include "stats/tcp_collector.h"

#include <map>
#include <string>

#include "stats/metric_families.h"

namespace remora::stats {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr size_t kCloses = size_t(TcpClose::kCount);
constexpr size_t kDetections = size_t(Detected::kCount);

struct ListenerTotals {
  uint64_t cx_total = 0;
  int64_t cx_active = 0;
  uint64_t received = 0;
  uint64_t sent = 0;
  std::array<uint64_t, kCloses> closes{};
  std::array<uint64_t, kDetections> detected{};
  uint64_t detection_timeouts = 0;
};

struct ClusterTotals {
  uint64_t cx_total = 0;
  int64_t cx_active = 0;
  uint64_t sent = 0;
  uint64_t received = 0;
};

void appendListeners(const std::map<std::string, ListenerTotals>& totals,
                     std::vector<MetricFamily>& out) {
  auto cx = makeFamily("remora_downstream_tcp_connections_total",
                       "Opaque TCP connections proxied from clients.", MetricType::Counter);
  auto active = makeFamily("remora_downstream_tcp_connections_active",
                           "Opaque TCP connections open.", MetricType::Gauge);
  auto bytes = makeFamily("remora_downstream_tcp_bytes_total",
                          "Bytes of opaque TCP connections, received from or sent to clients.",
                          MetricType::Counter);
  auto closes = makeFamily("remora_downstream_tcp_closes_total",
                           "Opaque TCP connections ended, by reason.", MetricType::Counter);
  auto detected = makeFamily("remora_protocol_detections_total",
                             "Connections of protocol: auto listeners, by the protocol detected.",
                             MetricType::Counter);
  auto timeouts =
      makeFamily("remora_protocol_detection_timeouts_total",
                 "Connections that sent nothing within detection_timeout.", MetricType::Counter);
  for (const auto& [name, t] : totals) {
    addSample(cx, {{"listener", name}}, double(t.cx_total));
    addSample(active, {{"listener", name}}, double(t.cx_active));
    addSample(bytes, {{"listener", name}, {"direction", "received"}}, double(t.received));
    addSample(bytes, {{"listener", name}, {"direction", "sent"}}, double(t.sent));
    for (size_t i = 0; i < kCloses; ++i)
      addSample(closes, {{"listener", name}, {"reason", kTcpCloseNames[i]}}, double(t.closes[i]));
    for (size_t i = 0; i < kDetections; ++i)
      addSample(detected, {{"listener", name}, {"protocol", kDetectedNames[i]}},
                double(t.detected[i]));
    addSample(timeouts, {{"listener", name}}, double(t.detection_timeouts));
  }
  for (auto* f : {&cx, &active, &bytes, &closes, &detected, &timeouts})
    out.push_back(std::move(*f));
}

void appendClusters(const std::map<std::string, ClusterTotals>& totals,
                    std::vector<MetricFamily>& out) {
  auto cx = makeFamily("remora_upstream_tcp_connections_total",
                       "Opaque TCP connections opened to the cluster.", MetricType::Counter);
  auto active = makeFamily("remora_upstream_tcp_connections_active",
                           "Opaque TCP connections open to the cluster.", MetricType::Gauge);
  auto bytes = makeFamily("remora_upstream_tcp_bytes_total",
                          "Bytes of opaque TCP connections, sent to or received from the cluster.",
                          MetricType::Counter);
  for (const auto& [name, t] : totals) {
    addSample(cx, {{"cluster", name}}, double(t.cx_total));
    addSample(active, {{"cluster", name}}, double(t.cx_active));
    addSample(bytes, {{"cluster", name}, {"direction", "sent"}}, double(t.sent));
    addSample(bytes, {{"cluster", name}, {"direction", "received"}}, double(t.received));
  }
  for (auto* f : {&cx, &active, &bytes}) out.push_back(std::move(*f));
}

}  // namespace

void appendTcpFamilies(const Store& store, std::vector<MetricFamily>& out) {
  std::map<std::string, ListenerTotals> listeners;
  std::map<std::string, ClusterTotals> clusters;
  store.forEachListener([&](const std::string& name, size_t, const ListenerStats& s) {
    const TcpStats& tcp = s.tcp;
    if (!tcp.enabled.load(std::memory_order_relaxed)) return;
    ListenerTotals& t = listeners[name];
    t.cx_total += tcp.cx_total.value();
    t.cx_active += tcp.cx_active.value();
    t.received += tcp.bytes_received.value();
    t.sent += tcp.bytes_sent.value();
    for (size_t i = 0; i < kCloses; ++i) t.closes[i] += tcp.closes[i].value();
    for (size_t i = 0; i < kDetections; ++i) t.detected[i] += tcp.detected[i].value();
    t.detection_timeouts += tcp.detection_timeouts.value();
  });
  store.forEachCluster([&](const std::string& name, size_t, const ClusterStats& s) {
    const UpstreamTcpStats& tcp = s.tcp;
    if (!tcp.enabled.load(std::memory_order_relaxed)) return;
    ClusterTotals& t = clusters[name];
    t.cx_total += tcp.cx_total.value();
    t.cx_active += tcp.cx_active.value();
    t.sent += tcp.bytes_sent.value();
    t.received += tcp.bytes_received.value();
  });
  if (!listeners.empty()) appendListeners(listeners, out);
  if (!clusters.empty()) appendClusters(clusters, out);
}

}  // namespace remora::stats
