// State hand-off (ABI 1.1 state_export / state_import): when a push replaces a chain entry, the
// new config object — of the same build or of a new one — takes over the old one's runtime state,
// so a reload does not refill every rate-limit bucket or close every open breaker.

#include "plugin_runtime_env.h"

namespace remora::test {
namespace {

class PluginStateHandoffTest : public PluginRuntimeEnv {
 protected:
  PluginStateHandoffTest() {
    plugins_.addFilter("rate_limit");
    plugins_.addFilter("circuit_breaker");
  }

  static std::string limiter(const std::string& extra = "") {
    return "      - name: rate_limit\n" + extra +
           "        config: {rules: [{name: all, prefix: /, rate: 3, per: 1m, burst: 3}]}\n";
  }

  int status() { return get("/").status; }
};

TEST_F(PluginStateHandoffTest, BucketsSurviveAReloadAndANewBuild) {
  start(limiter());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status(), 200) << i;
  EXPECT_EQ(status(), 429);

  // Same build, new config object: the bucket is still empty.
  ASSERT_TRUE(reload(limiter("        on_error: fail_open\n"))) << remora_->output();
  EXPECT_EQ(status(), 429);

  // A new build (new generation): the bucket moves across builds too.
  std::string build = rebuilt("rate_limit");
  ASSERT_TRUE(reload(limiter("        path: " + build + "\n"))) << remora_->output();
  auto gens = adminJson(admin_port_, "/plugins");
  bool new_build_active = false;
  for (const auto& g : gens["plugins"])
    new_build_active |= g["path"] == build && g["state"] == "active";
  EXPECT_TRUE(new_build_active) << gens.dump();
  EXPECT_EQ(status(), 429);
}

TEST_F(PluginStateHandoffTest, ARenamedRuleStartsAfresh) {
  start(limiter());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status(), 200) << i;
  EXPECT_EQ(status(), 429);
  ASSERT_TRUE(
      reload("      - name: rate_limit\n"
             "        config: {rules: [{name: other, prefix: /, rate: 3, per: 1m, burst: 3}]}\n"))
      << remora_->output();
  EXPECT_EQ(status(), 200);
}

TEST_F(PluginStateHandoffTest, AnOpenBreakerStaysOpenAcrossANewBuild) {
  auto breaker = [](const std::string& extra) {
    return "      - name: circuit_breaker\n" + extra +
           "        config: {clusters: {app: {max_active_requests: 100, breaker: "
           "{consecutive_failures: 3, "
           "failure_ratio: 0, cool_down: 60s}}}}\n";
  };
  after_router_ = breaker("");
  start("");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/status/500").status, 500) << i;
  HttpResponse open = get("/");
  EXPECT_EQ(open.status, 503);
  EXPECT_EQ(open.body, "circuit open\n");

  after_router_ = breaker("        path: " + rebuilt("circuit_breaker") + "\n");
  ASSERT_TRUE(reload("")) << remora_->output();
  HttpResponse still = get("/");
  EXPECT_EQ(still.status, 503);
  EXPECT_EQ(still.body, "circuit open\n");
}

}  // namespace
}  // namespace remora::test
