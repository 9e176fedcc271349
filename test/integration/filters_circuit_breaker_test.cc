// The circuit_breaker plugin (build/filters/circuit_breaker.so) after the router in the real
// binary: the concurrency limit with real slow requests in flight, the breaker opening on
// consecutive upstream failures and probing again after its cool-down, outlier ejection as the
// admin API shows it, and the pending and retry bounds the kernel enforces for the filter
// (max_pending_requests, max_retries).

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/filter_env.h"
#include "common/harness.h"
#include "common/stub_server.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerTest() {
    plugins_.addFilter("router");
    plugins_.addFilter("circuit_breaker");
  }

  // router (no retries, so every request is one upstream try) then circuit_breaker.
  void start(const json& breaker_clusters, const std::vector<ClusterSpec>& clusters) {
    json router = {
        {"routes",
         {{{"match", {{"prefix", "/pair/"}}}, {"cluster", "pair"}, {"retry", {{"attempts", 0}}}},
          {{"match", {{"prefix", "/"}}}, {"cluster", "app"}, {"retry", {{"attempts", 0}}}}}}};
    start(router, breaker_clusters, clusters);
  }
  void start(const json& router, const json& breaker_clusters,
             const std::vector<ClusterSpec>& clusters) {
    proxy_ = std::make_unique<FilterProxy>(
        plugins_,
        std::vector<FilterSpec>{{"router", router},
                                {"circuit_breaker", {{"clusters", breaker_clusters}}}},
        clusters);
  }

  double metric(const std::string& name, const std::string& cluster) {
    return findMetric(proxy_->metrics(), name, {{"cluster", cluster}}).value_or(-1);
  }

  static void expectRefused(const HttpResponse& r, const std::string& body) {
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.header("x-remora-overloaded"), "true");
    EXPECT_EQ(r.body, body);
    EXPECT_FALSE(r.has("x-upstream"));
  }

  PluginDir plugins_;
  DemoUpstream app_{"app"};
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(CircuitBreakerTest, MaxActiveRequestsRefusesTheOneTooMany) {
  start({{"app", {{"max_active_requests", 2}}}}, {{"app", {app_.address()}, ""}});

  // Two slow requests in flight on their own connections.
  HttpClient first(proxy_->port()), second(proxy_->port());
  ASSERT_TRUE(first.send(requestText("GET", "/slow/1500")));
  ASSERT_TRUE(second.send(requestText("GET", "/slow/1500")));
  ASSERT_TRUE(eventually([&] {
    return metric("remora_filter_circuit_breaker_active_requests", "app") == 2;
  })) << proxy_->metrics();

  expectRefused(proxy_->get("/"), "upstream overloaded\n");
  EXPECT_EQ(metric("remora_filter_circuit_breaker_overloaded_total", "app"), 1);

  HttpResponse r1 = first.readResponse();
  HttpResponse r2 = second.readResponse();
  EXPECT_EQ(r1.status, 200) << r1.error;
  EXPECT_EQ(r2.status, 200) << r2.error;
  // Room again once they are done.
  EXPECT_TRUE(eventually([&] { return proxy_->get("/").status == 200; }));
  EXPECT_EQ(metric("remora_filter_circuit_breaker_active_requests", "app"), 0);
}

TEST_F(CircuitBreakerTest, AClientLeavingFreesItsSlot) {
  start({{"app", {{"max_active_requests", 1}}}}, {{"app", {app_.address()}, ""}});
  for (int i = 0; i < 3; ++i) {
    HttpClient gone(proxy_->port());
    ASSERT_TRUE(gone.send(requestText("GET", "/slow/5000")));
    ASSERT_TRUE(eventually(
        [&] { return metric("remora_filter_circuit_breaker_active_requests", "app") == 1; }));
    expectRefused(proxy_->get("/"), "upstream overloaded\n");
    gone.close();
    // The reset stream still runs on_log, which gives the slot back.
    EXPECT_TRUE(eventually([&] { return proxy_->get("/").status == 200; })) << i;
  }
  EXPECT_EQ(metric("remora_filter_circuit_breaker_active_requests", "app"), 0);
}

TEST_F(CircuitBreakerTest, ConsecutiveFailuresOpenThenHalfOpenAfterCoolDown) {
  json breaker = {{"consecutive_failures", 3},
                  {"failure_ratio", 0},
                  {"cool_down", "1s"},
                  {"half_open_probes", 1}};
  start({{"app", {{"max_active_requests", 100}, {"breaker", breaker}}}},
        {{"app", {app_.address()}, ""}});

  for (int i = 0; i < 3; ++i) EXPECT_EQ(proxy_->get("/status/500").status, 500) << i;
  // Open: refused without calling the upstream, whatever the path.
  expectRefused(proxy_->get("/"), "circuit open\n");
  EXPECT_EQ(metric("remora_filter_circuit_breaker_open", "app"), 1);
  EXPECT_EQ(metric("remora_filter_circuit_breaker_opened_total", "app"), 1);
  EXPECT_GE(metric("remora_filter_circuit_breaker_rejected_open_total", "app"), 1);

  // After the cool-down one probe goes through; it fails, so the breaker opens again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(proxy_->get("/status/500").status, 500);
  expectRefused(proxy_->get("/"), "circuit open\n");
  EXPECT_EQ(metric("remora_filter_circuit_breaker_opened_total", "app"), 2);

  // After another cool-down a successful probe closes it.
  HttpResponse probe;
  ASSERT_TRUE(eventually(
      [&] {
        probe = proxy_->get("/");
        return probe.status != 503;
      },
      std::chrono::seconds(3)));
  EXPECT_EQ(probe.status, 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(proxy_->get("/").status, 200);
  EXPECT_EQ(metric("remora_filter_circuit_breaker_open", "app"), 0);
  EXPECT_EQ(metric("remora_filter_circuit_breaker_half_open", "app"), 0);
}

TEST_F(CircuitBreakerTest, OutlierEjectionShowsInAdminClustersAndMetrics) {
  StubServer failing([](const StubRequest&) {
    return StubResponse{500, {{"x-upstream", "failing"}}, "broken\n"};
  });
  json outlier = {{"consecutive_5xx", 2}, {"base_ejection", "30s"}, {"max_ejection_percent", 50}};
  start({{"pair", {{"max_active_requests", 100}, {"outlier", outlier}}}},
        {{"app", {app_.address()}, ""}, {"pair", {app_.address(), failing.address()}, ""}});

  // Round robin alternates the endpoints; the failing one is out after its second 500.
  for (int i = 0; i < 4; ++i) proxy_->get("/pair/x");
  EXPECT_EQ(failing.requests(), 2u);

  // The ejection reaches the workers (and /clusters) through a post from the main thread.
  json clusters;
  json pair;
  auto read_pair = [&] {
    clusters = adminJson(proxy_->adminPort(), "/clusters");
    pair = json();
    for (const json& c : clusters["clusters"])
      if (c["name"] == "pair") pair = c;
    if (!pair.is_object()) return false;
    for (const json& e : pair["endpoints"])
      if (e["address"] == failing.address() && e["state"] == "ejected") return true;
    return false;
  };
  eventually(read_pair, std::chrono::seconds(2));
  ASSERT_TRUE(pair.is_object()) << clusters.dump(2);
  ASSERT_EQ(pair["endpoints"].size(), 2u);
  for (const json& e : pair["endpoints"]) {
    bool is_failing = e["address"] == failing.address();
    EXPECT_EQ(e["state"], is_failing ? "ejected" : "healthy") << e.dump();
    if (is_failing) {
      EXPECT_NE(e.value("reason", "").find("outlier ejection"), std::string::npos);
    }
  }
  EXPECT_EQ(metric("remora_filter_circuit_breaker_ejections_total", "pair"), 1);

  // While ejected, every request goes to the healthy endpoint.
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = proxy_->get("/pair/x");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-upstream"), "app");
  }
  EXPECT_EQ(failing.requests(), 2u);
  EXPECT_NE(proxy_->remora().output().find("ejected"), std::string::npos);
}

TEST_F(CircuitBreakerTest, MaxPendingRequestsRefusesPastTheQueueAndServesTheQueued) {
  // One connection to the upstream, so every request behind the first one waits for it. The
  // kernel's own queue bound (max_pending_requests: 1024 by default) is far away.
  start({{"app", {{"max_active_requests", 100}, {"max_pending_requests", 2}}}},
        {{"app", {app_.address()}, "max_connections_per_endpoint: 1\n"}});

  HttpClient holder(proxy_->port());
  ASSERT_TRUE(holder.send(requestText("GET", "/slow/1500")));
  ASSERT_TRUE(eventually([&] {
    return metric("remora_filter_circuit_breaker_active_requests", "app") == 1;
  })) << proxy_->metrics();
  // Two wait for the connection: the most max_pending_requests allows.
  HttpClient queued1(proxy_->port()), queued2(proxy_->port());
  ASSERT_TRUE(queued1.send(requestText("GET", "/queued/1")));
  ASSERT_TRUE(queued2.send(requestText("GET", "/queued/2")));
  ASSERT_TRUE(eventually([&] {
    return metric("remora_filter_circuit_breaker_active_requests", "app") == 3;
  })) << proxy_->metrics();

  // A third would wait too: refused at once, the slow request still running.
  for (int i = 0; i < 2; ++i) {
    HttpResponse r = proxy_->get("/refused");
    expectRefused(r, "upstream overloaded\n");
  }
  EXPECT_EQ(metric("remora_filter_circuit_breaker_pending_overflow_total", "app"), 2);
  EXPECT_EQ(metric("remora_filter_circuit_breaker_overloaded_total", "app"), 0);

  // The queued ones are served once the connection is free.
  HttpResponse r0 = holder.readResponse();
  HttpResponse r1 = queued1.readResponse();
  HttpResponse r2 = queued2.readResponse();
  EXPECT_EQ(r0.status, 200) << r0.error;
  EXPECT_EQ(r1.status, 200) << r1.error;
  EXPECT_EQ(r2.status, 200) << r2.error;
  EXPECT_EQ(r1.header("x-upstream"), "app");
  // Nothing waits any more: a new request is served.
  EXPECT_EQ(proxy_->get("/").status, 200);
  EXPECT_EQ(metric("remora_filter_circuit_breaker_pending_overflow_total", "app"), 2);
}

TEST_F(CircuitBreakerTest, MaxRetriesSkipsRetriesPastTheBudgetAndFreesItsSlot) {
  // /retry/slow fails once, then its retry takes a second; /retry/fail always fails.
  std::atomic<int> slow_calls{0};
  StubServer flaky([&](const StubRequest& req) {
    if (req.target == "/retry/slow" && slow_calls.fetch_add(1) > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1000));
      return StubResponse{200, {{"x-upstream", "flaky"}}, "ok\n"};
    }
    return StubResponse{503, {{"x-upstream", "flaky"}}, "busy\n"};
  });
  auto count = [&](const std::string& target) {
    int n = 0;
    for (const StubRequest& r : flaky.received()) n += r.target == target ? 1 : 0;
    return n;
  };
  json router = {{"routes",
                  {{{"match", {{"prefix", "/"}}},
                    {"cluster", "flaky"},
                    {"retry", {{"attempts", 2}, {"on", {"5xx"}}}}}}}};
  start(router, {{"flaky", {{"max_active_requests", 100}, {"max_retries", 1}}}},
        {{"flaky", {flaky.address()}, ""}});

  // One stream on its retry holds the worker's only retry slot...
  HttpClient retrying(proxy_->port());
  ASSERT_TRUE(retrying.send(requestText("GET", "/retry/slow")));
  ASSERT_TRUE(eventually([&] { return count("/retry/slow") == 2; })) << count("/retry/slow");

  // ... so another stream's failure is answered as it is, without a retry.
  HttpResponse failed = proxy_->get("/retry/fail");
  EXPECT_EQ(failed.status, 503);
  EXPECT_EQ(failed.body, "busy\n");
  EXPECT_EQ(failed.header("x-upstream"), "flaky");
  EXPECT_FALSE(failed.has("x-remora-overloaded"));
  EXPECT_EQ(count("/retry/fail"), 1);
  EXPECT_EQ(metric("remora_filter_circuit_breaker_retry_overflow_total", "flaky"), 1);

  HttpResponse slow = retrying.readResponse();
  EXPECT_EQ(slow.status, 200) << slow.error;
  EXPECT_EQ(slow.body, "ok\n");

  // The slot is free again once that stream ended: this one retries, up to the route's 2.
  ASSERT_TRUE(eventually(
      [&] { return metric("remora_filter_circuit_breaker_active_requests", "flaky") == 0; }));
  EXPECT_EQ(proxy_->get("/retry/fail").status, 503);
  EXPECT_EQ(count("/retry/fail"), 4);
  EXPECT_EQ(metric("remora_filter_circuit_breaker_retry_overflow_total", "flaky"), 1);
}

TEST_F(CircuitBreakerTest, MaxRetriesZeroMeansNoRetry) {
  StubServer failing([](const StubRequest&) { return StubResponse{502, {}, "bad gateway\n"}; });
  json router = {{"routes",
                  {{{"match", {{"prefix", "/"}}},
                    {"cluster", "app"},
                    {"retry", {{"attempts", 3}, {"on", {"5xx"}}}}}}}};
  start(router, {{"app", {{"max_active_requests", 100}, {"max_retries", 0}}}},
        {{"app", {failing.address()}, ""}});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(proxy_->get("/").status, 502) << i;
  EXPECT_EQ(failing.requests(), 3u);  // one try each, no retry
  EXPECT_EQ(metric("remora_filter_circuit_breaker_retry_overflow_total", "app"), 3);
}

}  // namespace
}  // namespace remora::test
