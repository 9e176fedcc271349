#include "stats/tls_collector.h"

#include <map>
#include <string>

#include "stats/metric_families.h"

namespace remora::stats {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr size_t kVersions = size_t(network::TlsVersionSeen::kCount);
constexpr size_t kReasons = size_t(network::TlsFailure::kCount);

struct TlsTotals {
  std::array<uint64_t, kVersions> handshakes{};
  std::array<uint64_t, kReasons> failures{};
  uint64_t resumed = 0;
  int64_t in_progress = 0;
  BucketCounts buckets{};
  double duration_sum = 0;
};

void fold(const TlsStats& s, std::map<std::string, TlsTotals>& out, const std::string& name) {
  if (!s.enabled.load(std::memory_order_relaxed)) return;
  TlsTotals& t = out[name];
  for (size_t i = 0; i < kVersions; ++i) t.handshakes[i] += s.handshakes[i].value();
  for (size_t i = 0; i < kReasons; ++i) t.failures[i] += s.failures[i].value();
  t.resumed += s.resumed.value();
  t.in_progress += s.in_progress.value();
  for (size_t i = 0; i < kBucketSlots; ++i) t.buckets[i] += s.duration.bucket(i);
  t.duration_sum += s.duration.sum();
}

// One side's five families: `side` is "downstream" or "upstream", `key` the label naming a
// listener or a cluster.
void append(const std::map<std::string, TlsTotals>& totals, const std::string& side,
            const std::string& key, std::vector<MetricFamily>& out) {
  const std::string p = "remora_" + side + "_tls_";
  auto handshakes = makeFamily(p + "handshakes_total", "TLS handshakes completed, by version.",
                               MetricType::Counter);
  auto failures = makeFamily(p + "handshake_failures_total", "TLS handshakes refused, by reason.",
                             MetricType::Counter);
  auto resumed = makeFamily(p + "resumptions_total", "TLS handshakes that resumed a session.",
                            MetricType::Counter);
  auto in_progress =
      makeFamily(p + "handshakes_in_progress", "TLS handshakes under way.", MetricType::Gauge);
  auto duration = makeFamily(p + "handshake_duration_seconds",
                             "Time from the first handshake step to its end (completed ones).",
                             MetricType::Histogram);
  for (const auto& [name, t] : totals) {
    for (size_t i = 0; i < kVersions; ++i)
      addSample(handshakes, {{key, name}, {"version", network::kTlsVersionNames[i]}},
                double(t.handshakes[i]));
    for (size_t i = 0; i < kReasons; ++i)
      addSample(failures, {{key, name}, {"reason", network::kTlsFailureNames[i]}},
                double(t.failures[i]));
    addSample(resumed, {{key, name}}, double(t.resumed));
    addSample(in_progress, {{key, name}}, double(t.in_progress));
    addHistogram(duration, {{key, name}}, t.buckets, t.duration_sum);
  }
  for (auto* f : {&handshakes, &failures, &resumed, &in_progress, &duration})
    out.push_back(std::move(*f));
}

}  // namespace

void appendTlsFamilies(const Store& store, std::vector<MetricFamily>& out) {
  std::map<std::string, TlsTotals> listeners, clusters;
  store.forEachListener([&](const std::string& name, size_t, const ListenerStats& s) {
    fold(s.tls, listeners, name);
  });
  store.forEachCluster(
      [&](const std::string& name, size_t, const ClusterStats& s) { fold(s.tls, clusters, name); });
  append(listeners, "downstream", "listener", out);
  append(clusters, "upstream", "cluster", out);
}

}  // namespace remora::stats
