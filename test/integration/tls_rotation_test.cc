// Certificate rotation through the real binary: the listener's files replaced on disk (by
// rename, as a Kubernetes Secret volume's `..data` swap does) reach new handshakes at once,
// established connections go on, a bad replacement is refused with its path while the old
// certificate stays in service, and h2load over TLS sees no failed request throughout.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "common/harness.h"
#include "common/tls_env.h"

namespace remora::test {
namespace {

// The sha256 fingerprint of the certificate the listener on `port` presents.
std::string servedFingerprint(uint16_t port) {
  Process p({"/bin/bash", "-c",
             "timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                 " -servername localhost </dev/null 2>/dev/null | "
                 "openssl x509 -noout -fingerprint -sha256"});
  p.waitExit(std::chrono::seconds(20));
  return p.output();
}

std::string fileFingerprint(const std::string& cert) {
  Process p({"/usr/bin/openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"});
  p.waitExit(std::chrono::seconds(10));
  return p.output();
}

void replace(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".new";
  std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(tmp, to);
}

TEST(TlsRotation, NewFilesReachNewHandshakesAndBadOnesAreRefused) {
  DevCerts old_certs, new_certs;
  TempDir live;
  const std::string crt = live.file("tls.crt"), key = live.file("tls.key");
  replace(old_certs.file("server.crt"), crt);
  replace(old_certs.file("server.key"), key);
  DemoUpstream upstream;
  const uint16_t port = freePort(), admin = freePort();
  RemoraProcess remora(basicConfig(
      port, admin, {upstream.address()},
      "tls:\n  certificates: [ { certificate_file: " + crt + ", key_file: " + key + " } ]\n"));
  ASSERT_EQ(servedFingerprint(port), fileFingerprint(old_certs.file("server.crt")));

  // Load for the whole rotation: h2load over TLS, new connections throughout (-c 4, many
  // requests each), every response must be a 200.
  const std::string h2load_out = live.file("h2load.txt");
  Process load({"/bin/bash", "-c",
                "h2load -n 4000 -c 4 -m 1 --h1 https://127.0.0.1:" + std::to_string(port) + "/ > " +
                    h2load_out + " 2>&1"});

  // A key that does not match the certificate: refused with the key's path, old one served.
  replace(new_certs.file("server.crt"), crt);
  EXPECT_TRUE(waitUntil(
      [&] {
        return scrapeMetric(admin, "remora_config_applies_total",
                            {"source=\"tls\"", "result=\"rejected\""}) >= 1;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(servedFingerprint(port), fileFingerprint(old_certs.file("server.crt")));
  EXPECT_NE(adminGet(admin, "/config/history").body.find(key), std::string::npos)
      << adminGet(admin, "/config/history").body;

  // The matching key arrives: new handshakes present the new certificate.
  replace(new_certs.file("server.key"), key);
  EXPECT_TRUE(waitUntil(
      [&] { return servedFingerprint(port) == fileFingerprint(new_certs.file("server.crt")); },
      std::chrono::seconds(10)));

  auto st = load.waitExit(std::chrono::seconds(120));
  ASSERT_TRUE(st && st->exitedWith(0)) << readFile(h2load_out);
  const std::string report = readFile(h2load_out);
  EXPECT_NE(report.find("4000 succeeded, 0 failed, 0 errored"), std::string::npos) << report;
  EXPECT_NE(report.find("status codes: 4000 2xx"), std::string::npos) << report;
}

}  // namespace
}  // namespace remora::test
