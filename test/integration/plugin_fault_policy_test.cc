// Fault policy of chain entries: on_error (fail_open / fail_closed), quarantine after N hook
// failures, hook time budgets, and the lifecycle events the kernel publishes (observed through the
// event_probe test plugin, which logs every event-bus delivery). `faulty` fails its request hook
// on x-fail and sleeps 60 ms on x-sleep.

#include "plugin_runtime_env.h"

namespace remora::test {
namespace {

class PluginFaultPolicyTest : public PluginRuntimeEnv {
 protected:
  double quarantinedMetric(const std::string& version = "1.0.0") {
    return findMetric(metrics(), "remora_plugin_quarantined",
                      {{"filter", "faulty"}, {"version", version}})
        .value_or(-1);
  }
  std::string faultyState() {
    auto g = generations("faulty", "1.0.0");
    return g.size() == 1 ? g[0]["state"].get<std::string>() : "missing";
  }
};

TEST_F(PluginFaultPolicyTest, FailOpenBypassesTheFilterOnceQuarantined) {
  start(
      "      - name: faulty\n        on_error: fail_open\n"
      "        quarantine: {after_errors: 3}\n");
  // A failing hook under fail_open lets the stream through.
  for (int i = 0; i < 2; ++i) {
    HttpResponse r = get("/headers", {{"x-fail", "1"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-faulty-version"), "1.0.0");  // response hooks still ran
  }
  EXPECT_EQ(quarantinedMetric(), 0);
  EXPECT_EQ(faultyState(), "active");
  EXPECT_EQ(get("/", {{"x-fail", "1"}}).status, 200);  // the third failure quarantines it

  HttpResponse bypassed = get("/headers");
  EXPECT_EQ(bypassed.status, 200);
  EXPECT_FALSE(bypassed.has("x-faulty-version"));
  EXPECT_EQ(bypassed.body.find("x-faulty: seen"), std::string::npos) << bypassed.body;
  EXPECT_EQ(quarantinedMetric(), 1);
  EXPECT_EQ(faultyState(), "quarantined");
  EXPECT_TRUE(
      remora_->process().waitForOutput("event remora.plugin.quarantined", std::chrono::seconds(5)));

  // A push replaces the entry: in service again.
  ASSERT_TRUE(reload("      - name: faulty\n        on_error: fail_open\n")) << remora_->output();
  EXPECT_EQ(get("/").header("x-faulty-version"), "1.0.0");
  EXPECT_TRUE(eventually([&] { return quarantinedMetric() == 0; }));
  EXPECT_EQ(faultyState(), "active");
}

TEST_F(PluginFaultPolicyTest, FailClosedAnswers500Then503OnceQuarantined) {
  start("      - name: faulty\n        quarantine: {after_errors: 2}\n");
  EXPECT_EQ(get("/", {{"x-fail", "1"}}).status, 500);
  EXPECT_EQ(get("/").status, 200);
  EXPECT_EQ(get("/", {{"x-fail", "1"}}).status, 500);
  HttpResponse r = get("/");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "filter faulty quarantined\n");
  EXPECT_EQ(quarantinedMetric(), 1);
  EXPECT_EQ(faultyState(), "quarantined");
}

TEST_F(PluginFaultPolicyTest, HookOverBudgetCountsAsAFailure) {
  start("      - name: faulty\n        quarantine: {after_errors: 2, hook_budget_ms: 20}\n");
  // A slow hook's result stands, but it counts.
  EXPECT_EQ(get("/", {{"x-sleep", "1"}}).status, 200);
  EXPECT_EQ(get("/").status, 200);
  EXPECT_EQ(get("/", {{"x-sleep", "1"}}).status, 200);
  EXPECT_EQ(get("/").status, 503);
  EXPECT_EQ(findMetric(metrics(), "remora_filter_errors_total", {{"filter", "faulty"}}), 2);
}

TEST_F(PluginFaultPolicyTest, ListenerDefaultsApplyToEveryEntry) {
  start("      - name: faulty\n");
  // No quarantine by default: failures stay 500s, never 503.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get("/", {{"x-fail", "1"}}).status, 500);
  EXPECT_EQ(get("/").status, 200);
}

TEST_F(PluginFaultPolicyTest, LifecycleEventsReachTheBusAndTheLog) {
  plugins_.addTestPlugin("event_probe");
  start("      - name: faulty\n");
  // A canary build: loaded and started...
  ASSERT_TRUE(reload("      - name: faulty\n        canary: {path: " + testBuild("faulty_v2") +
                     ", percent: 10}\n"))
      << remora_->output();
  auto& p = remora_->process();
  EXPECT_TRUE(p.waitForOutput("event_probe saw remora.plugin.loaded {", std::chrono::seconds(5)));
  EXPECT_TRUE(p.waitForOutput("event_probe saw remora.plugin.started {", std::chrono::seconds(5)));
  EXPECT_NE(p.output().find("\"version\":\"2.0.0\""), std::string::npos);
  // Deliveries run outside any hook; the log still names the plugin that subscribed.
  EXPECT_NE(p.output().find("[filter event_probe] event_probe saw"), std::string::npos);
  // ...then dropped: stopped and unloaded.
  ASSERT_TRUE(reload("      - name: faulty\n")) << remora_->output();
  EXPECT_TRUE(p.waitForOutput("event_probe saw remora.plugin.stopped {", std::chrono::seconds(5)));
  EXPECT_TRUE(p.waitForOutput("event_probe saw remora.plugin.unloaded {", std::chrono::seconds(5)));
  // A config the plugin refuses.
  remora_->reload(config("      - name: faulty\n        config: {reject: true}\n"));
  EXPECT_TRUE(
      p.waitForOutput("event_probe saw remora.plugin.config_rejected {", std::chrono::seconds(5)));
  EXPECT_NE(p.output().find("event remora.plugin.config_rejected"), std::string::npos);
  EXPECT_EQ(get("/").status, 200);  // the running config stays in service
}

}  // namespace
}  // namespace remora::test
