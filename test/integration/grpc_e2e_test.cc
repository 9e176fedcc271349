// gRPC end to end with real grpcio peers (test/integration/grpc/grpc_e2e.py, run with
// /usr/bin/python3): a grpcio server behind Remora's cluster with `protocol: http2`, and a grpcio
// client speaking h2c to Remora's listener, through auth, rate_limit, router and circuit_breaker.
// Unary, server-streaming, client-streaming and bidi calls, plus the statuses Remora's own
// replies carry (UNIMPLEMENTED, UNAUTHENTICATED, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED,
// UNAVAILABLE from an open breaker).
//
// grpcio speaks HTTP/2 only: this runs through Remora's HTTP/2 downstream codec and upstream
// pools.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "common/filter_env.h"
#include "common/harness.h"
#include "common/net.h"
#include "common/process.h"
#include "common/tls_env.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

constexpr const char* kPython = "/usr/bin/python3";
const std::string kScript = std::string(REMORA_SOURCE_DIR) + "/test/integration/grpc/grpc_e2e.py";
// Upstream gRPC needs HTTP/2 to the server (the cluster setting the h2 pools add).
constexpr const char* kClusterProtocolYaml = "protocol: http2\n";

TEST(GrpcEndToEndTest, GrpcioClientAndServerThroughRemora) {
  ASSERT_EQ(access(kPython, X_OK), 0) << "no /usr/bin/python3";
  Process probe({kPython, "-c", "import grpc"});
  auto probed = probe.waitExit(std::chrono::seconds(20));
  ASSERT_TRUE(probed && probed->exitedWith(0))
      << "python3-grpcio is not installed (scripts/install-deps.sh installs it)";

  uint16_t server_port = freePort();
  Process server({kPython, kScript, "serve", "--port", std::to_string(server_port)});
  ASSERT_TRUE(server.waitForOutput("serving", std::chrono::seconds(20))) << server.output();

  PluginDir plugins;
  for (const char* f : {"auth", "rate_limit", "router", "circuit_breaker"}) plugins.addFilter(f);
  json auth = {{"api_key", {{"keys", {{{"name", "bot"}, {"sha256", std::string(64, 'a')}}}}}},
               {"rules", {{{"prefix", "/pkg.Secure/"}, {"require", {"api_key"}}}}},
               {"default", {{"require", "none"}}}};
  json rate = {{"rules", {{{"prefix", "/pkg.Limited/"}, {"rate", 1}, {"per", "1m"}}}}};
  json router = {{"routes",
                  {{{"match", {{"prefix", "/pkg.Fragile/"}}}, {"cluster", "fragile"}},
                   {{"match", {{"prefix", "/pkg."}}}, {"cluster", "app"}}}}};
  json breaker = {
      {"fragile",
       {{"max_active_requests", 100},
        {"breaker", {{"consecutive_failures", 2}, {"failure_ratio", 0}, {"cool_down", "30s"}}}}}};
  std::string endpoint = "127.0.0.1:" + std::to_string(server_port);
  FilterProxy proxy(
      plugins,
      {{"auth", auth},
       {"rate_limit", rate},
       {"router", router},
       {"circuit_breaker", {{"clusters", breaker}}}},
      {{"app", {endpoint}, kClusterProtocolYaml}, {"fragile", {endpoint}, kClusterProtocolYaml}});

  Process client(
      {kPython, kScript, "client", "--target", "127.0.0.1:" + std::to_string(proxy.port())});
  auto exit = client.waitExit(std::chrono::seconds(60));
  if (!exit) client.kill(SIGKILL);
  server.kill(SIGTERM);
  server.waitExit(std::chrono::seconds(5));
  ASSERT_TRUE(exit) << "client still running:\n" << client.output();
  EXPECT_TRUE(exit->exitedWith(0)) << exit->describe() << "\n" << client.output();

  std::string metrics = proxy.metrics();
  EXPECT_EQ(findMetric(metrics, "remora_grpc_requests_total",
                       {{"service", "pkg.Echo"}, {"method", "Bidi"}, {"grpc_status", "0"}}),
            1)
      << metrics;
  EXPECT_EQ(findMetric(metrics, "remora_grpc_requests_total",
                       {{"service", "pkg.Fragile"}, {"method", "Call"}, {"grpc_status", "14"}}),
            3)
      << metrics;
}

// gRPC over TLS both ways: a grpcio client with ssl_channel_credentials (and a client
// certificate) to Remora's TLS listener, h2 chosen by ALPN; Remora originating mTLS to a grpcio
// server that requires client certificates. All four call types.
TEST(GrpcEndToEndTest, AllCallTypesOverMutualTlsBothWays) {
  ASSERT_EQ(access(kPython, X_OK), 0) << "no /usr/bin/python3";
  DevCerts certs;
  uint16_t server_port = freePort();
  Process server(
      {kPython, kScript, "serve", "--port", std::to_string(server_port), "--tls-dir", certs.dir()});
  ASSERT_TRUE(server.waitForOutput("serving", std::chrono::seconds(20))) << server.output();
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(basicConfig(
      port, admin, {"127.0.0.1:" + std::to_string(server_port)},
      "tls:\n  certificates: [ { certificate_file: " + certs.file("server.crt") +
          ", key_file: " + certs.file("server.key") +
          " } ]\n  client_certificate: required\n"
          "  ca_file: " +
          certs.file("ca.crt") + "\n",
      "protocol: http2\ntls:\n  sni: localhost\n  ca_file: " + certs.file("ca.crt") +
          "\n  verify_sans: [\"spiffe://remora.test/ns/default/sa/server\"]\n"
          "  certificate_file: " +
          certs.file("client.crt") + "\n  key_file: " + certs.file("client.key") + "\n"));

  Process client({kPython, kScript, "client", "--target", "127.0.0.1:" + std::to_string(port),
                  "--tls-dir", certs.dir(), "--calls-only"});
  auto exit = client.waitExit(std::chrono::seconds(60));
  if (!exit) client.kill(SIGKILL);
  server.kill(SIGTERM);
  server.waitExit(std::chrono::seconds(5));
  ASSERT_TRUE(exit) << "client still running:\n" << client.output();
  EXPECT_TRUE(exit->exitedWith(0)) << exit->describe() << "\n" << client.output();
  EXPECT_GE(scrapeMetric(admin, "remora_downstream_tls_handshakes_total"), 1);
  EXPECT_GE(scrapeMetric(admin, "remora_upstream_tls_handshakes_total"), 1);
}

}  // namespace
}  // namespace remora::test
