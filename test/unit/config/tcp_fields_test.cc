// The listener's protocol fields: defaults, round trip through toYaml, and every refusal with
// its field path.

#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace remora::config {
namespace {

std::string withListener(const std::string& listener) {
  return "listeners:\n  - name: l\n    address: 127.0.0.1:7000\n" + listener +
         "clusters:\n  - name: c\n    endpoints: [127.0.0.1:7001]\n";
}

std::string errorsOf(const std::string& yaml) {
  auto r = loadFromString(yaml);
  if (r) return "";
  std::string out;
  for (const FieldError& e : r.error()) out += e.path + ": " + e.message + "\n";
  return out;
}

TEST(TcpFields, DefaultsAndRoundTrip) {
  auto http = loadFromString(withListener("    routes: [{prefix: /, cluster: c}]\n"));
  ASSERT_TRUE(http);
  EXPECT_EQ(http->listeners[0].protocol, ListenerProtocol::kHttp);
  auto intercept = loadFromString(
      withListener("    original_dst: true\n    routes: [{prefix: /, cluster: c}]\n"));
  ASSERT_TRUE(intercept);
  EXPECT_EQ(intercept->listeners[0].protocol, ListenerProtocol::kAuto);

  auto tcp = loadFromString(withListener(
      "    protocol: auto\n    detection_timeout: 250ms\n    opaque_ports: [3306, 22]\n"
      "    tcp:\n      cluster: c\n      idle_timeout: 10m\n      max_connect_attempts: 2\n"
      "      sni_routes: [{sni: '*.Example.com', cluster: c}]\n"
      "    routes: [{prefix: /, cluster: c}]\n"));
  ASSERT_TRUE(tcp) << errorsOf(toYaml(*tcp));
  const Listener& l = tcp->listeners[0];
  EXPECT_EQ(l.detection_timeout, Duration(250));
  EXPECT_EQ(l.opaque_ports, (std::vector<uint16_t>{3306, 22}));
  EXPECT_EQ(l.tcp.idle, Duration(600000));
  EXPECT_EQ(l.tcp.max_connect_attempts, 2u);
  ASSERT_EQ(l.tcp.sni_routes.size(), 1u);
  EXPECT_EQ(l.tcp.sni_routes[0].sni, "*.example.com");
  auto again = loadFromString(toYaml(*tcp));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->listeners[0], l);

  // A tcp listener needs no routes.
  EXPECT_TRUE(loadFromString(withListener("    protocol: tcp\n    tcp: {cluster: c}\n")));
}

TEST(TcpFields, RefusedWithTheirPaths) {
  EXPECT_EQ(errorsOf(withListener("    protocol: tcp\n")),
            "listeners[0].tcp.cluster: required for protocol: tcp\n");
  EXPECT_EQ(errorsOf(withListener("    protocol: tcp\n    tcp: {cluster: nope}\n")),
            "listeners[0].tcp.cluster: unknown cluster \"nope\"\n");
  EXPECT_NE(errorsOf(withListener("    protocol: udp\n    tcp: {cluster: c}\n"))
                .find("listeners[0].protocol: expected one of http, tcp, auto"),
            std::string::npos);
  EXPECT_NE(errorsOf(withListener("    protocol: auto\n    opaque_ports: [0]\n    tcp: {cluster: "
                                  "c}\n    routes: [{prefix: /, cluster: c}]\n"))
                .find("listeners[0].opaque_ports[0]: expected a port number 1..65535"),
            std::string::npos);
  EXPECT_NE(errorsOf(withListener("    protocol: auto\n    tcp:\n      sni_routes: [{sni: 'a..b', "
                                  "cluster: c}]\n    routes: [{prefix: /, cluster: c}]\n"))
                .find("listeners[0].tcp.sni_routes[0].sni: expected a server name"),
            std::string::npos);
  EXPECT_EQ(
      errorsOf(withListener("    tcp: {cluster: c}\n    routes: [{prefix: /, cluster: c}]\n")),
      "listeners[0].tcp: needs protocol: tcp or auto\n");
}

}  // namespace
}  // namespace remora::config
