// The kernel's chain mechanics with real plugins in the real binary: a failing hook answers 500
// and is counted, a filter's own reply skips the rest, per-route overrides skip a filter, and
// filter_order: priority reorders the chain.

#include <gtest/gtest.h>

#include <filesystem>

#include "common/harness.h"
#include "common/observe.h"

namespace remora::test {
namespace {

namespace fs = std::filesystem;

class FilterChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugins_ = dir_.path() + "/plugins";
    fs::create_directories(plugins_);
    fs::copy_file(std::string(REMORA_TEST_PLUGIN_DIR) + "/faulty.so", plugins_ + "/faulty.so");
    fs::copy_file(std::string(REMORA_FILTER_DIR) + "/router.so", plugins_ + "/router.so");
  }

  void start(const std::string& listener_extra, bool router_first = false) {
    const std::string faulty = "      - name: faulty\n";
    const std::string router =
        "      - name: router\n"
        "        config: { routes: [ { match: { prefix: /direct }, direct_response: { status: "
        "200, body: direct } }, { match: { prefix: / }, cluster: app } ] }\n";
    port_ = freePort();
    std::string yaml = "workers: 1\n";
    yaml += "admin: { address: 127.0.0.1:" + std::to_string(freePort()) + " }\n";
    yaml += "drain: { grace_period: 0s, deadline: 2s }\n";
    yaml += "plugins: { dir: " + plugins_ + ", cache_dir: " + dir_.path() + "/cache }\n";
    yaml += "listeners:\n  - name: ingress\n";
    yaml += "    address: 127.0.0.1:" + std::to_string(port_) + "\n";
    yaml += "    filters:\n" + (router_first ? router + faulty : faulty + router);
    yaml += listener_extra;
    yaml += "clusters:\n  - name: app\n    endpoints: [" + upstream_.address() + "]\n";
    remora_ = std::make_unique<RemoraProcess>(yaml);
  }

  HttpResponse get(const std::string& path, const std::string& extra_header = "") {
    HttpClient c(port_);
    c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra_header + "\r\n");
    return c.readResponse();
  }

  TempDir dir_;
  std::string plugins_;
  DemoUpstream upstream_{"app"};
  uint16_t port_ = 0;
  std::unique_ptr<RemoraProcess> remora_;
};

TEST_F(FilterChainTest, FailingHookAnswers500AndIsCounted) {
  start("");
  HttpResponse ok = get("/headers");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("x-faulty: seen"), std::string::npos) << ok.body;
  HttpResponse failed = get("/headers", "x-fail: 1\r\n");
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body.find("filter faulty failed"), std::string::npos) << failed.body;
  EXPECT_EQ(scrapeMetric(remora_->adminPort(), "remora_filter_errors_total", {"filter=\"faulty\""}),
            1);
  EXPECT_EQ(get("/").status, 200);  // the proxy is still serving
}

TEST_F(FilterChainTest, FilterReplySkipsTheRestOfTheChain) {
  start("");
  HttpResponse r = get("/headers", "x-reply: 1\r\n");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "faulty replied\n");
}

TEST_F(FilterChainTest, OverrideSkipsTheFilterForItsPrefix) {
  start("    filter_overrides: [ { prefix: /skip, disable: [faulty] } ]\n");
  EXPECT_EQ(get("/headers", "x-fail: 1\r\n").status, 500);
  HttpResponse skipped = get("/skip/headers", "x-fail: 1\r\n");
  EXPECT_EQ(skipped.status, 200);
  EXPECT_EQ(skipped.body.find("x-faulty"), std::string::npos) << skipped.body;
}

TEST_F(FilterChainTest, ConfigOrderRunsTheRouterFirstWhenListedFirst) {
  // The router answers /direct itself, so a filter listed after it never sees the request.
  start("", /*router_first=*/true);
  EXPECT_EQ(get("/direct", "x-fail: 1\r\n").status, 200);
}

TEST_F(FilterChainTest, PriorityOrderPutsTheRouterLast) {
  // Listed router-first, but faulty's priority (100) is below the router's (1000): with
  // filter_order: priority faulty runs first and fails the request.
  start("    filter_order: priority\n", /*router_first=*/true);
  EXPECT_EQ(get("/direct", "x-fail: 1\r\n").status, 500);
}

}  // namespace
}  // namespace remora::test
