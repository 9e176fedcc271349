#include "admin/config_json.h"

#include <gtest/gtest.h>

namespace remora::admin {
namespace {

TEST(ConfigJsonTest, AddressesUseHostPortWithBracketsForIpv6) {
  EXPECT_EQ(addressString({"127.0.0.1", 80}), "127.0.0.1:80");
  EXPECT_EQ(addressString({"::1", 9901}), "[::1]:9901");
}

TEST(ConfigJsonTest, RendersEveryField) {
  config::Config c;
  c.workers = 4;
  c.log_level = "debug";
  config::Listener l;
  l.name = "ingress";
  l.address = {"0.0.0.0", 15001};
  l.routes = {{"/api", "api"}, {"/", "web"}};
  c.listeners.push_back(l);
  config::Cluster api;
  api.name = "api";
  api.endpoints = {{"10.0.0.1", 8080}};
  c.clusters.push_back(api);

  const nlohmann::json expected = nlohmann::json::parse(R"({
    "workers": 4,
    "log_level": "debug",
    "config_watch": true,
    "admin": {"address": "127.0.0.1:9901", "control": {"address": "127.0.0.1:9902"}},
    "drain": {"grace_period": "5000ms", "deadline": "30000ms"},
    "plugins": {"dir": "", "cache_dir": "/tmp/remora-plugin-cache"},
    "listeners": [{
      "name": "ingress",
      "address": "0.0.0.0:15001",
      "limits": {"max_request_headers_bytes": 61440, "max_request_headers": 100,
                 "buffer_high_watermark": 1048576},
      "timeouts": {"request_headers": "10000ms", "idle": "60000ms", "request": "0ms",
                   "grpc_max": "0ms"},
      "routes": [{"prefix": "/api", "cluster": "api"}, {"prefix": "/", "cluster": "web"}],
      "original_dst": false
    }],
    "clusters": [{
      "name": "api",
      "type": "static",
      "endpoints": ["10.0.0.1:8080"],
      "lb_policy": "round_robin",
      "connect_timeout": "1000ms",
      "response_timeout": "15000ms",
      "max_connections_per_endpoint": 1024,
      "max_pending_requests": 1024,
      "max_connect_attempts": 3,
      "idle_timeout": "60000ms",
      "protocol": "http1",
      "http2": {"max_concurrent_streams": 100, "initial_window_size": 1048576,
                "keepalive_interval": "0ms", "keepalive_timeout": "5000ms"}
    }]
  })");
  EXPECT_EQ(toJson(c), expected) << toJson(c).dump(2);
}

TEST(ConfigJsonTest, EmptyListsAreArrays) {
  const auto j = toJson(config::Config{});
  EXPECT_TRUE(j["listeners"].is_array());
  EXPECT_TRUE(j["clusters"].is_array());
}

}  // namespace
}  // namespace remora::admin
