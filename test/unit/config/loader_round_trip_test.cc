// toYaml round trips, and every config file shipped in config/ loads.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/loader.h"

namespace remora::config {
namespace {

// A config where every field differs from its default, so a field toYaml forgot shows up.
Config everyFieldSet() {
  Config config;
  config.workers = 7;
  config.log_level = "debug";
  config.admin.address = {"::1", 9000};
  config.drain = {Duration{1500}, Duration{120000}};
  Listener listener;
  listener.name = "null";  // would read back as YAML null if emitted unquoted
  listener.address = {"0.0.0.0", 8443};
  listener.limits = {2048, 20, 65536};
  listener.timeouts = {Duration{250}, Duration{3000}, Duration{86400000}, Duration{1500}};
  listener.routes = {{"/api/", "true"}, {"/", "123"}};
  listener.original_dst = true;
  network::TlsServerOptions& tls = listener.tls.emplace();
  tls.certificates = {{"/etc/remora/a.crt", "/etc/remora/a.key"}, {"/b.crt", "/b.key"}};
  tls.strict_sni = true;
  tls.protocol = {
      network::TlsVersion::k1_3, network::TlsVersion::k1_3, {"TLS_AES_256_GCM_SHA384"}, {"X25519"}};
  tls.alpn = {"http/1.1"};
  tls.client_certificate = network::ClientCertificate::kOptional;
  tls.ca_file = "/ca.pem";
  tls.allowed_sans = {"spiffe://td/ns/a/*"};
  tls.handshake_timeout = Duration{2500};
  tls.max_handshakes = 7;
  tls.session_tickets = false;
  config.listeners.push_back(listener);
  Cluster a;
  a.name = "true";
  a.endpoints = {{"10.0.0.1", 80}, {"fd00::1", 8080}};
  a.lb_policy = LbPolicy::kLeastRequest;
  a.connect_timeout = Duration{1};
  a.response_timeout = Duration{2500};
  a.max_connections_per_endpoint = 1;
  a.max_pending_requests = 0;
  a.max_connect_attempts = 100;
  a.idle_timeout = Duration{7000};
  a.health_check = {"/healthz?deep=1", Duration{2500}, Duration{500}, 4, 5, {200, 204}};
  a.protocol = UpstreamProtocol::kHttp2;
  a.http2 = {7, 65536, Duration{30000}, Duration{2500}};
  network::TlsClientOptions& ctls = a.tls.emplace();
  ctls.sni = "b.internal";
  ctls.ca_file = "/ca.pem";
  ctls.verify_sans = {"spiffe://td/ns/b/sa/b"};
  ctls.client_certificate = {"/c.crt", "/c.key"};
  ctls.protocol.groups = {"P-256"};
  Cluster b;
  b.name = "123";
  b.endpoints = {{"127.0.0.1", 1}};
  Cluster passthrough;
  passthrough.name = "passthrough";
  passthrough.type = ClusterType::kOriginalDst;
  config.clusters = {a, b, passthrough};
  return config;
}

TEST(LoaderRoundTripTest, EveryFieldSurvives) {
  const Config config = everyFieldSet();
  const std::string yaml = toYaml(config);
  ConfigResult<Config> loaded = loadFromString(yaml);
  ASSERT_TRUE(loaded.ok()) << loaded.error() << "\n" << yaml;
  EXPECT_EQ(*loaded, config) << yaml;
  EXPECT_EQ(toYaml(*loaded), yaml);
}

TEST(LoaderRoundTripTest, EmitsEveryField) {
  const std::string yaml = toYaml(everyFieldSet());
  for (const char* field : {"workers: 7",
                            "log_level: debug",
                            "address: \"[::1]:9000\"",
                            "grace_period: 1500ms",
                            "deadline: 120s",
                            "max_request_headers_bytes: 2048",
                            "max_request_headers: 20",
                            "buffer_high_watermark: 65536",
                            "request_headers: 250ms",
                            "idle: 3s",
                            "request: 86400s",
                            "prefix: /api/",
                            "lb_policy: least_request",
                            "connect_timeout: 1ms",
                            "response_timeout: 2500ms",
                            "max_connections_per_endpoint: 1",
                            "max_pending_requests: 0",
                            "max_connect_attempts: 100",
                            "idle_timeout: 7s",
                            "original_dst: true",
                            "type: original_dst",
                            "path: \"/healthz?deep=1\"",
                            "interval: 2500ms",
                            "timeout: 500ms",
                            "healthy_threshold: 4",
                            "unhealthy_threshold: 5",
                            "expected_statuses: [200, 204]",
                            "protocol: http2",
                            "max_concurrent_streams: 7",
                            "initial_window_size: 65536",
                            "keepalive_interval: 30s",
                            "keepalive_timeout: 2500ms"}) {
    EXPECT_NE(yaml.find(field), std::string::npos) << field << " missing from\n" << yaml;
  }
}

TEST(LoaderRoundTripTest, DefaultsRoundTrip) {
  ConfigResult<Config> loaded = loadFromString(
      "listeners: [{name: in, address: 127.0.0.1:1, routes: [{cluster: c}]}]\n"
      "clusters: [{name: c, endpoints: [127.0.0.1:2]}]\n");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ConfigResult<Config> again = loadFromString(toYaml(*loaded));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(*again, *loaded);
}

std::vector<std::filesystem::path> shippedConfigs() {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path root = std::filesystem::path(REMORA_SOURCE_DIR) / "config";
  for (const auto& dir : {root, root / "examples"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) {
        files.push_back(entry.path());
      }
    }
  }
  return files;
}

TEST(ShippedConfigTest, EveryFileLoadsAndRoundTrips) {
  const auto files = shippedConfigs();
  EXPECT_GE(files.size(), 3u);
  for (const auto& file : files) {
    ConfigResult<Config> loaded = loadFromFile(file.string());
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    ConfigResult<Config> again = loadFromString(toYaml(*loaded));
    ASSERT_TRUE(again.ok()) << file << ": " << again.error();
    EXPECT_EQ(*again, *loaded) << file;
  }
}

TEST(ShippedConfigTest, SidecarDefaults) {
  ConfigResult<Config> loaded =
      loadFromFile(std::string(REMORA_SOURCE_DIR) + "/config/sidecar.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->workers, 0u);
  EXPECT_EQ(loaded->admin.address.str(), "127.0.0.1:9901");
  ASSERT_EQ(loaded->listeners.size(), 1u);
  EXPECT_EQ(loaded->listeners[0].name, "ingress");
  EXPECT_EQ(loaded->listeners[0].address.str(), "0.0.0.0:10000");
  ASSERT_EQ(loaded->listeners[0].routes.size(), 1u);
  EXPECT_EQ(loaded->listeners[0].routes[0], (Route{"/", "app"}));
  const Cluster* app = loaded->findCluster("app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->endpoints, (std::vector<SocketAddress>{{"127.0.0.1", 8080}}));
}

TEST(LoadFromFileTest, NamesTheFileInErrors) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("remora_loader_test_" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << "workers: 1\nlisteners: [\n";
  }
  ConfigResult<Config> loaded = loadFromFile(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(toLines(loaded.error()), path.string() + ":3:1: end of sequence flow not found");

  ConfigResult<Config> missing = loadFromFile("/nonexistent/remora.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(toLines(missing.error()),
            "/nonexistent/remora.yaml: cannot open: No such file or directory");

  const std::string dir = std::filesystem::temp_directory_path().string();
  ConfigResult<Config> directory = loadFromFile(dir);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(toLines(directory.error()), dir + ": cannot open: Is a directory");
}

}  // namespace
}  // namespace remora::config
