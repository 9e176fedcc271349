// The admin listener of the real binary: probes, metrics, and the config and clusters views.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "common/harness.h"

namespace remora::test {
namespace {

TEST(Admin, ReadyAndHealthz) {
  ProxyUnderTest proxy;
  HttpResponse ready = adminGet(proxy.adminPort(), "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  HttpResponse healthz = adminGet(proxy.adminPort(), "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(adminGet(proxy.adminPort(), "/no-such-page").status, 404);
}

TEST(Admin, MetricsCountRequestsByCodeClass) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  for (const char* path : {"/", "/", "/status/404", "/status/503", "/status/302"})
    ASSERT_TRUE(client.request("GET", path).ok());
  HttpResponse m = adminGet(proxy.adminPort(), "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.header("content-type").find("text/plain"), std::string::npos);
  const std::string& text = m.body;
  EXPECT_NE(text.find("# TYPE remora_requests_total counter"), std::string::npos) << text;
  const std::string listener = "listener=\"ingress\"";
  EXPECT_EQ(metricValue(text, "remora_requests_total", {listener, "code_class=\"2xx\""}), 2);
  EXPECT_EQ(metricValue(text, "remora_requests_total", {listener, "code_class=\"3xx\""}), 1);
  EXPECT_EQ(metricValue(text, "remora_requests_total", {listener, "code_class=\"4xx\""}), 1);
  EXPECT_EQ(metricValue(text, "remora_requests_total", {listener, "code_class=\"5xx\""}), 1);
  EXPECT_EQ(metricValue(text, "remora_upstream_requests_total", {"cluster=\"app\""}), 5);
  EXPECT_EQ(metricValue(text, "remora_request_duration_seconds_count", {listener}), 5);
  EXPECT_EQ(metricValue(text, "remora_downstream_connections_total", {listener}), 1);
  EXPECT_EQ(metricValue(text, "remora_downstream_connections_active", {listener}), 1);
  EXPECT_GT(metricValue(text, "remora_downstream_bytes_received_total", {listener}), 0);
  EXPECT_GT(metricValue(text, "remora_downstream_bytes_sent_total", {listener}), 0);
  EXPECT_EQ(metricValue(text, "remora_upstream_connections_idle", {"cluster=\"app\""}), 1);
  EXPECT_EQ(metricValue(text, "remora_build_info"), 1);
}

TEST(Admin, ConfigIsServedAsJson) {
  ProxySpec spec;
  spec.cluster_yaml = "lb_policy: least_request\nresponse_timeout: 2500ms";
  ProxyUnderTest proxy(spec);
  HttpResponse r = adminGet(proxy.adminPort(), "/config");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
  nlohmann::json config = nlohmann::json::parse(r.body);
  EXPECT_EQ(config["workers"], 1);
  EXPECT_EQ(config["admin"]["address"], "127.0.0.1:" + std::to_string(proxy.adminPort()));
  ASSERT_EQ(config["listeners"].size(), 1u);
  EXPECT_EQ(config["listeners"][0]["name"], "ingress");
  EXPECT_EQ(config["listeners"][0]["address"], "127.0.0.1:" + std::to_string(proxy.port()));
  EXPECT_EQ(config["listeners"][0]["routes"][0]["cluster"], "app");
  ASSERT_EQ(config["clusters"].size(), 1u);
  EXPECT_EQ(config["clusters"][0]["lb_policy"], "least_request");
  EXPECT_EQ(config["clusters"][0]["response_timeout"], "2500ms");
  EXPECT_EQ(config["clusters"][0]["endpoints"][0], proxy.upstream().address());
}

TEST(Admin, ClustersListEndpointsWithTheirConnections) {
  ProxySpec spec;
  spec.upstreams = 2;
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  for (int i = 0; i < 4; ++i) ASSERT_EQ(client.request("GET", "/").status, 200);
  HttpResponse r = adminGet(proxy.adminPort(), "/clusters");
  ASSERT_EQ(r.status, 200);
  nlohmann::json body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body["clusters"].size(), 1u);
  const nlohmann::json& app = body["clusters"][0];
  EXPECT_EQ(app["name"], "app");
  EXPECT_EQ(app["lb_policy"], "round_robin");
  ASSERT_EQ(app["endpoints"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const nlohmann::json& e = app["endpoints"][i];
    EXPECT_EQ(e["address"], proxy.upstream(i).address());
    EXPECT_EQ(e["state"], "healthy");
    EXPECT_EQ(e["cx_idle"], 1);  // the pooled keep-alive connection
    EXPECT_EQ(e["cx_active"], 0);
  }
}

}  // namespace
}  // namespace remora::test
