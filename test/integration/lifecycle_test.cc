// The sidecar's life through the real binary: SIGTERM drains (readiness fails first, in-flight
// requests finish, keep-alive connections are told to close, exit 0 by the deadline), and
// SIGHUP reloads the config file, keeping the running config when the new one is invalid.

#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

TEST(Lifecycle, SigtermDrainsInFlightRequests) {
  ProxySpec spec;
  spec.drain = "{ grace_period: 800ms, deadline: 5s }";
  ProxyUnderTest proxy(spec);
  UpstreamStats stats(proxy.upstream().port());

  HttpClient keep_alive(proxy.port());
  ASSERT_EQ(keep_alive.request("GET", "/").status, 200);
  std::vector<std::unique_ptr<HttpClient>> in_flight;
  for (int i = 0; i < 3; ++i) {
    in_flight.push_back(std::make_unique<HttpClient>(proxy.port()));
    ASSERT_TRUE(in_flight.back()->send(requestText("GET", "/slow/2000")));
  }
  ASSERT_TRUE(waitUntil([&] { return stats.read().requests == 4; }, seconds(5)));

  auto sigterm = Clock::now();
  proxy.remora().process().kill(SIGTERM);
  // Readiness fails at once, so a load balancer stops sending...
  ASSERT_TRUE(
      waitUntil([&] { return adminGet(proxy.adminPort(), "/ready").status == 503; }, seconds(2)));
  // ...while the proxy keeps serving through the grace period, new connections included.
  HttpClient latecomer(proxy.port());
  EXPECT_EQ(latecomer.request("GET", "/").status, 200);
  // This response comes after the grace period: it must tell the client to go away.
  ASSERT_TRUE(keep_alive.send(requestText("GET", "/slow/1000")));
  ASSERT_LT(Clock::now() - sigterm, milliseconds(700)) << "too slow to test the grace period";

  HttpResponse last = keep_alive.readResponse();
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.header("connection"), "close");
  EXPECT_TRUE(keep_alive.closedByPeer());
  EXPECT_TRUE(latecomer.closedByPeer());  // idle once the grace period ended
  for (auto& c : in_flight) {
    HttpResponse r = c->readResponse();
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "hello from up0\n");
    EXPECT_EQ(r.header("connection"), "close");
    c->close();  // else remora lingers for this client's EOF before it counts as gone
  }
  keep_alive.close();
  latecomer.close();

  auto exit = proxy.remora().process().waitExit(seconds(5));
  ASSERT_TRUE(exit.has_value()) << "still running after the drain deadline";
  EXPECT_TRUE(exit->exitedWith(0)) << exit->describe();
  EXPECT_LT(Clock::now() - sigterm, seconds(4));
  EXPECT_NE(proxy.remora().output().find("drained: no connection left"), std::string::npos);
}

TEST(Lifecycle, DrainDeadlineEndsRequestsThatRunTooLong) {
  ProxySpec spec;
  spec.drain = "{ grace_period: 0s, deadline: 500ms }";
  ProxyUnderTest proxy(spec);
  UpstreamStats stats(proxy.upstream().port());
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send(requestText("GET", "/slow/10000")));
  ASSERT_TRUE(waitUntil([&] { return stats.read().requests == 1; }, seconds(5)));
  auto sigterm = Clock::now();
  proxy.remora().process().kill(SIGTERM);
  auto exit = proxy.remora().process().waitExit(seconds(5));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exitedWith(0)) << exit->describe();
  EXPECT_GE(Clock::now() - sigterm, milliseconds(400));
  EXPECT_LT(Clock::now() - sigterm, seconds(3));
  EXPECT_FALSE(client.readResponse().ok());
  EXPECT_NE(proxy.remora().output().find("drain deadline reached"), std::string::npos);
}

TEST(Lifecycle, SecondSigtermExitsAtOnce) {
  ProxySpec spec;
  spec.drain = "{ grace_period: 30s, deadline: 30s }";
  ProxyUnderTest proxy(spec);
  auto start = Clock::now();
  proxy.remora().process().kill(SIGTERM);
  ASSERT_TRUE(
      waitUntil([&] { return adminGet(proxy.adminPort(), "/ready").status == 503; }, seconds(2)));
  proxy.remora().process().kill(SIGTERM);
  auto exit = proxy.remora().process().waitExit(seconds(5));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exitedWith(0)) << exit->describe();
  EXPECT_LT(Clock::now() - start, seconds(3));
}

// Two clusters, one per upstream; the listener's only route goes to `route_to`.
std::string twoClusterConfig(uint16_t port, uint16_t admin, const DemoUpstream& a,
                             const DemoUpstream& b, const std::string& route_to,
                             const std::string& connect_timeout = "1s") {
  std::ostringstream y;
  y << "workers: 1\n"
    << "admin: { address: 127.0.0.1:" << admin << " }\n"
    << "drain: { grace_period: 0s, deadline: 5s }\n"
    << "listeners:\n"
    << "  - name: ingress\n"
    << "    address: 127.0.0.1:" << port << "\n"
    << "    routes: [ { prefix: /, cluster: " << route_to << " } ]\n"
    << "clusters:\n"
    << "  - name: app\n"
    << "    endpoints: [" << a.address() << "]\n"
    << "    connect_timeout: " << connect_timeout << "\n"
    << "  - name: other\n"
    << "    endpoints: [" << b.address() << "]\n";
  return y.str();
}

TEST(Lifecycle, SighupWithAnInvalidFileKeepsTheRunningConfig) {
  DemoUpstream a("up0"), b("up1");
  uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(twoClusterConfig(port, admin, a, b, "app"));
  HttpClient client(port);
  ASSERT_EQ(client.request("GET", "/").header("x-upstream"), "up0");

  remora.reload(twoClusterConfig(port, admin, a, b, "other", "soon"));
  ASSERT_TRUE(remora.process().waitForOutput("refused", seconds(5))) << remora.output();
  EXPECT_NE(remora.output().find("clusters[0].connect_timeout"), std::string::npos)
      << remora.output();
  EXPECT_TRUE(remora.process().running());
  EXPECT_EQ(client.request("GET", "/").header("x-upstream"), "up0");
  HttpClient fresh(port);
  EXPECT_EQ(fresh.request("GET", "/").header("x-upstream"), "up0");
  nlohmann::json config = nlohmann::json::parse(adminGet(admin, "/config").body);
  EXPECT_EQ(config["listeners"][0]["routes"][0]["cluster"], "app");
}

TEST(Lifecycle, SighupWithAValidFileTakesEffect) {
  DemoUpstream a("up0"), b("up1");
  uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(twoClusterConfig(port, admin, a, b, "app"));
  HttpClient client(port);
  ASSERT_EQ(client.request("GET", "/").header("x-upstream"), "up0");
  // A request in flight across the reload finishes where it started.
  HttpClient in_flight(port);
  UpstreamStats stats(a.port());
  ASSERT_TRUE(in_flight.send(requestText("GET", "/slow/500")));
  ASSERT_TRUE(waitUntil([&] { return stats.read().requests == 2; }, seconds(5)));

  remora.reload(twoClusterConfig(port, admin, a, b, "other"));
  ASSERT_TRUE(remora.process().waitForOutput("(source: sighup)", seconds(5))) << remora.output();
  HttpResponse old = in_flight.readResponse();
  EXPECT_EQ(old.status, 200);
  EXPECT_EQ(old.header("x-upstream"), "up0");
  // The listener socket stayed open, and the kept-alive connection takes the new route too.
  EXPECT_EQ(client.request("GET", "/").header("x-upstream"), "up1");
  HttpClient fresh(port);
  EXPECT_EQ(fresh.request("GET", "/").header("x-upstream"), "up1");
  nlohmann::json config = nlohmann::json::parse(adminGet(admin, "/config").body);
  EXPECT_EQ(config["listeners"][0]["routes"][0]["cluster"], "other");
}

// Clusters whose config did not change keep their pooled upstream connections across a reload.
TEST(Lifecycle, SighupKeepsThePoolsOfUnchangedClusters) {
  DemoUpstream a("up0"), b("up1");
  uint16_t port = freePort(), admin = freePort();
  const std::string before = twoClusterConfig(port, admin, a, b, "app");
  RemoraProcess remora(before);
  HttpClient client(port);
  ASSERT_EQ(client.request("GET", "/").status, 200);
  std::string after = before;
  after.insert(after.find("    routes:"), "    timeouts: { idle: 30s }\n");
  remora.reload(after);
  ASSERT_TRUE(remora.process().waitForOutput("(source: sighup)", seconds(5))) << remora.output();
  ASSERT_EQ(client.request("GET", "/").status, 200);
  HttpClient fresh(port);
  ASSERT_EQ(fresh.request("GET", "/").status, 200);
  UpstreamCounts counts = UpstreamStats(a.port()).read();
  EXPECT_EQ(counts.requests, 3u);
  EXPECT_EQ(counts.connections, 1u);
}

// A reload that adds a listener opens it; one that drops it closes it.
TEST(Lifecycle, SighupAddsAndRemovesListeners) {
  DemoUpstream a("up0"), b("up1");
  uint16_t port = freePort(), admin = freePort(), extra = freePort();
  const std::string base = twoClusterConfig(port, admin, a, b, "app");
  RemoraProcess remora(base);
  std::string with_extra = base;
  with_extra.insert(with_extra.find("clusters:\n"),
                    "  - name: extra\n    address: 127.0.0.1:" + std::to_string(extra) +
                        "\n    routes: [ { prefix: /, cluster: other } ]\n");
  remora.reload(with_extra);
  ASSERT_TRUE(waitUntil([&] { return httpGet(extra, "/") == "hello from up1\n"; }, seconds(5)))
      << remora.output();
  EXPECT_EQ(httpGet(port, "/"), "hello from up0\n");

  remora.reload(base);
  ASSERT_TRUE(
      waitUntil([&] { return !HttpClient(extra, milliseconds(200)).connected(); }, seconds(5)));
  EXPECT_EQ(httpGet(port, "/"), "hello from up0\n");
}

}  // namespace
}  // namespace remora::test
