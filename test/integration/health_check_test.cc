// Active health checks against real endpoints: an endpoint that fails its checks is taken out
// after the threshold, traffic avoids it, /clusters says why, and it comes back once it passes.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/harness.h"
#include "common/stub_server.h"

namespace remora::test {
namespace {

using std::chrono::seconds;

// An endpoint whose /healthz answers `health_status` (or stalls past the check's timeout when it
// is 0) and whose other paths answer with its name.
struct Endpoint {
  explicit Endpoint(std::string name)
      : server([this, name](const StubRequest& req) {
          if (req.target == "/healthz") {
            int status = health_status.load();
            if (status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(400));
            ++health_checks;
            return StubResponse{status == 0 ? 200 : status, {}, "health\n"};
          }
          ++traffic;
          return StubResponse{200, {{"x-upstream", name}}, name + "\n"};
        }) {}
  std::atomic<int> health_status{200};
  std::atomic<int> health_checks{0};
  std::atomic<int> traffic{0};
  StubServer server;
};

// The endpoint entry of `cluster` in GET /clusters, or null.
nlohmann::json endpointState(uint16_t admin, const std::string& cluster,
                             const std::string& address) {
  HttpResponse r = adminGet(admin, "/clusters");
  if (r.status != 200) return nullptr;
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object()) return nullptr;
  for (const auto& c : body["clusters"]) {
    if (c["name"] != cluster) continue;
    for (const auto& e : c["endpoints"])
      if (e["address"] == address) return e;
  }
  return nullptr;
}

class HealthCheckTest : public ::testing::Test {
 protected:
  void start(const std::string& check_yaml) {
    const uint16_t port = freePort();
    admin_ = freePort();
    std::string yaml = basicConfig(port, admin_, {good_.server.address(), bad_.server.address()},
                                   "", "health_check:\n" + check_yaml);
    remora_ = std::make_unique<RemoraProcess>(yaml);
    client_ = std::make_unique<HttpClient>(port);
  }
  std::string state(const std::string& address) {
    return endpointState(admin_, "app", address).value("state", "");
  }

  Endpoint good_{"good"};
  Endpoint bad_{"bad"};
  uint16_t admin_ = 0;
  std::unique_ptr<RemoraProcess> remora_;
  std::unique_ptr<HttpClient> client_;
};

constexpr const char* kFastChecks =
    "  path: /healthz\n  interval: 100ms\n  timeout: 100ms\n"
    "  healthy_threshold: 2\n  unhealthy_threshold: 2\n";

TEST_F(HealthCheckTest, FailingEndpointIsTakenOutAndComesBack) {
  start(kFastChecks);
  const std::string bad = bad_.server.address();
  ASSERT_TRUE(waitUntil([&] { return bad_.health_checks.load() >= 2; }, seconds(5)));
  EXPECT_EQ(state(bad), "healthy");

  bad_.health_status = 503;
  ASSERT_TRUE(waitUntil([&] { return state(bad) == "unhealthy"; }, seconds(5)))
      << endpointState(admin_, "app", bad).dump();
  nlohmann::json e = endpointState(admin_, "app", bad);
  EXPECT_EQ(e["reason"], "health check failed: status 503") << e.dump();
  EXPECT_EQ(e["health_check"]["healthy"], false) << e.dump();
  EXPECT_EQ(scrapeMetric(admin_, "remora_endpoint_healthy",
                         {"cluster=\"app\"", "endpoint=\"" + bad + "\""}),
            0);
  EXPECT_GE(scrapeMetric(admin_, "remora_health_check_total",
                         {"cluster=\"app\"", "result=\"bad_status\""}),
            2);

  // Traffic avoids the endpoint while it is out.
  const int before = bad_.traffic.load();
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = client_->request("GET", "/");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("x-upstream"), "good") << "request " << i;
  }
  EXPECT_EQ(bad_.traffic.load(), before);

  bad_.health_status = 200;
  ASSERT_TRUE(waitUntil([&] { return state(bad) == "healthy"; }, seconds(5)));
  EXPECT_EQ(scrapeMetric(admin_, "remora_endpoint_healthy",
                         {"cluster=\"app\"", "endpoint=\"" + bad + "\""}),
            1);
  // Back in rotation: round robin reaches it again.
  bool reached = false;
  for (int i = 0; i < 10 && !reached; ++i) {
    HttpResponse r = client_->request("GET", "/");
    ASSERT_EQ(r.status, 200) << r.error;
    reached = r.header("x-upstream") == "bad";
  }
  EXPECT_TRUE(reached);
}

TEST_F(HealthCheckTest, TimeoutIsTheReason) {
  start(kFastChecks);
  const std::string bad = bad_.server.address();
  bad_.health_status = 0;  // stalls past the 100 ms timeout
  ASSERT_TRUE(waitUntil([&] { return state(bad) == "unhealthy"; }, seconds(5)));
  EXPECT_EQ(endpointState(admin_, "app", bad)["reason"],
            "health check failed: timeout after 100 ms");
  EXPECT_GE(
      scrapeMetric(admin_, "remora_health_check_total", {"cluster=\"app\"", "result=\"timeout\""}),
      2);
}

TEST(HealthCheck, RefusedConnectionIsTheReason) {
  Endpoint good("good");
  const uint16_t port = freePort();
  const uint16_t admin = freePort();
  const std::string closed = "127.0.0.1:" + std::to_string(freePort());  // nothing listens
  RemoraProcess remora(basicConfig(port, admin, {good.server.address(), closed}, "",
                                   std::string("health_check:\n") + kFastChecks));
  ASSERT_TRUE(waitUntil(
      [&] { return endpointState(admin, "app", closed).value("state", "") == "unhealthy"; },
      seconds(5)));
  EXPECT_EQ(endpointState(admin, "app", closed)["reason"], "health check failed: connect refused");
  EXPECT_GE(scrapeMetric(admin, "remora_health_check_total",
                         {"cluster=\"app\"", "result=\"connect_failed\""}),
            2);
  // Every request goes to the healthy endpoint, none tries the dead one first.
  HttpClient client(port);
  for (int i = 0; i < 6; ++i) {
    HttpResponse r = client.request("GET", "/");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("x-upstream"), "good");
  }
  EXPECT_EQ(scrapeMetric(admin, "remora_upstream_connect_failures_total", {"cluster=\"app\""}), 0);
}

}  // namespace
}  // namespace remora::test
