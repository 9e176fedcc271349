// Canary builds of a chain entry (DESIGN §5): `faulty` 1.0.0 from plugins.dir is the entry's
// build, test/plugins/faulty_v2.so (2.0.0) its canary. Each response says which build ran it
// (x-faulty-version), so the split is measured on real traffic.

#include <iostream>

#include "plugin_runtime_env.h"

namespace remora::test {
namespace {

class PluginCanaryTest : public PluginRuntimeEnv {};

std::string canaryEntry(const std::string& canary_yaml) {
  return "      - name: faulty\n        canary: " + canary_yaml + "\n";
}

TEST_F(PluginCanaryTest, PercentSplitHoldsOver10000Requests) {
  start(canaryEntry("{path: " + testBuild("faulty_v2") + ", percent: 30}"), 2);
  constexpr int kRequests = 10000;
  // Four keep-alive connections spread over both workers.
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int c = 0; c < 4; ++c) clients.push_back(std::make_unique<HttpClient>(port_));
  int v2 = 0, v1 = 0;
  for (int i = 0; i < kRequests; ++i) {
    HttpResponse r = clients[i % 4]->request("GET", "/", {});
    ASSERT_TRUE(r.ok()) << i << ": " << r.error;
    ASSERT_EQ(r.status, 200);
    std::string v = r.header("x-faulty-version");
    v2 += v == "2.0.0";
    v1 += v == "1.0.0";
  }
  std::cout << "[          ] canary at 30%: " << v2 << " of " << v1 + v2 << " requests\n";
  EXPECT_EQ(v1 + v2, kRequests);
  double share = 100.0 * v2 / kRequests;
  EXPECT_NEAR(share, 30.0, 3.0) << v2 << " of " << kRequests << " ran the canary";
  std::string m = metrics();
  EXPECT_EQ(
      findMetric(m, "remora_plugin_requests_total", {{"filter", "faulty"}, {"version", "2.0.0"}}),
      double(v2));
  EXPECT_EQ(
      findMetric(m, "remora_plugin_requests_total", {{"filter", "faulty"}, {"version", "1.0.0"}}),
      double(v1));
}

TEST_F(PluginCanaryTest, HeaderSelectsTheCanaryAndTheValueMustMatch) {
  start(canaryEntry("{path: " + testBuild("faulty_v2") + ", header: X-Canary, value: yes}"));
  EXPECT_EQ(get("/", {{"x-canary", "yes"}}).header("x-faulty-version"), "2.0.0");
  EXPECT_EQ(get("/", {{"x-canary", "no"}}).header("x-faulty-version"), "1.0.0");
  EXPECT_EQ(get("/").header("x-faulty-version"), "1.0.0");
  // Both builds are live, one as the entry's build, one as its canary.
  auto v2 = generations("faulty", "2.0.0");
  ASSERT_EQ(v2.size(), 1u);
  EXPECT_EQ(v2[0]["state"], "active");
  EXPECT_EQ(v2[0]["used_by"][0]["role"], "canary");
  EXPECT_EQ(v2[0]["used_by"][0]["listener"], "ingress");
}

TEST_F(PluginCanaryTest, PromoteThenRollBackByReload) {
  start(canaryEntry("{path: " + testBuild("faulty_v2") + ", percent: 50}"));
  int seen_v2 = 0;
  for (int i = 0; i < 10; ++i) seen_v2 += get("/").header("x-faulty-version") == "2.0.0";
  EXPECT_GT(seen_v2, 0);
  EXPECT_LT(seen_v2, 10);

  // Promote: the canary build becomes the entry's build.
  ASSERT_TRUE(reload("      - name: faulty\n        path: " + testBuild("faulty_v2") + "\n"))
      << remora_->output();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get("/").header("x-faulty-version"), "2.0.0");
  auto v2 = generations("faulty", "2.0.0");
  ASSERT_EQ(v2.size(), 1u);
  EXPECT_EQ(v2[0]["used_by"][0]["role"], "primary");
  auto v1 = generations("faulty", "1.0.0");
  ASSERT_EQ(v1.size(), 1u);
  EXPECT_EQ(v1[0]["state"], "active");  // still the plugins.dir build, though no chain uses it
  EXPECT_TRUE(v1[0]["used_by"].empty());

  // Roll back: the plugin from plugins.dir again; 2.0.0 is unloaded once no stream holds it.
  ASSERT_TRUE(reload("      - name: faulty\n")) << remora_->output();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get("/").header("x-faulty-version"), "1.0.0");
  EXPECT_TRUE(eventually([&] {
    auto g = generations("faulty", "2.0.0");
    return g.size() == 1 && g[0]["state"] == "unloaded";
  })) << adminBody(admin_port_, "/plugins");
}

}  // namespace
}  // namespace remora::test
