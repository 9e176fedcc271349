// etcd as the fleet's config source, registry and discovery (DESIGN §6), against a real etcd
// started by the test and the real remora binary.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/demo_upstream.h"
#include "common/etcd_server.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The config pushed through etcd: the listener routes / to one cluster of `endpoint`.
std::string pushedConfig(uint16_t listener_port, const std::string& endpoint) {
  return "drain: { grace_period: 0s, deadline: 2s }\n"
         "listeners:\n"
         "  - name: ingress\n"
         "    address: 127.0.0.1:" +
         std::to_string(listener_port) +
         "\n"
         "    routes: [ { prefix: /, cluster: app } ]\n"
         "clusters:\n"
         "  - name: app\n"
         "    endpoints: [" +
         endpoint + "]\n";
}

// The startup file: the same shape, plus the etcd source and any extra top-level YAML.
std::string startupConfig(uint16_t listener_port, uint16_t admin_port, const EtcdServer& etcd,
                          const std::string& cluster_yaml, const std::string& extra = "") {
  return "workers: 1\n"
         "admin: { address: 127.0.0.1:" +
         std::to_string(admin_port) +
         " }\n"
         "drain: { grace_period: 0s, deadline: 2s }\n"
         "sources:\n"
         "  etcd: { endpoints: [" +
         etcd.endpoint() + "], prefix: /remora/web/, instance: i1 }\n" + extra +
         "listeners:\n"
         "  - name: ingress\n"
         "    address: 127.0.0.1:" +
         std::to_string(listener_port) +
         "\n"
         "    routes: [ { prefix: /, cluster: app } ]\n"
         "clusters:\n"
         "  - name: app\n" +
         cluster_yaml;
}

std::string upstreamOf(uint16_t port) {
  HttpClient c(port, seconds(3));
  HttpResponse r = c.request("GET", "/", {{"connection", "close"}});
  return r.status == 200 ? r.header("x-upstream") : "status " + std::to_string(r.status);
}

nlohmann::json status(EtcdServer& etcd) {
  auto text = etcd.get("/remora/web/status/i1");
  if (!text) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

TEST(Etcd, ConfigPutIsAppliedAndAcked) {
  EtcdServer etcd;
  DemoUpstream up0("up0"), up1("up1");
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(
      startupConfig(port, admin, etcd, "    endpoints: [" + up0.address() + "]\n"));
  ASSERT_EQ(upstreamOf(port), "up0");
  ASSERT_TRUE(etcd.put("/remora/web/config", pushedConfig(port, up1.address())));
  EXPECT_TRUE(waitUntil([&] { return upstreamOf(port) == "up1"; }, seconds(5)));
  ASSERT_TRUE(waitUntil([&] { return status(etcd).value("state", "") == "ACK"; }, seconds(5)));
  nlohmann::json s = status(etcd);
  EXPECT_EQ(s["version"], 2);
  EXPECT_EQ(s["instance"], "i1");
  EXPECT_EQ(s["revision"], s["applied_revision"]);
  // The process-level fields stay the startup file's: the sources survive the push.
  EXPECT_NE(httpGet(admin, "/config?format=yaml").find("prefix: /remora/web/"), std::string::npos);
}

TEST(Etcd, InvalidConfigIsNackedAndTheOldOneKeepsServing) {
  EtcdServer etcd;
  DemoUpstream up0("up0");
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(
      startupConfig(port, admin, etcd, "    endpoints: [" + up0.address() + "]\n"));
  std::string bad = pushedConfig(port, up0.address());
  bad.replace(bad.find("cluster: app"), 12, "cluster: nope");
  ASSERT_TRUE(etcd.put("/remora/web/config", bad));
  ASSERT_TRUE(waitUntil([&] { return status(etcd).value("state", "") == "NACK"; }, seconds(5)));
  nlohmann::json s = status(etcd);
  ASSERT_TRUE(s["errors"].is_array());
  ASSERT_EQ(s["errors"].size(), 1u) << s.dump();
  EXPECT_EQ(s["errors"][0], "listeners[0].routes[0].cluster: unknown cluster \"nope\"");
  EXPECT_EQ(s["version"], 1);  // still the startup config
  EXPECT_EQ(s["applied_revision"], "0");
  EXPECT_EQ(upstreamOf(port), "up0");

  // One string per error, each whole: a field named with ": " or a newline does not become two.
  const std::string revision = s["revision"];
  ASSERT_TRUE(etcd.put("/remora/web/config", "\"odd: key\": 1\n\"two\\nlines\": 1\n" + bad));
  ASSERT_TRUE(
      waitUntil([&] { return status(etcd).value("revision", "") != revision; }, seconds(5)));
  EXPECT_EQ(status(etcd)["errors"],
            nlohmann::json::array({"odd: key: unknown field", "two\nlines: unknown field",
                                   "listeners[0].routes[0].cluster: unknown cluster \"nope\""}));
}

TEST(Etcd, KeepsServingWhileEtcdIsDownAndResumesAfterRestart) {
  EtcdServer etcd;
  DemoUpstream up0("up0"), up1("up1");
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(
      startupConfig(port, admin, etcd, "    endpoints: [" + up0.address() + "]\n"));
  ASSERT_TRUE(
      waitUntil([&] { return remora.output().find("watching") != std::string::npos; }, seconds(5)));
  etcd.stop();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(upstreamOf(port), "up0") << "request " << i;
  etcd.restart();
  ASSERT_TRUE(etcd.put("/remora/web/config", pushedConfig(port, up1.address())));
  // The watch reconnects within its backoff (at most 5 s) and picks the put up.
  EXPECT_TRUE(waitUntil([&] { return upstreamOf(port) == "up1"; }, seconds(10))) << remora.output();
  EXPECT_TRUE(waitUntil([&] { return status(etcd).value("state", "") == "ACK"; }, seconds(5)));
}

TEST(Etcd, ResumeFromACompactedRevisionReadsTheKeyAgain) {
  EtcdServer etcd;
  DemoUpstream up0("up0"), up1("up1");
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(
      startupConfig(port, admin, etcd, "    endpoints: [" + up0.address() + "]\n"));
  ASSERT_TRUE(
      waitUntil([&] { return remora.output().find("watching") != std::string::npos; }, seconds(5)));
  etcd.stop();
  // Wait until the sidecar's backoff is long (a retry delay of 2.5 s or more), so the writes
  // and the compaction below happen while it is still away.
  auto longDelay = [&] {
    const std::string out = remora.output();
    for (size_t at = out.find("retrying in "); at != std::string::npos;
         at = out.find("retrying in ", at + 1)) {
      if (std::stol(out.substr(at + 12)) >= 2500) return true;
    }
    return false;
  };
  ASSERT_TRUE(waitUntil(longDelay, seconds(15))) << remora.output();
  etcd.restart();
  ASSERT_TRUE(etcd.put("/remora/web/other", "x"));
  ASSERT_TRUE(etcd.put("/remora/web/config", pushedConfig(port, up1.address())));
  ASSERT_TRUE(etcd.compact(etcd.revision()));
  EXPECT_TRUE(waitUntil([&] { return upstreamOf(port) == "up1"; }, seconds(10))) << remora.output();
  EXPECT_NE(remora.output().find("compacted; reading it again"), std::string::npos)
      << "the sidecar reconnected before the compaction: the test proved nothing";
}

TEST(Etcd, RegistrationDisappearsWithinTtlAfterKill9) {
  EtcdServer etcd;
  DemoUpstream up0("up0");
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(
      startupConfig(port, admin, etcd, "    endpoints: [" + up0.address() + "]\n",
                    "registration: { service: web, address: " + up0.address() + ", ttl: 2s }\n"));
  const std::string key = "/remora/services/web/i1";
  ASSERT_TRUE(waitUntil([&] { return etcd.get(key).has_value(); }, seconds(5)));
  nlohmann::json v = nlohmann::json::parse(etcd.get(key).value_or("{}"), nullptr, false);
  EXPECT_EQ(v.value("address", ""), up0.address());
  // Alive for longer than the TTL: the keepalives hold the key.
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_TRUE(etcd.get(key).has_value());
  remora.process().kill(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  // etcd expires leases on its own clock; allow the TTL plus its 1 s check granularity.
  EXPECT_TRUE(waitUntil([&] { return !etcd.get(key).has_value(); }, seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, seconds(4));
}

TEST(Etcd, EtcdClusterFollowsPutsAndDeletes) {
  EtcdServer etcd;
  DemoUpstream up0("up0"), up1("up1");
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(startupConfig(port, admin, etcd,
                                     "    type: etcd\n"
                                     "    discovery: { prefix: /svc/app/ }\n"));
  EXPECT_EQ(upstreamOf(port), "status 503");  // no endpoint yet
  ASSERT_TRUE(etcd.put("/svc/app/a", up0.address()));
  EXPECT_TRUE(waitUntil([&] { return upstreamOf(port) == "up0"; }, seconds(5)));
  // The registration format works too. Both endpoints now take traffic (round robin), and
  // up0's pool survived the change: still the one upstream connection it had.
  ASSERT_TRUE(etcd.put("/svc/app/b", "{\"address\":\"" + up1.address() + "\"}"));
  EXPECT_TRUE(waitUntil([&] { return upstreamOf(port) == "up1"; }, seconds(5)));
  EXPECT_EQ(upstreamOf(port), "up0");
  EXPECT_EQ(UpstreamStats(up0.port()).read().connections, 1u);
  ASSERT_TRUE(etcd.del("/svc/app/a"));
  EXPECT_TRUE(waitUntil([&] { return upstreamOf(port) == "up1"; }, seconds(5)));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(upstreamOf(port), "up1");
  nlohmann::json clusters = nlohmann::json::parse(httpGet(admin, "/clusters"), nullptr, false);
  ASSERT_FALSE(clusters.is_discarded());
  EXPECT_EQ(clusters["clusters"][0]["type"], "etcd");
  ASSERT_EQ(clusters["clusters"][0]["endpoints"].size(), 1u);
  EXPECT_EQ(clusters["clusters"][0]["endpoints"][0]["address"], up1.address());
  nlohmann::json config = nlohmann::json::parse(httpGet(admin, "/config"), nullptr, false);
  ASSERT_FALSE(config.is_discarded());
  EXPECT_EQ(config["clusters"][0]["discovery"]["prefix"], "/svc/app/");
  EXPECT_EQ(config["sources"]["etcd"]["instance"], "i1");
}

TEST(Etcd, DnsClusterResolvesLocalhost) {
  DemoUpstream up0("up0");
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(
      "workers: 1\n"
      "admin: { address: 127.0.0.1:" +
      std::to_string(admin) +
      " }\n"
      "drain: { grace_period: 0s, deadline: 2s }\n"
      "listeners:\n"
      "  - name: ingress\n"
      "    address: 127.0.0.1:" +
      std::to_string(port) +
      "\n"
      "    routes: [ { prefix: /, cluster: app } ]\n"
      "clusters:\n"
      "  - name: app\n"
      "    type: dns\n"
      "    discovery: { hosts: [\"localhost:" +
      std::to_string(up0.port()) + "\"], refresh: 1s }\n");
  EXPECT_TRUE(waitUntil([&] { return upstreamOf(port) == "up0"; }, seconds(5)));
  nlohmann::json clusters = nlohmann::json::parse(httpGet(admin, "/clusters"), nullptr, false);
  ASSERT_FALSE(clusters.is_discarded());
  EXPECT_EQ(clusters["clusters"][0]["type"], "dns");
  ASSERT_EQ(clusters["clusters"][0]["endpoints"].size(), 1u);
  EXPECT_EQ(clusters["clusters"][0]["endpoints"][0]["address"], up0.address());
}

}  // namespace
}  // namespace remora::test
