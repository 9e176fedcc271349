#include "stats/collector.h"

#include <prometheus/text_serializer.h>

#include <array>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "stats/grpc_stats.h"
#include "stats/metric_families.h"
#include "stats/tcp_collector.h"
#include "stats/tls_collector.h"

namespace remora::stats {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
constexpr size_t kErrorKinds = static_cast<size_t>(ProtocolError::kCount);

// One listener's slots summed over workers, copied out under the store's lock.
struct ListenerTotals {
  int64_t cx_active = 0;
  uint64_t cx_total = 0;
  std::array<uint64_t, 5> requests{};
  std::array<uint64_t, kBucketSlots> buckets{};  // non-cumulative, like the slots
  double duration_sum = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  std::array<uint64_t, kErrorKinds> protocol_errors{};
  // (service, method, status slot) → count; only series that counted something.
  std::map<std::tuple<std::string, std::string, size_t>, uint64_t> grpc;
};

// Workers number their service/method pairs independently, so they are folded by name.
void foldGrpc(const GrpcStats& g, ListenerTotals& t) {
  static const std::string kOther = "other";
  size_t named = g.methodCount();
  for (size_t slot = 0; slot <= GrpcStats::kMaxMethods; ++slot) {
    if (slot < GrpcStats::kMaxMethods && slot >= named) continue;
    bool other = slot == GrpcStats::kOtherSlot;
    for (size_t st = 0; st < GrpcStats::kStatusSlots; ++st) {
      uint64_t n = g.count(slot, st);
      if (n == 0) continue;
      t.grpc[{other ? kOther : g.service(slot), other ? kOther : g.method(slot), st}] += n;
    }
  }
}

struct EndpointTotals {
  int64_t cx_active = 0;
  int64_t cx_idle = 0;
  int64_t streams_active = 0;
};

struct ClusterTotals {
  std::array<uint64_t, 5> requests{};
  uint64_t connect_failures = 0;
  uint64_t connect_timeouts = 0;
  uint64_t response_timeouts = 0;
  uint64_t pending_overflow = 0;
  int64_t pending_requests = 0;
  std::map<std::string, EndpointTotals> endpoints;
};

// std::map keeps the series sorted by name, so scrapes are stable and diffable.
std::map<std::string, ListenerTotals> foldListeners(const Store& store) {
  std::map<std::string, ListenerTotals> out;
  store.forEachListener([&](const std::string& name, size_t, const ListenerStats& s) {
    ListenerTotals& t = out[name];
    t.cx_active += s.downstream_cx_active.value();
    t.cx_total += s.downstream_cx_total.value();
    for (size_t i = 0; i < t.requests.size(); ++i) t.requests[i] += s.requests[i].value();
    for (size_t i = 0; i < kBucketSlots; ++i) t.buckets[i] += s.request_duration.bucket(i);
    t.duration_sum += s.request_duration.sum();
    t.bytes_received += s.bytes_received.value();
    t.bytes_sent += s.bytes_sent.value();
    for (size_t i = 0; i < kErrorKinds; ++i) t.protocol_errors[i] += s.protocol_errors[i].value();
    if (const GrpcStats* g = s.grpc.load(std::memory_order_acquire)) foldGrpc(*g, t);
  });
  return out;
}

std::map<std::string, ClusterTotals> foldClusters(const Store& store) {
  std::map<std::string, ClusterTotals> out;
  store.forEachCluster([&](const std::string& name, size_t, const ClusterStats& s) {
    ClusterTotals& t = out[name];
    for (size_t i = 0; i < t.requests.size(); ++i) t.requests[i] += s.upstream_requests[i].value();
    t.connect_failures += s.connect_failures.value();
    t.connect_timeouts += s.connect_timeouts.value();
    t.response_timeouts += s.response_timeouts.value();
    t.pending_overflow += s.pending_overflow.value();
    t.pending_requests += s.pending_requests.value();
    for (const auto& [address, e] : s.endpoints) {
      EndpointTotals& et = t.endpoints[address];
      et.cx_active += e->cx_active.value();
      et.cx_idle += e->cx_idle.value();
      et.streams_active += e->streams_active.value();
    }
  });
  return out;
}

void appendListenerFamilies(const std::map<std::string, ListenerTotals>& listeners,
                            std::vector<MetricFamily>& out) {
  auto active = makeFamily("remora_downstream_connections_active", "Open downstream connections.",
                           MetricType::Gauge);
  auto total = makeFamily("remora_downstream_connections_total", "Downstream connections accepted.",
                          MetricType::Counter);
  auto requests = makeFamily("remora_requests_total", "Requests answered, by response code class.",
                             MetricType::Counter);
  auto duration = makeFamily("remora_request_duration_seconds",
                             "Time from the first request byte to the last response byte.",
                             MetricType::Histogram);
  auto received = makeFamily("remora_downstream_bytes_received_total",
                             "Bytes read from downstream connections.", MetricType::Counter);
  auto sent = makeFamily("remora_downstream_bytes_sent_total",
                         "Bytes written to downstream connections.", MetricType::Counter);
  auto errors =
      makeFamily("remora_protocol_errors_total", "Protocol errors, by kind.", MetricType::Counter);
  for (const auto& [name, t] : listeners) {
    const Labels l = {{"listener", name}};
    addSample(active, l, static_cast<double>(t.cx_active));
    addSample(total, l, static_cast<double>(t.cx_total));
    for (size_t i = 0; i < t.requests.size(); ++i)
      addSample(requests, {{"listener", name}, {"code_class", kCodeClasses[i]}},
                static_cast<double>(t.requests[i]));
    addHistogram(duration, l, t.buckets, t.duration_sum);
    addSample(received, l, static_cast<double>(t.bytes_received));
    addSample(sent, l, static_cast<double>(t.bytes_sent));
    for (size_t i = 0; i < kErrorKinds; ++i)
      addSample(errors, {{"listener", name}, {"kind", kProtocolErrorNames[i]}},
                static_cast<double>(t.protocol_errors[i]));
  }
  auto grpc = makeFamily("remora_grpc_requests_total",
                         "gRPC requests answered, by service, method and grpc-status.",
                         MetricType::Counter);
  for (const auto& [name, t] : listeners) {
    for (const auto& [key, n] : t.grpc) {
      const auto& [service, method, st] = key;
      std::string status = st + 1 < GrpcStats::kStatusSlots ? std::to_string(st) : "unknown";
      addSample(grpc,
                {{"listener", name},
                 {"service", service},
                 {"method", method},
                 {"grpc_status", std::move(status)}},
                static_cast<double>(n));
    }
  }
  for (auto* f : {&active, &total, &requests, &duration, &received, &sent, &errors, &grpc})
    out.push_back(std::move(*f));
}

void appendClusterFamilies(const std::map<std::string, ClusterTotals>& clusters,
                           std::vector<MetricFamily>& out) {
  auto requests = makeFamily("remora_upstream_requests_total",
                             "Upstream responses, by response code class.", MetricType::Counter);
  auto connect_failures =
      makeFamily("remora_upstream_connect_failures_total",
                 "Upstream connection attempts refused or reset.", MetricType::Counter);
  auto connect_timeouts =
      makeFamily("remora_upstream_connect_timeouts_total",
                 "Upstream connection attempts that timed out.", MetricType::Counter);
  auto response_timeouts = makeFamily("remora_upstream_response_timeouts_total",
                                      "Upstream responses that timed out.", MetricType::Counter);
  auto overflow = makeFamily("remora_upstream_pending_overflow_total",
                             "Requests refused with 503 because the pending queue was full.",
                             MetricType::Counter);
  auto pending = makeFamily("remora_upstream_pending_requests",
                            "Requests waiting for an upstream connection.", MetricType::Gauge);
  auto cx_active = makeFamily("remora_upstream_connections_active",
                              "Upstream connections carrying a request.", MetricType::Gauge);
  auto cx_idle = makeFamily("remora_upstream_connections_idle",
                            "Pooled idle keep-alive upstream connections.", MetricType::Gauge);
  auto streams = makeFamily("remora_upstream_streams_active",
                            "HTTP/2 streams open on upstream connections.", MetricType::Gauge);
  for (const auto& [name, t] : clusters) {
    const Labels l = {{"cluster", name}};
    for (size_t i = 0; i < t.requests.size(); ++i)
      addSample(requests, {{"cluster", name}, {"code_class", kCodeClasses[i]}},
                static_cast<double>(t.requests[i]));
    addSample(connect_failures, l, static_cast<double>(t.connect_failures));
    addSample(connect_timeouts, l, static_cast<double>(t.connect_timeouts));
    addSample(response_timeouts, l, static_cast<double>(t.response_timeouts));
    addSample(overflow, l, static_cast<double>(t.pending_overflow));
    addSample(pending, l, static_cast<double>(t.pending_requests));
    for (const auto& [address, e] : t.endpoints) {
      const Labels el = {{"cluster", name}, {"endpoint", address}};
      addSample(cx_active, el, static_cast<double>(e.cx_active));
      addSample(cx_idle, el, static_cast<double>(e.cx_idle));
      addSample(streams, el, static_cast<double>(e.streams_active));
    }
  }
  for (auto* f : {&requests, &connect_failures, &connect_timeouts, &response_timeouts, &overflow,
                  &pending, &cx_active, &cx_idle, &streams})
    out.push_back(std::move(*f));
}

// A Registry that also reports one Collector's families; see makeRegistry() in the header.
class CollectingRegistry : public prometheus::Registry {
 public:
  CollectingRegistry(const Store& store,
                     std::vector<std::shared_ptr<prometheus::Collectable>> extra)
      : collector_(store), extra_(std::move(extra)) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out = Registry::Collect();
    auto append = [&out](std::vector<MetricFamily> more) {
      out.insert(out.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    };
    append(collector_.Collect());
    for (const auto& c : extra_) append(c->Collect());
    return out;
  }

 private:
  Collector collector_;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
};

}  // namespace

std::vector<MetricFamily> Collector::Collect() const {
  // Fold first (under the store's lock), build the families after: a worker installing a
  // snapshot waits on that lock, so it is not held while the exposition is built.
  const auto listeners = foldListeners(store_);
  const auto clusters = foldClusters(store_);

  std::vector<MetricFamily> out;
  auto info =
      makeFamily("remora_build_info", "Remora build; the value is always 1.", MetricType::Gauge);
  addSample(info, {{"version", REMORA_VERSION}}, 1);
  out.push_back(std::move(info));
  appendListenerFamilies(listeners, out);
  appendClusterFamilies(clusters, out);
  appendTlsFamilies(store_, out);
  appendTcpFamilies(store_, out);
  return out;
}

std::shared_ptr<prometheus::Registry> makeRegistry(
    const Store& store, std::vector<std::shared_ptr<prometheus::Collectable>> extra) {
  return std::make_shared<CollectingRegistry>(store, std::move(extra));
}

std::string serialize(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace remora::stats
