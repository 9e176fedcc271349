// Mutual TLS through the real binary: a listener that requires (or accepts) client certificates,
// the verified identity reaching filters as stream metadata (read here by the access_log
// plugin), every refusal counted by reason, and sidecar to sidecar — one Remora originating
// mTLS to another that terminates it and checks who calls. Certificates come from
// scripts/dev-certs.sh at test time; clients are curl, openssl s_client and nghttpd upstream.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "common/filter_env.h"
#include "common/harness.h"
#include "common/tls_env.h"

namespace remora::test {
namespace {

const char kOrders[] = "spiffe://remora.test/ns/orders/sa/orders";
const char kServer[] = "spiffe://remora.test/ns/default/sa/server";

class TlsMutual : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new DevCerts(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  void SetUp() override {
    plugins_.addFilter("auth");
    plugins_.addFilter("access_log");
    plugins_.addFilter("router");
  }

  // The inbound sidecar: TLS on `port` with client certificates `mode`, an access log of each
  // request's peer identity and certificate hash, routing to the demo upstream.
  std::string inboundConfig(uint16_t port, uint16_t admin, const std::string& mode,
                            const std::string& tls_extra = "") const {
    std::ostringstream y;
    y << "workers: 1\n"
      << "admin: { address: 127.0.0.1:" << admin << " }\n"
      << "drain: { grace_period: 0s, deadline: 5s }\n"
      << "plugins: { dir: " << plugins_.path() << ", cache_dir: " << plugins_.cacheDir() << " }\n"
      << "listeners:\n"
      << "  - name: inbound\n"
      << "    address: 127.0.0.1:" << port << "\n"
      << "    timeouts: { idle: 300ms }\n"
      << "    tls:\n"
      << "      certificates: [ { certificate_file: " << certs_->file("server.crt")
      << ", key_file: " << certs_->file("server.key") << " } ]\n"
      << "      client_certificate: " << mode << "\n"
      << "      ca_file: " << certs_->file("ca.crt") << "\n"
      << tls_extra << "    filters:\n"
      << "      - name: access_log\n"
      << "        config: {\"path\": \"" << log_ << "\", \"format\": \"text\", \"text_format\": "
      << "\"%DYNAMIC_METADATA(remora.peer.identity)% "
         "%DYNAMIC_METADATA(remora.peer.cert_sha256)%\"}\n"
      << auth_ << "      - name: router\n"
      << "        config: {\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"cluster\": \"app\"}]}\n"
      << "clusters:\n"
      << "  - name: app\n"
      << "    endpoints: [" << upstream_.address() << "]\n";
    return y.str();
  }

  // curl to the inbound listener, presenting `client` ("" for no certificate).
  std::string call(uint16_t port, const std::string& client, int* code) const {
    std::vector<std::string> args = {"-sS", "-m", "5", "--cacert", certs_->file("ca.crt")};
    if (!client.empty()) {
      args.insert(args.end(), {"--cert", certs_->file(client + ".crt"), "--key",
                               certs_->file(client + ".key")});
    }
    args.push_back("https://localhost:" + std::to_string(port) + "/");
    return curl(args, code);
  }

  static double failures(uint16_t admin, const std::string& side, const std::string& reason) {
    return scrapeMetric(admin, "remora_" + side + "_tls_handshake_failures_total",
                        {"reason=\"" + reason + "\""});
  }

  static DevCerts* certs_;
  PluginDir plugins_;
  std::string log_ = plugins_.file("access.log");
  std::string auth_;  // an auth chain entry, when a test sets one
  DemoUpstream upstream_;
};

DevCerts* TlsMutual::certs_ = nullptr;

std::string sha256Of(const std::string& cert) {
  Process p({"/bin/bash", "-c",
             "openssl x509 -in '" + cert + "' -outform DER | sha256sum | cut -d' ' -f1"});
  p.waitExit(std::chrono::seconds(10));
  std::string out = p.output();
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

TEST_F(TlsMutual, RequiredClientCertificateIdentityReachesFilters) {
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(inboundConfig(port, admin, "required"));
  int code = -1;
  EXPECT_EQ(call(port, "client", &code), "hello from upstream\n");
  EXPECT_EQ(code, 0);
  const std::string expected = std::string(kOrders) + " " + sha256Of(certs_->file("client.crt"));
  EXPECT_TRUE(eventually([&] {
    auto lines = readLines(log_);
    return !lines.empty() && lines.back() == expected;
  })) << "access log: "
      << readFile(log_);

  // No certificate, an expired one, one from a CA nobody trusts: refused, each counted.
  call(port, "", &code);
  EXPECT_NE(code, 0);
  call(port, "expired-client", &code);
  EXPECT_NE(code, 0);
  call(port, "other-client", &code);
  EXPECT_NE(code, 0);
  EXPECT_TRUE(eventually([&] {
    return failures(admin, "downstream", "no_client_certificate") == 1 &&
           failures(admin, "downstream", "certificate_expired") == 1 &&
           failures(admin, "downstream", "untrusted") == 1;
  })) << adminBody(admin, "/metrics");
  EXPECT_EQ(readLines(log_).size(), 1u);  // no refused client reached the chain

  // What is loaded, on the admin API and as expiry metrics.
  nlohmann::json certs = adminJson(admin, "/certs")["certificates"];
  ASSERT_EQ(certs.size(), 2u) << certs.dump();
  EXPECT_EQ(certs[0]["listener"], "inbound");
  EXPECT_EQ(certs[0]["role"], "certificate");
  EXPECT_EQ(certs[0]["sha256"], sha256Of(certs_->file("server.crt")));
  EXPECT_NE(certs[0]["sans"].dump().find("URI:spiffe://remora.test/ns/default/sa/server"),
            std::string::npos);
  EXPECT_EQ(certs[1]["role"], "ca");
  EXPECT_GT(certs[0]["expires_in_seconds"].get<int64_t>(), 86400);
  EXPECT_GT(scrapeMetric(admin, "remora_tls_certificate_expiry_seconds",
                         {"listener=\"inbound\"", "role=\"certificate\""}),
            86400);
}

TEST_F(TlsMutual, OptionalClientCertificateLetsAnonymousCallersIn) {
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(inboundConfig(port, admin, "optional"));
  int code = -1;
  EXPECT_EQ(call(port, "", &code), "hello from upstream\n");
  EXPECT_EQ(call(port, "client", &code), "hello from upstream\n");
  call(port, "other-client", &code);  // a certificate, when sent, must verify
  EXPECT_NE(code, 0);
  EXPECT_TRUE(eventually([&] {
    auto lines = readLines(log_);
    return lines.size() == 2 && lines[0] == "- -" && lines[1].starts_with(kOrders);
  })) << readFile(log_);
}

TEST_F(TlsMutual, AllowedSansRefuseOtherIdentities) {
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(inboundConfig(
      port, admin, "required", "      allowed_sans: [\"spiffe://remora.test/ns/billing/*\"]\n"));
  int code = -1;
  call(port, "client", &code);
  EXPECT_NE(code, 0);
  EXPECT_TRUE(eventually([&] {
    return failures(admin, "downstream", "identity_not_allowed") == 1;
  })) << adminBody(admin, "/metrics");
}

// "Only the orders service may POST /refunds": one auth rule on the verified identity.
TEST_F(TlsMutual, AuthRulesOnThePeerIdentity) {
  auth_ =
      "      - name: auth\n        config: {\"rules\": [{\"prefix\": \"/refunds\", \"methods\": "
      "[\"POST\"], \"require\": [\"mtls\"], \"principals\": [\"" +
      std::string(kOrders) + "\"]}], \"default\": {\"require\": \"none\"}}\n";
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(inboundConfig(port, admin, "optional"));
  auto status = [&](const std::string& client, const std::string& method) {
    std::vector<std::string> args = {
        "-sS",          "-m", "5",    "-o",       "/dev/null",           "-w",
        "%{http_code}", "-X", method, "--cacert", certs_->file("ca.crt")};
    if (!client.empty()) {
      args.insert(args.end(), {"--cert", certs_->file(client + ".crt"), "--key",
                               certs_->file(client + ".key")});
    }
    args.push_back("https://localhost:" + std::to_string(port) + "/refunds");
    return curl(args);
  };
  EXPECT_EQ(status("client", "POST"), "200");  // orders
  EXPECT_EQ(status("", "POST"), "401");        // nobody
  EXPECT_EQ(status("server", "POST"), "403");  // another workload of the mesh
  EXPECT_EQ(status("server", "GET"), "200");   // the rule is about POST only
}

// Service A's outbound sidecar originates mTLS to service B's inbound sidecar, which checks the
// caller's identity; A checks B's.
TEST_F(TlsMutual, SidecarToSidecar) {
  const uint16_t b_port = freePort(), b_admin = freePort();
  RemoraProcess b(inboundConfig(b_port, b_admin, "required",
                                "      allowed_sans: [\"spiffe://remora.test/ns/orders/*\"]\n"));
  const uint16_t a_port = freePort(), a_admin = freePort();
  auto outbound = [&](const std::string& verify_san) {
    return basicConfig(a_port, a_admin, {"127.0.0.1:" + std::to_string(b_port)}, "",
                       "tls:\n  sni: server.remora.test\n  ca_file: " + certs_->file("ca.crt") +
                           "\n  verify_sans: [\"" + verify_san +
                           "\"]\n  certificate_file: " + certs_->file("client.crt") +
                           "\n  key_file: " + certs_->file("client.key") + "\n");
  };
  {
    RemoraProcess a(outbound(kServer));
    HttpResponse r = HttpClient(a_port).request("GET", "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello from upstream\n");
    EXPECT_TRUE(eventually([&] {
      auto lines = readLines(log_);
      return !lines.empty() && lines.back().starts_with(kOrders);
    })) << readFile(log_);
    EXPECT_EQ(scrapeMetric(a_admin, "remora_upstream_tls_handshakes_total",
                           {"cluster=\"app\"", "version=\"TLSv1.3\""}),
              1);
    // B closes the idle connection (timeouts.idle: 300ms); A's next one resumes the session.
    EXPECT_TRUE(eventually(
        [&] { return scrapeMetric(b_admin, "remora_downstream_connections_active") == 0; }));
    r = HttpClient(a_port).request("GET", "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(eventually([&] {
      return scrapeMetric(a_admin, "remora_upstream_tls_resumptions_total") >= 1;
    })) << adminBody(a_admin, "/metrics");
  }
  // Health checks of a TLS cluster run over its TLS (client certificate and all).
  {
    const uint16_t port = freePort(), admin = freePort();
    RemoraProcess hc(basicConfig(port, admin, {"127.0.0.1:" + std::to_string(b_port)}, "",
                                 "health_check: { path: /, interval: 200ms, timeout: 150ms "
                                 "}\ntls:\n  sni: server.remora.test\n"
                                 "  ca_file: " +
                                     certs_->file("ca.crt") +
                                     "\n  certificate_file: " + certs_->file("client.crt") +
                                     "\n  key_file: " + certs_->file("client.key") + "\n"));
    EXPECT_TRUE(eventually([&] {
      return scrapeMetric(admin, "remora_health_check_total", {"result=\"success\""}) >= 2;
    })) << adminBody(admin, "/metrics");
  }
  // A expects someone else behind B's address: refused before any request is sent.
  RemoraProcess a(outbound("spiffe://remora.test/ns/payments/sa/payments"));
  HttpResponse r = HttpClient(a_port).request("GET", "/");
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(eventually([&] {
    return failures(a_admin, "upstream", "identity_not_allowed") >= 1;
  })) << adminBody(a_admin, "/metrics");
}

TEST_F(TlsMutual, Http2UpstreamOverTlsWithAlpn) {
  TempDir docroot;
  writeFileAtomically(docroot.file("hello.txt"), "hello over h2\n");
  const uint16_t h2_port = freePort();
  Process nghttpd({"/usr/sbin/nghttpd", "--htdocs=" + docroot.path(), "-a", "127.0.0.1",
                   std::to_string(h2_port), certs_->file("server.key"),
                   certs_->file("server.crt")});
  ASSERT_TRUE(waitUntil(
      [&] {
        return sClient(h2_port, {"-alpn", "h2"}).handshakeOk();
      },
      std::chrono::seconds(10)));
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(basicConfig(
      port, admin, {"127.0.0.1:" + std::to_string(h2_port)}, "",
      "protocol: http2\ntls:\n  sni: localhost\n  ca_file: " + certs_->file("ca.crt") + "\n"));
  HttpResponse r = HttpClient(port).request("GET", "/hello.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello over h2\n");
  // Verified against the system bundle, which does not hold the dev CA: 503, untrusted.
  const uint16_t port2 = freePort(), admin2 = freePort();
  RemoraProcess system_cas(basicConfig(port2, admin2, {"127.0.0.1:" + std::to_string(h2_port)}, "",
                                       "protocol: http2\ntls: { sni: localhost }\n"));
  EXPECT_EQ(HttpClient(port2).request("GET", "/hello.txt").status, 503);
  EXPECT_GE(failures(admin2, "upstream", "untrusted"), 1);
}

TEST_F(TlsMutual, BadCertificateFilesAreRefusedWithTheirPath) {
  TempDir dir;
  auto validate = [&](const std::string& cert, const std::string& key, int* code) {
    std::string yaml = basicConfig(
        freePort(), freePort(), {"127.0.0.1:1"},
        "tls:\n  certificates: [ { certificate_file: " + cert + ", key_file: " + key + " } ]\n");
    writeFileAtomically(dir.file("c.yaml"), yaml);
    Process p({REMORA_BINARY, "--config", dir.file("c.yaml"), "--validate"});
    auto st = p.waitExit(std::chrono::seconds(20));
    *code = st ? st->code : -1;
    return p.output();
  };
  int code = -1;
  std::string out = validate(certs_->file("server.crt"), certs_->file("client.key"), &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("listeners[0].tls.certificates[0].key_file: the key in"), std::string::npos)
      << out;
  out = validate(dir.file("missing.crt"), certs_->file("server.key"), &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("listeners[0].tls.certificates[0].certificate_file: cannot read"),
            std::string::npos)
      << out;
  out = validate(certs_->file("expired-client.crt"), certs_->file("expired-client.key"), &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("expired"), std::string::npos) << out;
  out = validate(certs_->file("server.crt"), certs_->file("server.key"), &code);
  EXPECT_EQ(code, 0) << out;
}

}  // namespace
}  // namespace remora::test
