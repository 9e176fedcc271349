// The TCP proxy and protocol detection through the real binary with real peers: redis-server
// with redis-cli and redis-benchmark, socat for half-close and a server-speaks-first banner,
// openssl s_server / s_client for TLS passthrough by SNI, and the demo upstream for HTTP on the
// same auto-detecting port.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/harness.h"
#include "common/tls_env.h"

namespace remora::test {
namespace {

using namespace std::chrono_literals;

std::string num(uint16_t p) {
  return std::to_string(p);
}

// Runs `cmd` under bash, waits up to 20 s, and returns its output (stdout and stderr).
std::string run(const std::string& cmd) {
  Process p({"/bin/bash", "-c", cmd});
  if (!p.waitExit(20s)) p.kill(SIGKILL);
  return p.output();
}

bool waitListening(uint16_t p) {
  return waitUntil([&] { return HttpClient(p).connected(); }, 5s);
}

class Redis {
 public:
  Redis()
      : port_(freePort()),
        server_({"/usr/bin/redis-server", "--port", num(port_), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"}) {
    if (!server_.waitForOutput("Ready to accept connections", 10s))
      throw std::runtime_error("redis-server did not start: " + server_.output());
  }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
  Process server_;
};

std::string tcpConfig(uint16_t listen, uint16_t admin, const std::string& listener_yaml,
                      const std::string& clusters_yaml) {
  return "workers: 1\nadmin: {address: 127.0.0.1:" + num(admin) +
         "}\ndrain: {grace_period: 0s, deadline: 5s}\nlisteners:\n  - name: front\n    address: "
         "127.0.0.1:" +
         num(listen) + "\n" + listener_yaml + "clusters:\n" + clusters_yaml;
}

std::string cluster(const std::string& name, uint16_t p) {
  return "  - name: " + name + "\n    endpoints: [127.0.0.1:" + num(p) + "]\n";
}

TEST(TcpProxy, RedisThroughATcpListener) {
  Redis redis;
  const uint16_t listen = freePort(), admin = freePort();
  RemoraProcess remora(tcpConfig(listen, admin, "    protocol: tcp\n    tcp: {cluster: redis}\n",
                                 cluster("redis", redis.port())));
  EXPECT_EQ(run("redis-cli -p " + num(listen) + " ping"), "PONG\n");
  EXPECT_EQ(run("redis-cli -p " + num(listen) + " set k remora"), "OK\n");
  EXPECT_EQ(run("redis-cli -p " + num(listen) + " get k"), "remora\n");
  const std::string bench = run("redis-benchmark -p " + num(listen) +
                                " -n 2000 -c 10 -t set,get -q 2>&1 | tr '\\r' '\\n'");
  EXPECT_NE(bench.find("SET: "), std::string::npos) << bench;
  EXPECT_NE(bench.find("GET: "), std::string::npos) << bench;
  EXPECT_TRUE(waitUntil(
      [&] { return scrapeMetric(admin, "remora_downstream_tcp_connections_active") == 0; }, 5s));
  EXPECT_GE(scrapeMetric(admin, "remora_downstream_tcp_connections_total"), 13);
  EXPECT_GT(scrapeMetric(admin, "remora_downstream_tcp_bytes_total", {"direction=\"received\""}),
            2000 * 20);
  EXPECT_GT(scrapeMetric(admin, "remora_upstream_tcp_bytes_total",
                         {"cluster=\"redis\"", "direction=\"received\""}),
            2000 * 4);
  EXPECT_EQ(
      scrapeMetric(admin, "remora_downstream_tcp_closes_total", {"reason=\"upstream_reset\""}), 0);
}

TEST(TcpProxy, AutoDetectsHttpAndRedisOnOnePort) {
  Redis redis;
  DemoUpstream app("app");
  const uint16_t listen = freePort(), admin = freePort();
  RemoraProcess remora(tcpConfig(
      listen, admin,
      "    protocol: auto\n    tcp: {cluster: redis}\n    routes: [{prefix: /, cluster: app}]\n",
      cluster("redis", redis.port()) + cluster("app", app.port())));
  HttpClient client(listen);
  HttpResponse r = client.request("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello from app\n");
  EXPECT_EQ(run("redis-cli -p " + num(listen) + " ping"), "PONG\n");
  EXPECT_EQ(run("curl -s --http2-prior-knowledge http://127.0.0.1:" + num(listen) + "/"),
            "hello from app\n");
  EXPECT_EQ(scrapeMetric(admin, "remora_protocol_detections_total", {"protocol=\"http1\""}), 1);
  EXPECT_EQ(scrapeMetric(admin, "remora_protocol_detections_total", {"protocol=\"h2c\""}), 1);
  EXPECT_EQ(scrapeMetric(admin, "remora_protocol_detections_total", {"protocol=\"tcp\""}), 1);
}

TEST(TcpProxy, HalfCloseKeepsTheOtherDirectionOpen) {
  // The upstream answers only after the client's FIN: the answer must still arrive.
  const uint16_t up = freePort();
  Process server({"/usr/bin/socat", "TCP-LISTEN:" + num(up) + ",bind=127.0.0.1,reuseaddr,fork",
                  "SYSTEM:cat; echo after-eof"});
  ASSERT_TRUE(waitListening(up));
  const uint16_t listen = freePort(), admin = freePort();
  RemoraProcess remora(
      tcpConfig(listen, admin, "    protocol: tcp\n    tcp: {cluster: up}\n", cluster("up", up)));
  EXPECT_EQ(run("printf 'hello\\n' | socat -t 5 - TCP:127.0.0.1:" + num(listen)),
            "hello\nafter-eof\n");
  EXPECT_TRUE(waitUntil(
      [&] {
        return scrapeMetric(admin, "remora_downstream_tcp_closes_total", {"reason=\"done\""}) == 1;
      },
      5s));
}

TEST(TcpProxy, ServerSpeaksFirstOnAnOpaquePortAndAfterTheDetectionTimeout) {
  const uint16_t up = freePort();
  Process server({"/usr/bin/socat", "TCP-LISTEN:" + num(up) + ",bind=127.0.0.1,reuseaddr,fork",
                  "SYSTEM:echo SSH-2.0-banner; sleep 2"});
  std::this_thread::sleep_for(300ms);
  const uint16_t listen = freePort(), admin = freePort();
  // The listener's own port is opaque: no detection, the banner comes at once.
  RemoraProcess remora(tcpConfig(
      listen, admin,
      "    protocol: auto\n    detection_timeout: 10s\n    opaque_ports: [" + num(listen) +
          "]\n    tcp: {cluster: up}\n    routes: [{prefix: /, cluster: up}]\n",
      cluster("up", up)));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(run("socat -T 1 -u TCP:127.0.0.1:" + num(listen) + " - | head -1"), "SSH-2.0-banner\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  remora.stop();

  // Not opaque: the client says nothing, so after detection_timeout it is opaque TCP.
  const uint16_t listen2 = freePort(), admin2 = freePort();
  RemoraProcess slow(tcpConfig(listen2, admin2,
                               "    protocol: auto\n    detection_timeout: 300ms\n    tcp: "
                               "{cluster: up}\n    routes: [{prefix: /, cluster: up}]\n",
                               cluster("up", up)));
  EXPECT_EQ(run("socat -T 2 -u TCP:127.0.0.1:" + num(listen2) + " - | head -1"),
            "SSH-2.0-banner\n");
  EXPECT_EQ(scrapeMetric(admin2, "remora_protocol_detection_timeouts_total"), 1);
}

TEST(TcpProxy, TlsPassthroughBySni) {
  DevCerts certs;
  const uint16_t a = freePort(), b = freePort();
  auto sServer = [&](uint16_t p, const std::string& name) {
    return std::make_unique<Process>(std::vector<std::string>{
        "/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + num(p), "-cert",
        certs.file(name + ".crt"), "-key", certs.file(name + ".key"), "-www", "-quiet"});
  };
  auto server_a = sServer(a, "server");
  auto server_b = sServer(b, "wildcard");
  std::this_thread::sleep_for(500ms);
  const uint16_t listen = freePort(), admin = freePort();
  RemoraProcess remora(tcpConfig(listen, admin,
                                 "    protocol: auto\n    tcp:\n      sni_routes:\n"
                                 "        - {sni: server.remora.test, cluster: a}\n"
                                 "        - {sni: '*.wild.remora.test', cluster: b}\n"
                                 "    routes: [{prefix: /, cluster: a}]\n",
                                 cluster("a", a) + cluster("b", b)));
  // The client sees each upstream's own certificate: the bytes were not terminated.
  SClientResult ra = sClient(listen,
                             {"-servername", "server.remora.test", "-CAfile", certs.file("ca.crt"),
                              "-verify_return_error"},
                             "GET / HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(ra.handshakeOk()) << ra.output;
  EXPECT_NE(ra.output.find("server.remora.test"), std::string::npos) << ra.output;
  SClientResult rb = sClient(listen,
                             {"-servername", "x.wild.remora.test", "-CAfile", certs.file("ca.crt"),
                              "-verify_return_error"},
                             "GET / HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(rb.handshakeOk()) << rb.output;
  EXPECT_NE(rb.output.find("wild.remora.test"), std::string::npos) << rb.output;
  // No route and no certificate of its own: refused, counted.
  SClientResult none = sClient(listen, {"-servername", "other.test"}, "");
  EXPECT_FALSE(none.handshakeOk());
  EXPECT_EQ(
      scrapeMetric(admin, "remora_protocol_detections_total", {"protocol=\"tls_passthrough\""}), 3);
  EXPECT_EQ(scrapeMetric(admin, "remora_downstream_tcp_closes_total", {"reason=\"no_route\""}), 1);
}

}  // namespace
}  // namespace remora::test
