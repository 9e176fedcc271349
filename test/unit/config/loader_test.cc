// The loader's rejections, asserted message by message: operators read these from
// `remora --validate`, so their exact wording is part of the interface.

#include "config/loader.h"

#include <gtest/gtest.h>

#include <string>

namespace remora::config {
namespace {

// The smallest valid config; tests add or change one thing at a time.
constexpr const char* kListener = R"(
listeners:
  - name: in
    address: 127.0.0.1:10000
    routes: [{prefix: /, cluster: app}]
)";
constexpr const char* kCluster = R"(
clusters:
  - name: app
    endpoints: [127.0.0.1:8080]
)";

std::string minimal() {
  return std::string(kListener) + kCluster;
}

// minimal() with the first `from` replaced by `to`.
std::string minimalWith(const std::string& from, const std::string& to) {
  std::string yaml = minimal();
  yaml.replace(yaml.find(from), from.size(), to);
  return yaml;
}

// The errors one per line, or "ok" when the YAML loads.
std::string errorOf(const std::string& yaml) {
  ConfigResult<Config> result = loadFromString(yaml);
  return result.ok() ? "ok" : toLines(result.error());
}

// `listeners` with one listener whose body is `body` (indented four spaces), plus kCluster.
std::string withListener(const std::string& body) {
  return "listeners:\n  - name: in\n    address: 127.0.0.1:10000\n    routes: [{cluster: app}]\n" +
         body + kCluster;
}

// kListener plus one cluster whose extra fields are `body` (indented four spaces).
std::string withCluster(const std::string& body) {
  return std::string(kListener) + "clusters:\n  - name: app\n    endpoints: [127.0.0.1:8080]\n" +
         body;
}

TEST(LoaderTest, MinimalConfigLoads) {
  EXPECT_EQ(errorOf(minimal()), "ok");
}

TEST(LoaderTest, DefaultsApplied) {
  ConfigResult<Config> result = loadFromString(minimal());
  ASSERT_TRUE(result.ok()) << result.error();
  const Config& config = *result;
  EXPECT_EQ(config.workers, 0u);
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.admin, Admin{});
  EXPECT_EQ(config.admin.address.str(), "127.0.0.1:9901");
  EXPECT_EQ(config.drain.grace_period, std::chrono::seconds(5));
  EXPECT_EQ(config.drain.deadline, std::chrono::seconds(30));
  ASSERT_EQ(config.listeners.size(), 1u);
  const Listener& listener = config.listeners[0];
  EXPECT_EQ(listener.limits, ListenerLimits{});
  EXPECT_EQ(listener.limits.max_request_headers_bytes, 61440u);
  EXPECT_EQ(listener.timeouts, ListenerTimeouts{});
  EXPECT_EQ(listener.timeouts.request, Duration{0});
  ASSERT_EQ(config.clusters.size(), 1u);
  const Cluster& cluster = config.clusters[0];
  EXPECT_EQ(cluster.lb_policy, LbPolicy::kRoundRobin);
  EXPECT_EQ(cluster.connect_timeout, std::chrono::seconds(1));
  EXPECT_EQ(cluster.response_timeout, std::chrono::seconds(15));
  EXPECT_EQ(cluster.max_connections_per_endpoint, 1024u);
  EXPECT_EQ(cluster.max_pending_requests, 1024u);
  EXPECT_EQ(cluster.max_connect_attempts, 3u);
  EXPECT_EQ(cluster.idle_timeout, std::chrono::seconds(60));
}

TEST(LoaderTest, RouteWithoutPrefixMatchesEverything) {
  ConfigResult<Config> result = loadFromString(withListener(""));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->listeners[0].routes[0].prefix, "/");
}

TEST(LoaderTest, NullSectionKeepsDefaults) {
  // A section whose fields are all commented out is null in YAML.
  ConfigResult<Config> result = loadFromString("admin:\ndrain:\n" + minimal());
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->admin, Admin{});
  EXPECT_EQ(result->drain, Drain{});
}

TEST(LoaderTest, UnknownFieldAtEveryLevel) {
  EXPECT_EQ(errorOf("frobnicate: 1\n" + minimal()), "frobnicate: unknown field");
  EXPECT_EQ(errorOf("admin: {address: 127.0.0.1:9901, port: 1}\n" + minimal()),
            "admin.port: unknown field");
  EXPECT_EQ(errorOf("drain: {grace: 1s}\n" + minimal()), "drain.grace: unknown field");
  EXPECT_EQ(errorOf(withListener("    frobnicate: true\n")),
            "listeners[0].frobnicate: unknown field");
  EXPECT_EQ(errorOf(withListener("    limits: {max_body: 1}\n")),
            "listeners[0].limits.max_body: unknown field");
  EXPECT_EQ(errorOf(withListener("    timeouts: {connect: 1s}\n")),
            "listeners[0].timeouts.connect: unknown field");
  EXPECT_EQ(errorOf("listeners:\n  - name: in\n    address: 127.0.0.1:1\n"
                    "    routes: [{cluster: app}, {cluster: app, path: /x}]\n" +
                    std::string(kCluster)),
            "listeners[0].routes[1].path: unknown field");
  EXPECT_EQ(errorOf(withCluster("    lb: random\n")), "clusters[0].lb: unknown field");
}

TEST(LoaderTest, DuplicateFieldIsAnError) {
  EXPECT_EQ(errorOf(withCluster("    connect_timeout: 1s\n    connect_timeout: 2s\n")),
            "clusters[0].connect_timeout: duplicate field");
}

TEST(LoaderTest, BadAddresses) {
  EXPECT_EQ(errorOf(minimalWith("127.0.0.1:10000", "x")),
            "listeners[0].address: expected host:port, got \"x\"");
  EXPECT_EQ(errorOf("admin: {address: example.com:80}\n" + minimal()),
            "admin.address: expected a numeric IPv4 or IPv6 host or localhost, got "
            "\"example.com\"");
  EXPECT_EQ(errorOf("admin: {address: '::1:80'}\n" + minimal()),
            "admin.address: expected [IPv6]:port, got \"::1:80\"");
  EXPECT_EQ(errorOf("admin: {address: '[::1]'}\n" + minimal()),
            "admin.address: expected host:port, got \"[::1]\"");
  EXPECT_EQ(errorOf("admin: {address: '[1.2.3.4]:80'}\n" + minimal()),
            "admin.address: expected a numeric IPv4 or IPv6 host or localhost, got \"1.2.3.4\"");
  EXPECT_EQ(errorOf("admin: {address: 01.2.3.4:80}\n" + minimal()),
            "admin.address: expected a numeric IPv4 or IPv6 host or localhost, got \"01.2.3.4\"");
  EXPECT_EQ(errorOf("admin: {address: ':80'}\n" + minimal()),
            "admin.address: expected host:port, got \":80\"");
  EXPECT_EQ(errorOf("admin: {address: {host: 1.2.3.4}}\n" + minimal()),
            "admin.address: expected host:port (quote IPv6 like \"[::1]:80\"), got a map");
  EXPECT_EQ(errorOf(minimalWith("127.0.0.1:8080", "[::1]:80")),
            "clusters[0].endpoints[0]: expected host:port (quote IPv6 like \"[::1]:80\"), got a "
            "map");
}

TEST(LoaderTest, BadPorts) {
  EXPECT_EQ(errorOf("admin: {address: 127.0.0.1:0}\n" + minimal()),
            "admin.address: expected a port 1..65535, got 0");
  EXPECT_EQ(errorOf("admin: {address: 127.0.0.1:65536}\n" + minimal()),
            "admin.address: expected a port 1..65535, got 65536");
  EXPECT_EQ(errorOf("admin: {address: 127.0.0.1:http}\n" + minimal()),
            "admin.address: expected a port 1..65535, got \"http\"");
  EXPECT_EQ(errorOf("admin: {address: '127.0.0.1:'}\n" + minimal()),
            "admin.address: expected host:port, got \"127.0.0.1:\"");
  EXPECT_EQ(errorOf("admin: {address: 127.0.0.1:+80}\n" + minimal()),
            "admin.address: expected a port 1..65535, got \"+80\"");
}

TEST(LoaderTest, AddressesAreCanonical) {
  ConfigResult<Config> result =
      loadFromString("admin: {address: 'localhost:9000'}\n" +
                     minimalWith("127.0.0.1:8080", "'[0:0::1]:80', 10.1.2.3:9"));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->admin.address, (SocketAddress{"127.0.0.1", 9000}));
  ASSERT_EQ(result->clusters[0].endpoints.size(), 2u);
  EXPECT_EQ(result->clusters[0].endpoints[0], (SocketAddress{"::1", 80}));
  EXPECT_EQ(result->clusters[0].endpoints[1].str(), "10.1.2.3:9");
}

TEST(LoaderTest, BadDurations) {
  EXPECT_EQ(errorOf(withCluster("    connect_timeout: fast\n")),
            "clusters[0].connect_timeout: expected a duration like 250ms or 5s, got \"fast\"");
  EXPECT_EQ(errorOf(withCluster("    connect_timeout: 5\n")),
            "clusters[0].connect_timeout: expected a duration like 250ms or 5s, got 5");
  EXPECT_EQ(errorOf(withCluster("    idle_timeout: 1.5s\n")),
            "clusters[0].idle_timeout: expected a duration like 250ms or 5s, got \"1.5s\"");
  EXPECT_EQ(errorOf(withCluster("    idle_timeout: -1s\n")),
            "clusters[0].idle_timeout: expected a duration like 250ms or 5s, got \"-1s\"");
  EXPECT_EQ(errorOf(withCluster("    idle_timeout: [1s]\n")),
            "clusters[0].idle_timeout: expected a duration like 250ms or 5s, got a list");
  EXPECT_EQ(errorOf(withCluster("    connect_timeout: 0s\n")),
            "clusters[0].connect_timeout: expected a duration from 1ms to 24h, got \"0s\"");
  EXPECT_EQ(errorOf(withCluster("    response_timeout: 0\n")),
            "clusters[0].response_timeout: expected a duration from 1ms to 24h, got 0");
  EXPECT_EQ(errorOf(withListener("    timeouts: {request: 25h}\n")),
            "listeners[0].timeouts.request: expected a duration from 0s to 24h, got \"25h\"");
  EXPECT_EQ(errorOf(withListener("    timeouts: {grpc_max: 25h}\n")),
            "listeners[0].timeouts.grpc_max: expected a duration from 0s to 24h, got \"25h\"");
  EXPECT_EQ(errorOf("drain: {deadline: 99999999999999999999h}\n" + minimal()),
            "drain.deadline: expected a duration from 0s to 24h, got \"99999999999999999999h\"");
}

TEST(LoaderTest, DurationUnits) {
  ConfigResult<Config> result = loadFromString(
      "drain: {grace_period: 0, deadline: 2m}\n" +
      withListener(
          "    timeouts: {request_headers: 250ms, idle: 1h, request: 0s, grpc_max: 30s}\n"));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->drain.grace_period, Duration{0});
  EXPECT_EQ(result->drain.deadline, std::chrono::minutes(2));
  EXPECT_EQ(result->listeners[0].timeouts.request_headers, Duration{250});
  EXPECT_EQ(result->listeners[0].timeouts.idle, std::chrono::hours(1));
  EXPECT_EQ(result->listeners[0].timeouts.grpc_max, std::chrono::seconds(30));
}

TEST(LoaderTest, BadIntegers) {
  EXPECT_EQ(errorOf("workers: -1\n" + minimal()), "workers: expected an integer 0..256, got -1");
  EXPECT_EQ(errorOf("workers: 257\n" + minimal()), "workers: expected an integer 0..256, got 257");
  EXPECT_EQ(errorOf("workers: 2.5\n" + minimal()), "workers: expected an integer 0..256, got 2.5");
  EXPECT_EQ(errorOf("workers: lots\n" + minimal()),
            "workers: expected an integer 0..256, got \"lots\"");
  EXPECT_EQ(errorOf("workers:\n" + minimal()), "workers: expected an integer 0..256, got null");
  EXPECT_EQ(errorOf(withCluster("    max_connect_attempts: 0\n")),
            "clusters[0].max_connect_attempts: expected an integer 1..100, got 0");
  EXPECT_EQ(errorOf(withListener("    limits: {max_request_headers_bytes: 100}\n")),
            "listeners[0].limits.max_request_headers_bytes: expected an integer 1024..1048576, "
            "got 100");
  EXPECT_EQ(errorOf(withCluster("    max_connections_per_endpoint: 99999999999\n")),
            "clusters[0].max_connections_per_endpoint: expected an integer 1..1000000, got "
            "99999999999");
}

TEST(LoaderTest, BadWords) {
  EXPECT_EQ(errorOf("log_level: loud\n" + minimal()),
            "log_level: expected one of trace, debug, info, warn, error, critical, off, got "
            "\"loud\"");
  EXPECT_EQ(errorOf(withCluster("    lb_policy: random\n")),
            "clusters[0].lb_policy: expected one of round_robin, least_request, got \"random\"");
  EXPECT_EQ(errorOf(withCluster("    lb_policy: ''\n")),
            "clusters[0].lb_policy: expected one of round_robin, least_request, got \"\"");
}

TEST(LoaderTest, BadNamesAndPrefixes) {
  EXPECT_EQ(errorOf(minimalWith("name: in", "name: 'a b'")),
            "listeners[0].name: expected a name matching [A-Za-z0-9_.-]+, got \"a b\"");
  EXPECT_EQ(errorOf(minimalWith("prefix: /", "prefix: api")),
            "listeners[0].routes[0].prefix: expected a path starting with \"/\", got \"api\"");
}

TEST(LoaderTest, UnknownCluster) {
  EXPECT_EQ(errorOf("listeners:\n  - name: in\n    address: 127.0.0.1:1\n    routes:\n"
                    "      - {prefix: /a, cluster: app}\n      - {prefix: /b, cluster: app}\n"
                    "      - {prefix: /, cluster: nope}\n" +
                    std::string(kCluster)),
            "listeners[0].routes[2].cluster: unknown cluster \"nope\"");
}

TEST(LoaderTest, Duplicates) {
  EXPECT_EQ(errorOf(withCluster("  - name: b\n    endpoints: [127.0.0.1:1]\n"
                                "  - name: app\n    endpoints: [127.0.0.1:2]\n")),
            "clusters[2].name: duplicate cluster \"app\"");
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {name: in, address: 127.0.0.1:1, routes: [{cluster: app}]}\n"
                    "  - {name: in, address: 127.0.0.1:2, routes: [{cluster: app}]}\n" +
                    std::string(kCluster)),
            "listeners[1].name: duplicate listener \"in\"");
}

TEST(LoaderTest, ConflictingAddresses) {
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {name: a, address: 0.0.0.0:80, routes: [{cluster: app}]}\n"
                    "  - {name: b, address: 127.0.0.1:80, routes: [{cluster: app}]}\n"
                    "  - {name: c, address: 'localhost:80', routes: [{cluster: app}]}\n" +
                    std::string(kCluster)),
            "listeners[1].address: 127.0.0.1:80 conflicts with listeners[0].address 0.0.0.0:80\n"
            "listeners[2].address: 127.0.0.1:80 conflicts with listeners[0].address 0.0.0.0:80");
  EXPECT_EQ(errorOf("admin: {address: 127.0.0.1:10000}\n" + minimal()),
            "admin.address: 127.0.0.1:10000 conflicts with listeners[0].address 127.0.0.1:10000");
  // Different families never conflict: whether [::] also takes IPv4 is the listener's choice.
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {name: a, address: 0.0.0.0:80, routes: [{cluster: app}]}\n"
                    "  - {name: b, address: '[::]:80', routes: [{cluster: app}]}\n" +
                    std::string(kCluster)),
            "ok");
}

TEST(LoaderTest, WrongTypes) {
  EXPECT_EQ(errorOf("listeners: {name: in}\n" + std::string(kCluster)),
            "listeners: expected a list, got a map");
  EXPECT_EQ(errorOf(std::string(kListener) + "clusters: app\n"),
            "clusters: expected a list, got \"app\"");
  EXPECT_EQ(errorOf("admin: [127.0.0.1:9901]\n" + minimal()), "admin: expected a map, got a list");
  EXPECT_EQ(errorOf("listeners: [ingress]\n" + std::string(kCluster)),
            "listeners[0]: expected a map, got \"ingress\"");
  EXPECT_EQ(errorOf(withCluster("  - \n")), "clusters[1]: expected a map, got null");
  EXPECT_EQ(errorOf(withListener("    limits: 1024\n")),
            "listeners[0].limits: expected a map, got 1024");
  EXPECT_EQ(errorOf(minimalWith("[127.0.0.1:8080]", "{a: 127.0.0.1:8080}")),
            "clusters[0].endpoints: expected a list, got a map");
  EXPECT_EQ(errorOf(minimalWith("[{prefix: /, cluster: app}]", "[[app]]")),
            "listeners[0].routes[0]: expected a map, got a list");
  EXPECT_EQ(errorOf(minimalWith("cluster: app}", "cluster: [app]}")),
            "listeners[0].routes[0].cluster: expected a cluster name, got a list");
  EXPECT_EQ(errorOf("- a\n- b\n"), "<string>: expected a map of top-level fields, got a list");
}

TEST(LoaderTest, MissingAndEmptyRequiredFields) {
  EXPECT_EQ(errorOf(minimalWith("[127.0.0.1:8080]", "[]")),
            "clusters[0].endpoints: expected at least one host:port, got an empty list");
  EXPECT_EQ(errorOf(std::string(kListener) + "clusters:\n  - name: app\n"),
            "clusters[0].endpoints: expected at least one host:port, got nothing");
  EXPECT_EQ(errorOf("listeners:\n  - {routes: [{prefix: /}]}\n" + std::string(kCluster)),
            "listeners[0].name: expected a name matching [A-Za-z0-9_.-]+, got nothing\n"
            "listeners[0].address: expected host:port, got nothing\n"
            "listeners[0].routes[0].cluster: expected a cluster name, got nothing");
  EXPECT_EQ(errorOf("listeners:\n  - {name: in, address: 127.0.0.1:1, routes: []}\n" +
                    std::string(kCluster)),
            "listeners[0].routes: expected at least one route, got an empty list");
  EXPECT_EQ(errorOf("listeners:\n" + std::string(kCluster)),
            "listeners: expected at least one listener, got null");
  EXPECT_EQ(errorOf(""),
            "listeners: expected at least one listener, got nothing\n"
            "clusters: expected at least one cluster, got nothing");
}

TEST(LoaderTest, CollectsEveryError) {
  const std::string yaml = R"(workers: -1
log_level: loud
bogus: 1
listeners:
  - name: in
    address: x
    routes:
      - {prefix: /, cluster: nope}
  - name: in
    address: 127.0.0.1:99999
    routes: [{cluster: app}]
clusters:
  - name: app
    endpoints: [127.0.0.1:8080, y]
    connect_timeout: fast
  - name: app
    endpoints: []
)";
  EXPECT_EQ(errorOf(yaml),
            "bogus: unknown field\n"
            "workers: expected an integer 0..256, got -1\n"
            "log_level: expected one of trace, debug, info, warn, error, critical, off, got "
            "\"loud\"\n"
            "listeners[0].address: expected host:port, got \"x\"\n"
            "listeners[1].address: expected a port 1..65535, got 99999\n"
            "clusters[0].endpoints[1]: expected host:port, got \"y\"\n"
            "clusters[0].connect_timeout: expected a duration like 250ms or 5s, got \"fast\"\n"
            "clusters[1].endpoints: expected at least one host:port, got an empty list\n"
            "listeners[1].name: duplicate listener \"in\"\n"
            "clusters[1].name: duplicate cluster \"app\"\n"
            "listeners[0].routes[0].cluster: unknown cluster \"nope\"");
}

TEST(LoaderTest, YamlSyntaxErrorNamesOriginLineAndColumn) {
  EXPECT_EQ(errorOf("workers: 1\nlisteners: [a, b\nclusters: []\n"),
            "<string>:3:9: end of sequence flow not found");
  ConfigResult<Config> result =
      loadFromString("workers: 1\nadmin: {address: [::1]:80}\n", "sidecar.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(toLines(result.error()), "sidecar.yaml:2:23: end of map flow not found");
  EXPECT_EQ(errorOf("a: b: c\n"), "<string>:1:5: illegal map value");
}

TEST(LoaderTest, MoreThanOneDocument) {
  EXPECT_EQ(errorOf(minimal() + "---\n" + minimal()),
            "<string>: expected one YAML document, got 2");
  EXPECT_EQ(errorOf(minimal() + "---\n" + minimal() + "---\nx: 1\n"),
            "<string>: expected one YAML document, got 3");
  std::string many = minimal();
  for (int i = 0; i < 20; ++i) many += "---\nx: 1\n";
  EXPECT_EQ(errorOf(many), "<string>: expected one YAML document, got at least 16");
  // A trailing document marker adds no document.
  EXPECT_EQ(errorOf(minimal() + "---\n"), "ok");
}

TEST(LoaderTest, StrayCommaDoesNotHang) {
  // yaml-cpp 0.7's LoadAll never returns on these (yaml-cpp issue #1040).
  const std::string missing =
      "listeners: expected at least one listener, got nothing\n"
      "clusters: expected at least one cluster, got nothing";
  EXPECT_EQ(errorOf(","), missing);
  EXPECT_EQ(errorOf(", a\nb: 1\n"), missing);
  // yaml-cpp reads a lone "," as an empty document, and an empty document ends the stream.
  EXPECT_EQ(errorOf(minimal() + "---\n,\n"), "ok");
}

TEST(LoaderTest, ErrorValuesAreQuotedAndCut) {
  EXPECT_EQ(errorOf("log_level: \"a\\\"b\\n\"\n" + minimal()),
            "log_level: expected one of trace, debug, info, warn, error, critical, off, got "
            "\"a\\\"b\\n\"");
  EXPECT_EQ(errorOf("log_level: " + std::string(100, 'x') + "\n" + minimal()),
            "log_level: expected one of trace, debug, info, warn, error, critical, off, got \"" +
                std::string(80, 'x') + "...\"");
  // A quoted number was written as a string, and is shown as one.
  EXPECT_EQ(errorOf("workers: '-1'\n" + minimal()),
            "workers: expected an integer 0..256, got \"-1\"");
}

// yaml-cpp passes any byte through, but the admin API's JSON (nlohmann::json::dump) throws on
// invalid UTF-8: a route prefix of "/\xc1" was accepted, and GET /config then ended the process.
TEST(LoaderTest, TextMustBeUtf8) {
  EXPECT_EQ(errorOf(minimalWith("prefix: /", "prefix: \"/\xc1\"")),
            "listeners[0].routes[0].prefix: expected a path starting with \"/\" in UTF-8, got "
            "invalid bytes");
  EXPECT_EQ(errorOf("plugins: {dir: \"/usr/lib/\xed\xa0\x80\"}\n" + minimal()),
            "plugins.dir: expected a directory path in UTF-8, got invalid bytes");
  ConfigResult<Config> ok =
      loadFromString(minimalWith("prefix: /", "prefix: \"/caf\xc3\xa9/\xf0\x9f\x9a\x80\""));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->listeners[0].routes[0].prefix, "/caf\xc3\xa9/\xf0\x9f\x9a\x80");
}

// --- Transparent interception and health checks ---

TEST(LoaderTest, OriginalDstListenerAndCluster) {
  ConfigResult<Config> result = loadFromString(
      "listeners: [{name: out, address: 127.0.0.1:15001, original_dst: true,\n"
      "             routes: [{cluster: passthrough}]}]\n"
      "clusters: [{name: passthrough, type: original_dst}]\n");
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_TRUE(result->listeners[0].original_dst);
  EXPECT_EQ(result->clusters[0].type, ClusterType::kOriginalDst);
  EXPECT_TRUE(result->clusters[0].endpoints.empty());
}

TEST(LoaderTest, OriginalDstErrors) {
  EXPECT_EQ(errorOf(withListener("    original_dst: yes please\n")),
            "listeners[0].original_dst: expected true or false, got \"yes please\"");
  EXPECT_EQ(errorOf(withCluster("    type: dynamic\n")),
            "clusters[0].type: expected one of static, original_dst, etcd, dns, got \"dynamic\"");
  EXPECT_EQ(errorOf(withCluster("    type: original_dst\n")),
            "clusters[0].endpoints: must be absent for type original_dst (each request goes to "
            "its connection's original destination)");
  EXPECT_EQ(errorOf(std::string(kListener) +
                    "clusters: [{name: app, type: original_dst, health_check: {path: /h}}]\n"),
            "clusters[0].health_check: not supported for type original_dst (no fixed endpoints)");
}

TEST(LoaderTest, HealthCheckDefaults) {
  ConfigResult<Config> result = loadFromString(withCluster("    health_check: {path: /healthz}\n"));
  ASSERT_TRUE(result.ok()) << result.error();
  const HealthCheck& h = result->clusters[0].health_check;
  EXPECT_EQ(h.path, "/healthz");
  EXPECT_EQ(h.interval, Duration{5000});
  EXPECT_EQ(h.timeout, Duration{1000});
  EXPECT_EQ(h.healthy_threshold, 2u);
  EXPECT_EQ(h.unhealthy_threshold, 3u);
  EXPECT_EQ(h.expected_statuses, std::vector<uint32_t>{200});
  EXPECT_FALSE(loadFromString(minimal())->clusters[0].health_check.enabled());
}

TEST(LoaderTest, HealthCheckErrors) {
  EXPECT_EQ(errorOf(withCluster("    health_check: {interval: 1s}\n")),
            "clusters[0].health_check.path: expected a path starting with \"/\", got nothing");
  EXPECT_EQ(errorOf(withCluster("    health_check: {path: healthz}\n")),
            "clusters[0].health_check.path: expected a path starting with \"/\", got \"healthz\"");
  EXPECT_EQ(errorOf(withCluster("    health_check: {path: /h, unhealthy_threshold: 0}\n")),
            "clusters[0].health_check.unhealthy_threshold: expected an integer 1..1000, got 0");
  EXPECT_EQ(errorOf(withCluster("    health_check: {path: /h, interval: 1s, timeout: 2s}\n")),
            "clusters[0].health_check.timeout: must not exceed interval (1s), got 2s");
  EXPECT_EQ(errorOf(withCluster("    health_check: {path: /h, expected_statuses: [200, 700]}\n")),
            "clusters[0].health_check.expected_statuses[1]: expected an HTTP status 100-599, "
            "got 700");
  EXPECT_EQ(errorOf(withCluster("    health_check: {path: /h, expected_statuses: []}\n")),
            "clusters[0].health_check.expected_statuses: expected a non-empty list of statuses, "
            "got an empty list");
  EXPECT_EQ(errorOf(withCluster("    health_check: {path: /h, intervall: 1s}\n")),
            "clusters[0].health_check.intervall: unknown field");
}

TEST(LoaderTest, UpstreamProtocol) {
  ConfigResult<Config> result = loadFromString(withCluster(
      "    protocol: http2\n    http2: {max_concurrent_streams: 8, initial_window_size: 65535}\n"));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->clusters[0].protocol, UpstreamProtocol::kHttp2);
  EXPECT_EQ(result->clusters[0].http2.max_concurrent_streams, 8u);
  EXPECT_EQ(result->clusters[0].http2.initial_window_size, 65535u);
  ConfigResult<Config> defaults = loadFromString(withCluster(""));
  ASSERT_TRUE(defaults.ok()) << defaults.error();
  EXPECT_EQ(defaults->clusters[0].protocol, UpstreamProtocol::kHttp1);
  EXPECT_EQ(defaults->clusters[0].http2.max_concurrent_streams, 100u);
  EXPECT_EQ(defaults->clusters[0].http2.initial_window_size, 1024u * 1024u);
  EXPECT_EQ(errorOf(withCluster("    protocol: h2\n")),
            "clusters[0].protocol: expected one of http1, http2, got \"h2\"");
  EXPECT_EQ(errorOf(withCluster("    http2: {max_concurrent_streams: 0}\n")),
            "clusters[0].http2.max_concurrent_streams: expected an integer 1..2147483647, got 0");
  EXPECT_EQ(errorOf(withCluster("    http2: {initial_window_size: 1024}\n")),
            "clusters[0].http2.initial_window_size: expected an integer 65535..2147483647, "
            "got 1024");
  EXPECT_EQ(errorOf(withCluster("    http2: {keepalive_timeout: 0s}\n")),
            "clusters[0].http2.keepalive_timeout: expected a duration from 1ms to 24h, got \"0s\"");
  EXPECT_EQ(errorOf(withCluster("    http2: {window: 1}\n")),
            "clusters[0].http2.window: unknown field");
}

}  // namespace
}  // namespace remora::config

namespace remora::config {
namespace {

TEST(LoaderTest, Http2Block) {
  ConfigResult<Config> defaults = loadFromString(minimal());
  ASSERT_TRUE(defaults.ok()) << defaults.error();
  EXPECT_EQ(defaults.value().listeners[0].http2, ListenerHttp2{});
  EXPECT_TRUE(defaults.value().listeners[0].http2.enabled);
  EXPECT_EQ(defaults.value().listeners[0].http2.max_concurrent_streams, 100u);

  ConfigResult<Config> set =
      loadFromString(withListener("    http2: {mode: off, max_resets: 5, flood_window: 2s}\n"));
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_FALSE(set.value().listeners[0].http2.enabled);
  EXPECT_EQ(set.value().listeners[0].http2.max_resets, 5u);
  EXPECT_EQ(set.value().listeners[0].http2.flood_window, Duration(2000));

  EXPECT_EQ(errorOf(withListener("    http2: {max_resets: 0}\n")),
            "listeners[0].http2.max_resets: expected an integer 1..1000000, got 0");
  EXPECT_EQ(errorOf(withListener("    http2: {initial_stream_window: 1024}\n")),
            "listeners[0].http2.initial_stream_window: expected an integer 65535..16777216, got "
            "1024");
  EXPECT_EQ(errorOf(withListener("    http2: {push: true}\n")),
            "listeners[0].http2.push: unknown field");
  EXPECT_NE(errorOf(withListener("    http2: {mode: h2c}\n")).find("listeners[0].http2.mode"),
            std::string::npos);
}

TEST(LoaderTest, ListenerTlsBlock) {
  ConfigResult<Config> ok = loadFromString(withListener(
      "    tls:\n      certificates: [{certificate_file: /c.pem, key_file: /k.pem}]\n"
      "      min_version: \"1.3\"\n      client_certificate: required\n      ca_file: /ca.pem\n"
      "      allowed_sans: [\"spiffe://td/ns/orders/*\"]\n      handshake_timeout: 2s\n"));
  ASSERT_TRUE(ok) << toLines(ok.error());
  const network::TlsServerOptions& tls = *ok.value().listeners[0].tls;
  EXPECT_EQ(tls.certificates[0].certificate_file, "/c.pem");
  EXPECT_EQ(tls.protocol.min_version, network::TlsVersion::k1_3);
  EXPECT_EQ(tls.client_certificate, network::ClientCertificate::kRequired);
  EXPECT_EQ(tls.handshake_timeout, Duration{2000});
  EXPECT_TRUE(tls.session_tickets);
  EXPECT_FALSE(loadFromString(minimal()).value().listeners[0].tls.has_value());
}

TEST(LoaderTest, ListenerTlsErrors) {
  EXPECT_EQ(errorOf(withListener("    tls: {}\n")),
            "listeners[0].tls.certificates: expected at least one certificate, got nothing");
  EXPECT_EQ(errorOf(withListener("    tls:\n      certificates: [{certificate_file: /c}]\n")),
            "listeners[0].tls.certificates[0].key_file: expected a file path, got nothing");
  EXPECT_EQ(
      errorOf(withListener("    tls:\n      certificates: [{certificate_file: /c, key_file: /k}]\n"
                           "      min_version: \"1.1\"\n      client_certificate: required\n"
                           "      alpn: [h3]\n")),
      "listeners[0].tls.min_version: expected one of 1.2, 1.3, got \"1.1\"\n"
      "listeners[0].tls.alpn[0]: expected h2 or http/1.1, got \"h3\"\n"
      "listeners[0].tls.ca_file: client_certificate: required needs a CA bundle to verify with");
}

TEST(LoaderTest, ClusterTlsBlock) {
  ConfigResult<Config> ok = loadFromString(
      withCluster("    tls: {sni: b.internal, verify_sans: [\"spiffe://td/ns/b/sa/b\"],\n"
                  "          certificate_file: /c, key_file: /k}\n"));
  ASSERT_TRUE(ok) << toLines(ok.error());
  const network::TlsClientOptions& tls = *ok.value().clusters[0].tls;
  EXPECT_EQ(tls.sni, "b.internal");
  EXPECT_EQ(tls.verify_sans, std::vector<std::string>{"spiffe://td/ns/b/sa/b"});
  EXPECT_EQ(tls.client_certificate.key_file, "/k");
  EXPECT_EQ(errorOf(withCluster("    tls: {insecure_skip_verify: true, ca_file: /ca}\n")),
            "clusters[0].tls.insecure_skip_verify: contradicts verify_sans and ca_file: nothing "
            "is verified with it");
  EXPECT_EQ(errorOf(withCluster("    tls: {key_file: /k}\n")),
            "clusters[0].tls.certificate_file: needed with key_file");
}

}  // namespace
}  // namespace remora::config
