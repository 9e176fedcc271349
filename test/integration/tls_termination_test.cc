// TLS termination through the real binary with real clients (curl, openssl s_client) and
// certificates made at test time: HTTP/1.1 and h2 chosen by ALPN, SNI with a wildcard and strict
// names, the version floor, plain text sent to a TLS port, and every refusal counted by reason.

#include <gtest/gtest.h>

#include <string>

#include "common/harness.h"
#include "common/tls_env.h"

namespace remora::test {
namespace {

class TlsTermination : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new DevCerts(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  // One TLS listener with the server and wildcard certificates; `tls_extra` adds keys to its
  // tls block (unindented, one per line).
  void start(const std::string& tls_extra = "") {
    port_ = freePort();
    admin_ = freePort();
    std::string tls = "tls:\n  certificates:\n";
    tls += "    - { certificate_file: " + certs_->file("server.crt") +
           ", key_file: " + certs_->file("server.key") + " }\n";
    tls += "    - { certificate_file: " + certs_->file("wildcard.crt") +
           ", key_file: " + certs_->file("wildcard.key") + " }\n";
    std::string extra;
    for (size_t at = 0; at < tls_extra.size();) {
      size_t nl = tls_extra.find('\n', at);
      if (nl == std::string::npos) nl = tls_extra.size();
      extra += "  " + tls_extra.substr(at, nl - at) + "\n";
      at = nl + 1;
    }
    remora_ = std::make_unique<RemoraProcess>(
        basicConfig(port_, admin_, {upstream_.address()}, tls + extra));
  }

  std::string url(const std::string& path = "/") const {
    return "https://localhost:" + std::to_string(port_) + path;
  }
  double failures(const std::string& reason) const {
    return scrapeMetric(admin_, "remora_downstream_tls_handshake_failures_total",
                        {"reason=\"" + reason + "\""});
  }

  static DevCerts* certs_;
  DemoUpstream upstream_;
  uint16_t port_ = 0;
  uint16_t admin_ = 0;
  std::unique_ptr<RemoraProcess> remora_;
};

DevCerts* TlsTermination::certs_ = nullptr;

TEST_F(TlsTermination, ServesHttp1AndHttp2ChosenByAlpn) {
  start();
  int code = -1;
  std::string out = curl(
      {"-sS", "--cacert", certs_->file("ca.crt"), "--http1.1", "-w", " %{http_version}", url()},
      &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "hello from upstream\n 1.1");
  out =
      curl({"-sS", "--cacert", certs_->file("ca.crt"), "--http2", "-w", " %{http_version}", url()},
           &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "hello from upstream\n 2");
  // Keep-alive over one TLS connection: three requests, one handshake.
  double before =
      scrapeMetric(admin_, "remora_downstream_tls_handshakes_total", {"version=\"TLSv1.3\""});
  out = curl({"-sS", "--cacert", certs_->file("ca.crt"), "--http1.1", url(), url(), url()}, &code);
  EXPECT_EQ(out, "hello from upstream\nhello from upstream\nhello from upstream\n");
  EXPECT_EQ(scrapeMetric(admin_, "remora_downstream_tls_handshakes_total", {"version=\"TLSv1.3\""}),
            before + 1);
  // A body larger than one TLS record both ways.
  out = curl({"-sS", "--cacert", certs_->file("ca.crt"), url("/bytes/200000"), "-o", "/dev/null",
              "-w", "%{size_download}"},
             &code);
  EXPECT_EQ(out, "200000");
}

TEST_F(TlsTermination, Tls12IsServedAndOlderVersionsAreRefused) {
  start();
  SClientResult r = sClient(port_, {"-tls1_2", "-servername", "localhost"});
  EXPECT_TRUE(r.handshakeOk()) << r.output;
  EXPECT_NE(r.output.find("TLSv1.2"), std::string::npos) << r.output;
  r = sClient(port_, {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_FALSE(r.handshakeOk()) << r.output;
  EXPECT_TRUE(
      waitUntil([&] { return failures("protocol_version") >= 1; }, std::chrono::seconds(5)));
}

TEST_F(TlsTermination, PlainHttpToTheTlsPortIsClosedAndCounted) {
  start();
  int code = -1;
  curl({"-sS", "-m", "5", "http://127.0.0.1:" + std::to_string(port_) + "/"}, &code);
  EXPECT_NE(code, 0);
  EXPECT_TRUE(waitUntil([&] { return failures("not_tls") >= 1; }, std::chrono::seconds(5)));
  EXPECT_TRUE(
      remora_->process().waitForOutput("sent plain text to a TLS port", std::chrono::seconds(5)));
}

TEST_F(TlsTermination, CertificateChosenBySniWithWildcardAndDefault) {
  start();
  SClientResult r = sClient(port_, {"-servername", "api.wild.remora.test"});
  EXPECT_TRUE(r.handshakeOk()) << r.output;
  EXPECT_NE(r.output.find("CN = *.wild.remora.test"), std::string::npos) << r.output;
  r = sClient(port_, {"-servername", "server.remora.test"});
  EXPECT_NE(r.output.find("CN = server.remora.test"), std::string::npos) << r.output;
  // No SNI, or a name no certificate covers: the first certificate.
  r = sClient(port_, {"-noservername"});
  EXPECT_TRUE(r.handshakeOk()) << r.output;
  EXPECT_NE(r.output.find("CN = server.remora.test"), std::string::npos) << r.output;
  r = sClient(port_, {"-servername", "nobody.example"});
  EXPECT_NE(r.output.find("CN = server.remora.test"), std::string::npos) << r.output;
}

TEST_F(TlsTermination, StrictSniRefusesNamesNoCertificateCovers) {
  start("strict_sni: true");
  SClientResult r = sClient(port_, {"-servername", "nobody.example"});
  EXPECT_FALSE(r.handshakeOk()) << r.output;
  EXPECT_TRUE(waitUntil([&] { return failures("unknown_sni") >= 1; }, std::chrono::seconds(5)));
  r = sClient(port_, {"-servername", "a.wild.remora.test"});
  EXPECT_TRUE(r.handshakeOk()) << r.output;
}

TEST_F(TlsTermination, ConfiguredSuitesAndMinimumVersionApply) {
  start("min_version: \"1.3\"\ncipher_suites: [TLS_CHACHA20_POLY1305_SHA256]");
  SClientResult r = sClient(port_, {"-tls1_2"});
  EXPECT_FALSE(r.handshakeOk()) << r.output;
  r = sClient(port_, {});
  EXPECT_TRUE(r.handshakeOk()) << r.output;
  EXPECT_NE(r.output.find("TLS_CHACHA20_POLY1305_SHA256"), std::string::npos) << r.output;
}

TEST_F(TlsTermination, SessionTicketsResume) {
  start();
  TempDir dir;
  const std::string session = dir.file("session.pem");
  SClientResult r = sClient(port_, {"-tls1_2", "-sess_out", session}, "");
  ASSERT_TRUE(r.handshakeOk()) << r.output;
  r = sClient(port_, {"-tls1_2", "-sess_in", session}, "");
  EXPECT_NE(r.output.find("Reused"), std::string::npos) << r.output;
  EXPECT_TRUE(waitUntil(
      [&] { return scrapeMetric(admin_, "remora_downstream_tls_resumptions_total") >= 1; },
      std::chrono::seconds(5)));
}

TEST_F(TlsTermination, HandshakeTimeoutClosesSilentClients) {
  start("handshake_timeout: 200ms");
  HttpClient silent(port_);  // connects and sends nothing
  EXPECT_TRUE(waitUntil([&] { return failures("timeout") >= 1; }, std::chrono::seconds(5)));
}

}  // namespace
}  // namespace remora::test
