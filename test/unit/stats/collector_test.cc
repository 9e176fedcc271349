#include "stats/collector.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include <algorithm>
#include <limits>

namespace remora::stats {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

const MetricFamily& findFamily(const std::vector<MetricFamily>& families, const std::string& name) {
  auto it = std::find_if(families.begin(), families.end(),
                         [&](const MetricFamily& f) { return f.name == name; });
  if (it == families.end()) throw std::runtime_error("no family " + name);
  return *it;
}

const ClientMetric& findMetric(const MetricFamily& f, const std::vector<ClientMetric::Label>& l) {
  auto it = std::find_if(f.metric.begin(), f.metric.end(),
                         [&](const ClientMetric& m) { return m.label == l; });
  if (it == f.metric.end()) throw std::runtime_error("no series in " + f.name);
  return *it;
}

// Two workers serving the same listener and cluster, with different traffic.
class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t w = 0; w < 2; ++w) {
      ListenerStats& l = store_.listener(w, "ingress");
      l.downstream_cx_active.add(static_cast<int64_t>(w) + 1);  // 1 + 2
      l.downstream_cx_total.inc(10);
      l.requests[codeClassIndex(200)].inc(w + 1);  // 1 + 2
      l.requests[codeClassIndex(503)].inc();
      l.bytes_received.inc(100);
      l.bytes_sent.inc(1000);
      l.protocol_errors[static_cast<size_t>(ProtocolError::kBadFraming)].inc();
      ClusterStats& c = store_.cluster(w, "backend");
      c.upstream_requests[codeClassIndex(204)].inc(5);
      c.connect_failures.inc();
      c.connect_timeouts.inc(2);
      c.response_timeouts.inc(3);
      c.pending_overflow.inc(4);
      c.pending_requests.add(1);
      store_.endpoint(w, "backend", "127.0.0.1:8080").cx_active.add(1);
      store_.endpoint(w, "backend", "127.0.0.1:8080").cx_idle.add(2);
    }
    // Durations: worker 0 one fast and one slow sample, worker 1 one fast sample.
    store_.listener(0, "ingress").request_duration.observe(0.0004);
    store_.listener(0, "ingress").request_duration.observe(0.2);
    store_.listener(1, "ingress").request_duration.observe(0.0003);
  }

  Store store_{2};
};

TEST_F(CollectorTest, SumsCountersAndGaugesOverWorkers) {
  const auto families = Collector(store_).Collect();
  const std::vector<ClientMetric::Label> ingress = {{"listener", "ingress"}};
  const std::vector<ClientMetric::Label> backend = {{"cluster", "backend"}};

  const auto& active = findFamily(families, "remora_downstream_connections_active");
  EXPECT_EQ(active.type, MetricType::Gauge);
  EXPECT_EQ(findMetric(active, ingress).gauge.value, 3);
  const auto& total = findFamily(families, "remora_downstream_connections_total");
  EXPECT_EQ(total.type, MetricType::Counter);
  EXPECT_EQ(findMetric(total, ingress).counter.value, 20);
  const auto& requests = findFamily(families, "remora_requests_total");
  EXPECT_EQ(findMetric(requests, {{"listener", "ingress"}, {"code_class", "2xx"}}).counter.value,
            3);
  EXPECT_EQ(findMetric(requests, {{"listener", "ingress"}, {"code_class", "5xx"}}).counter.value,
            2);
  EXPECT_EQ(findMetric(requests, {{"listener", "ingress"}, {"code_class", "1xx"}}).counter.value,
            0);
  EXPECT_EQ(findMetric(findFamily(families, "remora_downstream_bytes_received_total"), ingress)
                .counter.value,
            200);
  EXPECT_EQ(
      findMetric(findFamily(families, "remora_downstream_bytes_sent_total"), ingress).counter.value,
      2000);
  const auto& errors = findFamily(families, "remora_protocol_errors_total");
  EXPECT_EQ(findMetric(errors, {{"listener", "ingress"}, {"kind", "bad_framing"}}).counter.value,
            2);
  EXPECT_EQ(errors.metric.size(), kProtocolErrorNames.size());

  EXPECT_EQ(findMetric(findFamily(families, "remora_upstream_requests_total"),
                       {{"cluster", "backend"}, {"code_class", "2xx"}})
                .counter.value,
            10);
  auto counter = [&](const char* name) {
    return findMetric(findFamily(families, name), backend).counter.value;
  };
  EXPECT_EQ(counter("remora_upstream_connect_failures_total"), 2);
  EXPECT_EQ(counter("remora_upstream_connect_timeouts_total"), 4);
  EXPECT_EQ(counter("remora_upstream_response_timeouts_total"), 6);
  EXPECT_EQ(counter("remora_upstream_pending_overflow_total"), 8);
  EXPECT_EQ(
      findMetric(findFamily(families, "remora_upstream_pending_requests"), backend).gauge.value, 2);
  const std::vector<ClientMetric::Label> ep = {{"cluster", "backend"},
                                               {"endpoint", "127.0.0.1:8080"}};
  EXPECT_EQ(findMetric(findFamily(families, "remora_upstream_connections_active"), ep).gauge.value,
            2);
  EXPECT_EQ(findMetric(findFamily(families, "remora_upstream_connections_idle"), ep).gauge.value,
            4);
}

TEST_F(CollectorTest, HistogramBucketsAreCumulativeOverWorkers) {
  const auto families = Collector(store_).Collect();
  const auto& f = findFamily(families, "remora_request_duration_seconds");
  EXPECT_EQ(f.type, MetricType::Histogram);
  const auto& h = findMetric(f, {{"listener", "ingress"}}).histogram;
  ASSERT_EQ(h.bucket.size(), Histogram::kBounds.size() + 1);
  for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
    EXPECT_EQ(h.bucket[i].upper_bound, Histogram::kBounds[i]);
    // 0.0003 and 0.0004 fall in the first bucket; 0.2 in (0.1, 0.25].
    const uint64_t expected = Histogram::kBounds[i] < 0.25 ? 2 : 3;
    EXPECT_EQ(h.bucket[i].cumulative_count, expected) << "le=" << Histogram::kBounds[i];
  }
  EXPECT_EQ(h.bucket.back().upper_bound, std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.bucket.back().cumulative_count, 3u);
  EXPECT_EQ(h.sample_count, 3u);
  EXPECT_NEAR(h.sample_sum, 0.2007, 1e-9);
}

TEST_F(CollectorTest, EmitsBuildInfo) {
  const auto families = Collector(store_).Collect();
  const auto& f = findFamily(families, "remora_build_info");
  ASSERT_EQ(f.metric.size(), 1u);
  EXPECT_EQ(f.metric[0].label, (std::vector<ClientMetric::Label>{{"version", REMORA_VERSION}}));
  EXPECT_EQ(f.metric[0].gauge.value, 1);
}

TEST(CollectorEmptyTest, EmitsEveryFamilyWithoutSeries) {
  Store store(1);
  const auto families = Collector(store).Collect();
  EXPECT_EQ(families.size(), 28u);  // 18 kernel families + 10 TLS ones (tls_collector.h)
  for (const auto& f : families)
    if (f.name != "remora_build_info") {
      EXPECT_TRUE(f.metric.empty()) << f.name;
    }
}

TEST(CollectorTlsTest, TlsSeriesOnlyForListenersAndClustersWithTls) {
  Store store(2);
  store.listener(0, "plain");
  ListenerStats& in0 = store.listener(0, "inbound");
  ListenerStats& in1 = store.listener(1, "inbound");
  in0.tls.enabled = in1.tls.enabled = true;
  in0.tls.handshakes[size_t(network::TlsVersionSeen::k1_3)].inc(2);
  in1.tls.handshakes[size_t(network::TlsVersionSeen::k1_3)].inc();
  in1.tls.failures[size_t(network::TlsFailure::kNotTls)].inc();
  ClusterStats& c = store.cluster(0, "payments");
  c.tls.enabled = true;
  c.tls.resumed.inc();
  const std::string text = serialize(*makeRegistry(store));
  for (const char* line :
       {"remora_downstream_tls_handshakes_total{listener=\"inbound\",version=\"TLSv1.3\"} 3",
        "remora_downstream_tls_handshake_failures_total{listener=\"inbound\",reason=\"not_tls\"} 1",
        "remora_upstream_tls_resumptions_total{cluster=\"payments\"} 1"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  EXPECT_EQ(text.find("tls_handshakes_total{listener=\"plain\""), std::string::npos);
}

TEST_F(CollectorTest, SerializedRegistryHasTheExpectedLines) {
  auto registry = makeRegistry(store_);
  // Families built through the ordinary prometheus-cpp API are served alongside the kernel's.
  prometheus::BuildCounter()
      .Name("remora_config_reloads_total")
      .Help("h")
      .Register(*registry)
      .Add({})
      .Increment();
  const std::string text = serialize(*registry);
  for (const char* line : {
           "# TYPE remora_requests_total counter",
           "remora_requests_total{listener=\"ingress\",code_class=\"2xx\"} 3",
           "remora_downstream_connections_active{listener=\"ingress\"} 3",
           "# TYPE remora_request_duration_seconds histogram",
           "remora_request_duration_seconds_bucket{listener=\"ingress\",le=\"0.0005\"} 2",
           "remora_request_duration_seconds_bucket{listener=\"ingress\",le=\"0.25\"} 3",
           "remora_request_duration_seconds_bucket{listener=\"ingress\",le=\"+Inf\"} 3",
           "remora_request_duration_seconds_count{listener=\"ingress\"} 3",
           "remora_protocol_errors_total{listener=\"ingress\",kind=\"bad_framing\"} 2",
           "remora_upstream_connections_idle{cluster=\"backend\",endpoint=\"127.0.0.1:8080\"} 4",
           "remora_build_info{version=\"" REMORA_VERSION "\"} 1",
           "remora_config_reloads_total 1",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
  // The +Inf bucket is not duplicated by the serializer.
  const std::string inf = "le=\"+Inf\"";
  EXPECT_EQ(text.find(inf), text.rfind(inf));
}

}  // namespace
}  // namespace remora::stats
