// The plain-data config helpers and the scalar parsers the loader is built from.

#include "config/config.h"

#include <gtest/gtest.h>

#include "config/yaml_fields.h"

namespace remora::config {
namespace {

TEST(SocketAddressTest, Str) {
  EXPECT_EQ((SocketAddress{"1.2.3.4", 80}).str(), "1.2.3.4:80");
  EXPECT_EQ((SocketAddress{"::1", 80}).str(), "[::1]:80");
  EXPECT_EQ((SocketAddress{"fd00::10", 65535}).str(), "[fd00::10]:65535");
}

TEST(ConfigTest, FindCluster) {
  Config config;
  config.clusters.resize(2);
  config.clusters[0].name = "a";
  config.clusters[1].name = "b";
  ASSERT_NE(config.findCluster("b"), nullptr);
  EXPECT_EQ(config.findCluster("b"), &config.clusters[1]);
  EXPECT_EQ(config.findCluster("c"), nullptr);
  EXPECT_EQ(config.findCluster(""), nullptr);
}

TEST(DurationTest, Parse) {
  EXPECT_EQ(yaml::parseDuration("0"), Duration{0});
  EXPECT_EQ(yaml::parseDuration("0s"), Duration{0});
  EXPECT_EQ(yaml::parseDuration("250ms"), Duration{250});
  EXPECT_EQ(yaml::parseDuration("5s"), Duration{5000});
  EXPECT_EQ(yaml::parseDuration("1m"), Duration{60000});
  EXPECT_EQ(yaml::parseDuration("2h"), Duration{7200000});
  EXPECT_EQ(yaml::parseDuration("99999999999999999999h"), Duration::max());
  for (const char* bad : {"", "s", "5", "1.5s", "-1s", "+1s", "5 s", "5sec", "5S", " 5s", "0x5s"}) {
    EXPECT_EQ(yaml::parseDuration(bad), std::nullopt) << bad;
  }
}

TEST(DurationTest, FormatRoundTrips) {
  EXPECT_EQ(yaml::formatDuration(Duration{0}), "0s");
  EXPECT_EQ(yaml::formatDuration(Duration{250}), "250ms");
  EXPECT_EQ(yaml::formatDuration(Duration{1500}), "1500ms");
  EXPECT_EQ(yaml::formatDuration(Duration{60000}), "60s");
  for (int64_t ms : {0, 1, 999, 1000, 1001, 86400000}) {
    EXPECT_EQ(yaml::parseDuration(yaml::formatDuration(Duration{ms})), Duration{ms});
  }
}

TEST(AddressTest, Parse) {
  EXPECT_EQ(yaml::parseAddress("0.0.0.0:10000").value(), (SocketAddress{"0.0.0.0", 10000}));
  EXPECT_EQ(yaml::parseAddress("localhost:80").value(), (SocketAddress{"127.0.0.1", 80}));
  EXPECT_EQ(yaml::parseAddress("[::1]:80").value(), (SocketAddress{"::1", 80}));
  EXPECT_EQ(yaml::parseAddress("[FD00:0::10]:1").value(), (SocketAddress{"fd00::10", 1}));
  EXPECT_EQ(yaml::parseAddress("1.2.3.4").error(), "expected host:port, got \"1.2.3.4\"");
  EXPECT_EQ(yaml::parseAddress("[::1]80").error(), "expected host:port, got \"[::1]80\"");
  EXPECT_EQ(yaml::parseAddress("[]:80").error(), "expected host:port, got \"[]:80\"");
  EXPECT_EQ(yaml::parseAddress("::1:80").error(), "expected [IPv6]:port, got \"::1:80\"");
  EXPECT_EQ(yaml::parseAddress("1.2.3:80").error(),
            "expected a numeric IPv4 or IPv6 host or localhost, got \"1.2.3\"");
  EXPECT_EQ(yaml::parseAddress("[fe80::1%eth0]:80").error(),
            "expected a numeric IPv4 or IPv6 host or localhost, got \"fe80::1%eth0\"");
  EXPECT_EQ(yaml::parseAddress("1.2.3.4:-1").error(), "expected a port 1..65535, got -1");
  EXPECT_EQ(yaml::parseAddress("1.2.3.4:99999999999").error(),
            "expected a port 1..65535, got 99999999999");
}

TEST(DescribeTest, Nodes) {
  EXPECT_EQ(yaml::describe(YAML::Node(YAML::NodeType::Undefined)), "nothing");
  EXPECT_EQ(yaml::describe(YAML::Load("~")), "null");
  EXPECT_EQ(yaml::describe(YAML::Load("{a: 1}")), "a map");
  EXPECT_EQ(yaml::describe(YAML::Load("[1]")), "a list");
  EXPECT_EQ(yaml::describe(YAML::Load("[]")), "an empty list");
  EXPECT_EQ(yaml::describe(YAML::Load("-1.5")), "-1.5");
  EXPECT_EQ(yaml::describe(YAML::Load("'7'")), "\"7\"");
  EXPECT_EQ(yaml::describe(YAML::Load("fast")), "\"fast\"");
  EXPECT_EQ(yaml::quote("a\tb\x01"), "\"a\\tb\\x01\"");
}

}  // namespace
}  // namespace remora::config
