// sources.etcd, registration and discovered clusters: what loads, the exact rejections, and
// the YAML round trip.

#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace remora::config {
namespace {

constexpr const char* kListener = R"(
listeners:
  - name: in
    address: 127.0.0.1:10000
    routes: [{prefix: /, cluster: app}]
)";

std::string withCluster(const std::string& body) {
  return std::string(kListener) + "clusters:\n  - name: app\n" + body;
}

std::string errorOf(const std::string& yaml) {
  ConfigResult<Config> result = loadFromString(yaml);
  return result.ok() ? "ok" : toLines(result.error());
}

const std::string kStatic = "    endpoints: [127.0.0.1:8080]\n";

TEST(DiscoveryFieldsTest, EtcdSourceAndRegistrationLoad) {
  ConfigResult<Config> c = loadFromString(
      "sources: { etcd: { endpoints: [127.0.0.1:2379], prefix: /remora/web/, instance: w1 } }\n"
      "registration: { service: web, address: 127.0.0.1:8080, ttl: 5s }\n" +
      withCluster(kStatic));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->etcd.endpoints.size(), 1u);
  EXPECT_EQ(c->etcd.prefix, "/remora/web/");
  EXPECT_EQ(c->etcd.instance, "w1");
  EXPECT_EQ(c->registration.service, "web");
  EXPECT_EQ(c->registration.prefix, "/remora/services/");
  EXPECT_EQ(c->registration.ttl, Duration(5000));
  ConfigResult<Config> again = loadFromString(toYaml(*c));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(*again, *c);
}

TEST(DiscoveryFieldsTest, DiscoveredClustersLoadAndRoundTrip) {
  ConfigResult<Config> c =
      loadFromString(std::string(kListener) +
                     "clusters:\n"
                     "  - name: app\n"
                     "    type: etcd\n"
                     "    discovery: { prefix: /svc/app/ }\n"
                     "  - name: dns\n"
                     "    type: dns\n"
                     "    discovery: { hosts: [localhost:80, db.internal:5432], "
                     "refresh: 10s }\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->clusters[0].type, ClusterType::kEtcd);
  EXPECT_EQ(c->clusters[1].discovery.hosts.size(), 2u);
  EXPECT_EQ(c->clusters[1].discovery.hosts[1].str(), "db.internal:5432");
  ConfigResult<Config> again = loadFromString(toYaml(*c));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(*again, *c);
}

TEST(DiscoveryFieldsTest, Rejections) {
  EXPECT_EQ(errorOf("sources: { etcd: { endpoints: [127.0.0.1:2379], prefix: remora } }\n" +
                    withCluster(kStatic)),
            "sources.etcd.prefix: expected an etcd key prefix starting and ending with \"/\", "
            "got \"remora\"");
  EXPECT_EQ(errorOf("sources: { etcd: { prefix: /r/ } }\n" + withCluster(kStatic)),
            "sources.etcd.endpoints: expected at least one host:port, got nothing");
  EXPECT_EQ(errorOf("registration: { service: web, address: 127.0.0.1:80, ttl: 1s }\n" +
                    withCluster(kStatic)),
            "registration.ttl: expected a duration from 2s to 24h, got \"1s\"");
  EXPECT_EQ(errorOf(withCluster("    type: etcd\n")),
            "clusters[0].discovery: expected a map with prefix, got nothing");
  EXPECT_EQ(errorOf(withCluster("    type: etcd\n" + kStatic + "    discovery: {prefix: /a/}\n")),
            "clusters[0].endpoints: only for type: static (this cluster discovers its endpoints)");
  EXPECT_EQ(errorOf(withCluster("    type: dns\n    discovery: { hosts: [\"local host:80\"] }\n")),
            "clusters[0].discovery.hosts[0]: expected name:port (a DNS name and a port "
            "1..65535), got \"local host:80\"");
  EXPECT_EQ(errorOf(withCluster("    type: dns\n    discovery: { prefix: /a/, hosts: [a:1] }\n")),
            "clusters[0].discovery.prefix: only for type: etcd");
  EXPECT_EQ(errorOf(withCluster("    type: consul\n" + kStatic)),
            "clusters[0].type: expected one of static, original_dst, etcd, dns, got \"consul\"");
}

}  // namespace
}  // namespace remora::config
