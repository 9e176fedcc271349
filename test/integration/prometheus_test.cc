// A real Prometheus scraping the real remora's admin /metrics: the target comes up, request
// counters and the duration histogram move in PromQL as traffic flows through the proxy, and
// every query of the Grafana dashboard (deploy/grafana/remora-dashboard.json) names metrics
// remora exposes and evaluates to data (config, plugin build, protocol and gRPC panels included).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/filter_env.h"
#include "common/harness.h"
#include "common/prometheus_server.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

// One remora (router + circuit_breaker, so the breaker's metrics exist too) in front of a demo
// upstream, and one Prometheus scraping it, shared by the tests: Prometheus needs about 6 s to
// discover its target and a few more to hold enough samples for rate().
class PrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    plugins_ = new PluginDir;
    plugins_->addFilter("router");
    plugins_->addFilter("circuit_breaker");
    app_ = new DemoUpstream("app");
    json router = {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
    json breaker = {
        {"clusters", {{"app", {{"max_active_requests", 100}, {"breaker", json::object()}}}}}};
    proxy_ = new FilterProxy(*plugins_, {{"router", router}, {"circuit_breaker", breaker}},
                             {{"app", {app_->address()}, ""}}, 2);
    prometheus_ = new PrometheusServer("127.0.0.1:" + std::to_string(proxy_->adminPort()));
  }
  static void TearDownTestSuite() {
    delete prometheus_;
    delete proxy_;
    delete app_;
    delete plugins_;
  }

  void SetUp() override {
    ASSERT_TRUE(waitUntil([] { return prometheus_->targetHealth() == "up"; },
                          std::chrono::seconds(25), std::chrono::milliseconds(250)))
        << "target health: '" << prometheus_->targetHealth() << "'\n"
        << prometheus_->output();
  }

  // `n` GETs of `path` through the proxy on one keep-alive connection; the statuses seen.
  static std::multiset<int> send(int n, const std::string& path) {
    std::multiset<int> statuses;
    HttpClient client(proxy_->port());
    for (int i = 0; i < n; ++i) statuses.insert(client.request("GET", path).status);
    return statuses;
  }

  static double valueOr0(const std::string& promql) {
    return prometheus_->scalar(promql).value_or(0);
  }

  static PluginDir* plugins_;
  static DemoUpstream* app_;
  static FilterProxy* proxy_;
  static PrometheusServer* prometheus_;
};

PluginDir* PrometheusTest::plugins_ = nullptr;
DemoUpstream* PrometheusTest::app_ = nullptr;
FilterProxy* PrometheusTest::proxy_ = nullptr;
PrometheusServer* PrometheusTest::prometheus_ = nullptr;

constexpr auto kScrapeWait = std::chrono::seconds(10);

TEST_F(PrometheusTest, RequestCountersAndDurationHistogramMove) {
  const std::string ok =
      R"(sum(remora_requests_total{job="remora",listener="ingress",code_class="2xx"}))";
  const std::string errors = R"(sum(remora_requests_total{listener="ingress",code_class="5xx"}))";
  const std::string count = R"(sum(remora_request_duration_seconds_count{listener="ingress"}))";
  const std::string upstream = R"(sum(remora_upstream_requests_total{cluster="app"}))";
  const double ok_before = valueOr0(ok), errors_before = valueOr0(errors);
  const double count_before = valueOr0(count), upstream_before = valueOr0(upstream);

  EXPECT_EQ(send(40, "/").count(200), 40u);
  EXPECT_EQ(send(5, "/status/503").count(503), 5u);

  EXPECT_TRUE(waitUntil([&] { return valueOr0(ok) >= ok_before + 40; }, kScrapeWait,
                        std::chrono::milliseconds(250)))
      << "2xx counter in Prometheus: " << valueOr0(ok) << ", before: " << ok_before;
  EXPECT_TRUE(waitUntil([&] { return valueOr0(errors) >= errors_before + 5; }, kScrapeWait,
                        std::chrono::milliseconds(250)));
  EXPECT_TRUE(waitUntil([&] { return valueOr0(count) >= count_before + 45; }, kScrapeWait,
                        std::chrono::milliseconds(250)));
  EXPECT_GE(valueOr0(upstream), upstream_before + 45);
  // Every request took well under the largest finite bucket: the 10 s bucket holds them all.
  EXPECT_GE(valueOr0(R"(sum(remora_request_duration_seconds_bucket{listener="ingress",le="10"}))"),
            count_before + 45);

  // rate() over the histogram: the traffic shows as a positive rate and a finite p99 within the
  // buckets' range (the demo upstream answers in well under a second).
  EXPECT_TRUE(waitUntil(
      [] { return valueOr0("sum(rate(remora_request_duration_seconds_count[30s]))") > 0; },
      kScrapeWait, std::chrono::milliseconds(250)));
  std::optional<double> p99;
  EXPECT_TRUE(waitUntil(
      [&] {
        p99 = prometheus_->scalar(
            "histogram_quantile(0.99, sum by (le) "
            "(rate(remora_request_duration_seconds_bucket{listener=\"ingress\"}[30s])))");
        return p99 && std::isfinite(*p99);
      },
      kScrapeWait, std::chrono::milliseconds(250)));
  ASSERT_TRUE(p99.has_value());
  EXPECT_GT(*p99, 0);
  EXPECT_LE(*p99, 1.0);
}

// Sample names in Prometheus text ("name{labels} value" or "name value").
std::set<std::string> sampleNames(const std::string& text) {
  std::set<std::string> names;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

// Every PromQL expression of the dashboard (panels, rows' nested panels, template variables).
void collectExprs(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if ((key == "expr" || key == "definition") && value.is_string())
        out.push_back(value.get<std::string>());
      else
        collectExprs(value, out);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) collectExprs(v, out);
  }
}

TEST_F(PrometheusTest, DashboardQueriesUseExposedMetricsAndReturnData) {
  std::ifstream file(std::string(REMORA_SOURCE_DIR) + "/deploy/grafana/remora-dashboard.json");
  ASSERT_TRUE(file.good());
  json dashboard = json::parse(file, nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << "remora-dashboard.json is not valid JSON";
  ASSERT_TRUE(dashboard["panels"].is_array());
  std::set<int> ids;
  for (const auto& p : dashboard["panels"]) {
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate panel id " << p["id"];
    EXPECT_TRUE(p.contains("gridPos") && p.contains("title") && p.contains("type")) << p.dump();
  }

  send(10, "/");
  // Series that only exist once something happened: a gRPC call (remora_grpc_requests_total
  // counts any POST with content-type application/grpc, whatever the upstream answers) and a
  // refused config push (remora_config_applies_total{result="rejected"}).
  HttpClient grpc(proxy_->port());
  EXPECT_GT(grpc.request("POST", "/remora.test.Echo/Say", {{"content-type", "application/grpc"}},
                         std::string(5, '\0'))
                .status,
            0);
  HttpClient control(proxy_->controlPort());
  EXPECT_EQ(
      control.request("PUT", "/config", {{"content-type", "application/yaml"}}, "workers: -1\n")
          .status,
      400);
  const std::set<std::string> exposed = sampleNames(proxy_->metrics());
  std::vector<std::string> exprs;
  collectExprs(dashboard, exprs);
  ASSERT_GE(exprs.size(), 10u);

  const std::regex metric_name("remora_[a-z0-9_]+");
  std::set<std::string> used;
  for (const auto& expr : exprs) {
    for (std::sregex_iterator it(expr.begin(), expr.end(), metric_name), end; it != end; ++it) {
      const std::string name = it->str();
      used.insert(name);
      // A name ending in "_" is a prefix in a __name__ regex ({__name__=~"remora_filter_.+"}).
      const bool found =
          name.back() == '_'
              ? std::any_of(exposed.begin(), exposed.end(),
                            [&](const std::string& e) { return e.rfind(name, 0) == 0; })
              : exposed.count(name) != 0;
      EXPECT_TRUE(found) << name << " (in " << expr << ") is not in remora's /metrics";
    }
  }
  // The panels the dashboard is for.
  for (const char* name :
       {"remora_requests_total", "remora_request_duration_seconds_bucket",
        "remora_upstream_connect_failures_total", "remora_upstream_requests_total",
        "remora_filter_circuit_breaker_open", "remora_filter_circuit_breaker_half_open",
        "remora_build_info", "remora_config_version", "remora_config_applies_total",
        "remora_plugin_requests_total", "remora_plugin_quarantined", "remora_protocol_errors_total",
        "remora_grpc_requests_total"})
    EXPECT_TRUE(used.count(name)) << "the dashboard has no panel on " << name;

  // Each panel query, with Grafana's variables given values, is valid PromQL that returns data
  // once Prometheus holds a few samples.
  for (std::string expr : exprs) {
    if (expr.rfind("label_values(", 0) == 0) continue;  // a Grafana function, not PromQL
    expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "30s");
    expr = std::regex_replace(expr, std::regex(R"(\$instance)"), ".*");
    ASSERT_EQ(expr.find('$'), std::string::npos) << "unhandled variable in " << expr;
    json last;
    const bool has_data = waitUntil(
        [&] {
          last = prometheus_->query(expr);
          return last.value("status", "") == "success" && !last["data"]["result"].empty();
        },
        kScrapeWait, std::chrono::milliseconds(250));
    EXPECT_TRUE(has_data) << expr << "\n" << last.dump();
  }
  // The config panels see the refused push, not only the startup config.
  EXPECT_TRUE(waitUntil(
      [] {
        return valueOr0(R"(sum(remora_config_applies_total{source="admin",result="rejected"}))") >=
               1;
      },
      kScrapeWait, std::chrono::milliseconds(250)));
  EXPECT_EQ(valueOr0("max(remora_config_version)"), 1);
}

}  // namespace
}  // namespace remora::test
