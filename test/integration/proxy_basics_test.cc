// The real remora binary in front of real demo upstreams: connection reuse, pipelining,
// HTTP/1.0 clients, Connection: close, the request head as the upstream sees it (hop-by-hop
// headers gone, X-Forwarded-*, x-request-id) and WebSocket tunnels.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/harness.h"

namespace remora::test {
namespace {

// The headers the demo upstream's /headers received: lowercase name → every value, in order.
std::map<std::string, std::vector<std::string>> receivedHeaders(const std::string& body) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(body);
  std::string line;
  std::getline(in, line);  // the request line
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    size_t v = line.find_first_not_of(' ', colon + 1);
    out[name].push_back(v == std::string::npos ? "" : line.substr(v));
  }
  return out;
}

// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx in lowercase hex (std::regex is avoided: g++ 12
// warns inside it under the sanitizers).
bool isUuidV4(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    bool hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    if (dash ? id[i] != '-' : !hex) return false;
  }
  return id[14] == '4' && std::string_view("89ab").find(id[19]) != std::string_view::npos;
}

TEST(ProxyBasics, ProxiesAGetToTheUpstream) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello from up0\n");
  EXPECT_EQ(r.header("x-upstream"), "up0");
  EXPECT_TRUE(r.keep_alive);
  int code = -1;
  EXPECT_EQ(curl({"-s", proxy.url("/status/201")}, &code), "status 201\n");
  EXPECT_EQ(code, 0);
}

TEST(ProxyBasics, RoutesByPathPrefix) {
  DemoUpstream a("up0"), b("up1");
  uint16_t port = freePort(), admin = freePort();
  std::ostringstream y;
  y << "workers: 1\n"
    << "admin: { address: 127.0.0.1:" << admin << " }\n"
    << "drain: { grace_period: 0s, deadline: 5s }\n"
    << "listeners:\n"
    << "  - name: ingress\n"
    << "    address: 127.0.0.1:" << port << "\n"
    << "    routes:\n"
    << "      - { prefix: /api/, cluster: api }\n"
    << "      - { prefix: /static, cluster: web }\n"
    << "clusters:\n"
    << "  - { name: api, endpoints: [" << a.address() << "] }\n"
    << "  - { name: web, endpoints: [" << b.address() << "] }\n";
  RemoraProcess remora(y.str());
  HttpClient client(port);
  EXPECT_EQ(client.request("GET", "/api/users?x=/static").header("x-upstream"), "up0");
  EXPECT_EQ(client.request("GET", "/static/app.js").header("x-upstream"), "up1");
  EXPECT_EQ(client.request("GET", "/staticky").header("x-upstream"), "up1");  // a plain prefix
  HttpResponse none = client.request("GET", "/api");  // "/api/" does not match "/api"
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("no route"), std::string::npos) << none.body;
  EXPECT_TRUE(none.keep_alive);
  HttpResponse after = client.request("GET", "/api/");
  EXPECT_EQ(after.status, 200) << after.error;
  // The 404 is answered while the request is still being parsed; a request pipelined behind it
  // must still be read and answered.
  ASSERT_TRUE(client.send(requestText("GET", "/nowhere") + requestText("GET", "/api/x")));
  EXPECT_EQ(client.readResponse().status, 404);
  EXPECT_EQ(client.readResponse().header("x-upstream"), "up0");
  // With a body still to come, the connection cannot skip it: the 404 says it closes.
  HttpResponse with_body = client.request("POST", "/nowhere", {}, "a body never read");
  EXPECT_EQ(with_body.status, 404);
  EXPECT_EQ(with_body.header("connection"), "close");
  EXPECT_TRUE(client.closedByPeer());
}

TEST(ProxyBasics, KeepAliveConnectionsAreReusedUpstream) {
  ProxyUnderTest proxy;
  UpstreamStats stats(proxy.upstream().port());
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<HttpClient>(proxy.port()));
  for (int round = 0; round < 10; ++round) {
    for (auto& c : clients) {
      HttpResponse r = c->request("GET", "/");
      ASSERT_EQ(r.status, 200) << r.error;
      ASSERT_TRUE(r.keep_alive);
    }
  }
  // curl reuses its one connection for several URLs on one command line.
  std::string out = curl({"-s", proxy.url("/"), proxy.url("/"), proxy.url("/")});
  EXPECT_EQ(out, "hello from up0\nhello from up0\nhello from up0\n");
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_downstream_connections_total"), 5);

  UpstreamCounts counts = stats.read();
  EXPECT_EQ(counts.requests, 43u);
  // Requests were sequential, so one pooled upstream connection carried them all.
  EXPECT_EQ(counts.connections, 1u);
}

TEST(ProxyBasics, PipelinedRequestsAreAnsweredInOrder) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  // One write; the slow one first, so a proxy answering out of order would be caught.
  ASSERT_TRUE(client.send(requestText("GET", "/slow/200") + requestText("GET", "/status/201") +
                          requestText("POST", "/count", {}, "12345") +
                          requestText("GET", "/headers?n=4") +
                          requestText("GET", "/", {{"Connection", "close"}})));
  HttpResponse r1 = client.readResponse();
  HttpResponse r2 = client.readResponse();
  HttpResponse r3 = client.readResponse();
  HttpResponse r4 = client.readResponse();
  HttpResponse r5 = client.readResponse();
  EXPECT_EQ(r1.status, 200);
  EXPECT_EQ(r1.body, "hello from up0\n");
  EXPECT_EQ(r2.status, 201);
  EXPECT_EQ(r2.body, "status 201\n");
  EXPECT_EQ(r3.body, "5\n");
  EXPECT_EQ(r4.body.rfind("GET /headers?n=4 HTTP/1.1\n", 0), 0u) << r4.body;
  EXPECT_EQ(r5.status, 200);
  EXPECT_EQ(r5.header("connection"), "close");
  EXPECT_TRUE(client.closedByPeer());
}

TEST(ProxyBasics, PipelinedRequestsSplitAcrossWrites) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  std::string all;
  for (int i = 0; i < 20; ++i) all += requestText("GET", "/status/" + std::to_string(200 + i));
  // Cut the bytes at odd places, so request heads straddle writes.
  for (size_t at = 0; at < all.size(); at += 37) ASSERT_TRUE(client.send(all.substr(at, 37)));
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = client.readResponse();
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200 + i);
  }
}

TEST(ProxyBasics, Http10ClientGetsACloseDelimitedBody) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  // The upstream answers the proxy chunked; an HTTP/1.0 client cannot read chunked.
  ASSERT_TRUE(client.send("GET /bytes/5000?chunked=1 HTTP/1.0\r\n\r\n"));
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.chunked);
  EXPECT_FALSE(r.has("transfer-encoding"));
  EXPECT_EQ(r.body, std::string(5000, 'x'));
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(client.closedByPeer());
}

TEST(ProxyBasics, Http10ClientWithoutKeepAliveIsClosed) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.0\r\n\r\n"));
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "hello from up0\n");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(client.closedByPeer());
}

TEST(ProxyBasics, Http10KeepAliveKeepsTheConnection) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send("GET /bytes/10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    HttpResponse r = client.readResponse();
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.body, "xxxxxxxxxx");
    EXPECT_EQ(r.header("content-length"), "10");
    EXPECT_EQ(r.header("connection"), "keep-alive");
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_FALSE(client.closedByPeer(std::chrono::milliseconds(100)));
}

TEST(ProxyBasics, ConnectionCloseIsHonouredButTheUpstreamConnectionIsKept) {
  ProxyUnderTest proxy;
  UpstreamStats stats(proxy.upstream().port());
  for (int i = 0; i < 3; ++i) {
    HttpClient client(proxy.port());
    HttpResponse r = client.request("GET", "/", {{"Connection", "close"}});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_FALSE(r.keep_alive);
    EXPECT_TRUE(client.closedByPeer());
  }
  // Connection is hop-by-hop: the client's close is not the upstream connection's.
  UpstreamCounts counts = stats.read();
  EXPECT_EQ(counts.requests, 3u);
  EXPECT_EQ(counts.connections, 1u);
}

TEST(ProxyBasics, PooledConnectionsExpireAfterTheClusterIdleTimeout) {
  ProxySpec spec;
  spec.cluster_yaml = "idle_timeout: 200ms";
  ProxyUnderTest proxy(spec);
  UpstreamStats stats(proxy.upstream().port());
  HttpClient client(proxy.port());
  ASSERT_EQ(client.request("GET", "/").status, 200);
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_upstream_connections_idle"), 1);
  ASSERT_TRUE(waitUntil(
      [&] { return scrapeMetric(proxy.adminPort(), "remora_upstream_connections_idle") == 0; },
      std::chrono::seconds(3)));
  ASSERT_EQ(client.request("GET", "/").status, 200);
  UpstreamCounts counts = stats.read();
  EXPECT_EQ(counts.requests, 2u);
  EXPECT_EQ(counts.connections, 2u);
}

TEST(ProxyBasics, UpstreamConnectionCloseOnlyClosesTheUpstreamSide) {
  ProxyUnderTest proxy;
  UpstreamStats stats(proxy.upstream().port());
  HttpClient client(proxy.port());
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = client.request("GET", "/close");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_TRUE(r.keep_alive);
    EXPECT_FALSE(r.has("connection"));
  }
  UpstreamCounts counts = stats.read();
  EXPECT_EQ(counts.requests, 3u);
  EXPECT_EQ(counts.connections, 3u);
}

TEST(ProxyBasics, HopByHopHeadersAreStripped) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/headers",
                                  {{"Connection", "keep-alive, X-Secret"},
                                   {"Keep-Alive", "timeout=5"},
                                   {"TE", "trailers"},
                                   {"Proxy-Connection", "keep-alive"},
                                   {"X-Secret", "only for the proxy"},
                                   {"X-Kept", "yes"}});
  ASSERT_EQ(r.status, 200) << r.error;
  auto h = receivedHeaders(r.body);
  for (const char* gone : {"connection", "keep-alive", "te", "proxy-connection", "x-secret"})
    EXPECT_EQ(h.count(gone), 0u) << gone << " reached the upstream:\n" << r.body;
  ASSERT_EQ(h.count("x-kept"), 1u) << r.body;
  EXPECT_EQ(h["x-kept"][0], "yes");
  ASSERT_EQ(h.count("host"), 1u);
  EXPECT_EQ(h["host"][0], "127.0.0.1");
  EXPECT_EQ(r.body.rfind("GET /headers HTTP/1.1\n", 0), 0u) << r.body;
}

TEST(ProxyBasics, ForwardedHeadersAreAdded) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  auto h = receivedHeaders(client.request("GET", "/headers").body);
  ASSERT_EQ(h["x-forwarded-for"].size(), 1u);
  EXPECT_EQ(h["x-forwarded-for"][0], "127.0.0.1");
  ASSERT_EQ(h["x-forwarded-proto"].size(), 1u);
  EXPECT_EQ(h["x-forwarded-proto"][0], "http");

  auto appended = receivedHeaders(
      client.request("GET", "/headers", {{"X-Forwarded-For", "10.0.0.1, 10.0.0.2"}}).body);
  ASSERT_EQ(appended["x-forwarded-for"].size(), 1u);
  EXPECT_EQ(appended["x-forwarded-for"][0], "10.0.0.1, 10.0.0.2, 127.0.0.1");

  auto proto =
      receivedHeaders(client.request("GET", "/headers", {{"X-Forwarded-Proto", "https"}}).body);
  ASSERT_EQ(proto["x-forwarded-proto"].size(), 1u);
  EXPECT_EQ(proto["x-forwarded-proto"][0], "https");
}

TEST(ProxyBasics, RequestIdIsGeneratedWhenAbsentAndKeptWhenPresent) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  auto first = receivedHeaders(client.request("GET", "/headers").body);
  auto second = receivedHeaders(client.request("GET", "/headers").body);
  ASSERT_EQ(first["x-request-id"].size(), 1u);
  ASSERT_EQ(second["x-request-id"].size(), 1u);
  EXPECT_TRUE(isUuidV4(first["x-request-id"][0])) << first["x-request-id"][0];
  EXPECT_NE(first["x-request-id"][0], second["x-request-id"][0]);

  auto kept =
      receivedHeaders(client.request("GET", "/headers", {{"X-Request-Id", "abc-123"}}).body);
  ASSERT_EQ(kept["x-request-id"].size(), 1u);
  EXPECT_EQ(kept["x-request-id"][0], "abc-123");
}

TEST(ProxyBasics, WebSocketUpgradeIsTunnelled) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse r =
      client.request("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}});
  ASSERT_EQ(r.status, 101) << r.error;
  EXPECT_TRUE(r.upgraded);
  EXPECT_EQ(r.header("upgrade"), "websocket");
  EXPECT_EQ(r.header("x-upstream"), "up0");
  ASSERT_TRUE(client.send("ping"));
  EXPECT_EQ(client.readRaw(4), "ping");
  // No longer HTTP: a request line inside the tunnel is just bytes, echoed as they are.
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(client.readRaw(18), "GET / HTTP/1.1\r\n\r\n");
  // Larger than any one buffer on the way, both directions at once.
  std::string big;
  for (int i = 0; i < 300000; ++i) big.push_back(static_cast<char>('a' + i % 26));
  ASSERT_TRUE(client.send(big));
  EXPECT_EQ(client.readRaw(big.size()), big);
  // Closing the client ends the tunnel; the proxy closes its upstream side too.
  client.close();
  EXPECT_TRUE(waitUntil(
      [&] { return scrapeMetric(proxy.adminPort(), "remora_downstream_connections_active") == 0; },
      std::chrono::seconds(5)));
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_upstream_connections_active"), 0);
}

TEST(ProxyBasics, WebSocketBytesSentWithTheUpgradeRequestAreForwarded) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send(
      requestText("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}) + "early"));
  HttpResponse r = client.readResponse();
  ASSERT_EQ(r.status, 101) << r.error;
  EXPECT_EQ(client.readRaw(5), "early");
}

// The upstream may decline an upgrade with an ordinary response: the connection stays HTTP.
TEST(ProxyBasics, DeclinedUpgradeKeepsTheConnectionHttp) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  ASSERT_TRUE(
      client.send(requestText("GET", "/", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}) +
                  requestText("GET", "/status/202")));
  HttpResponse declined = client.readResponse();
  ASSERT_TRUE(declined.ok()) << declined.error;
  EXPECT_EQ(declined.status, 200);
  EXPECT_FALSE(declined.upgraded);
  EXPECT_EQ(declined.body, "hello from up0\n");
  HttpResponse next = client.readResponse();
  EXPECT_EQ(next.status, 202) << next.error;
  EXPECT_EQ(client.request("GET", "/").status, 200);
}

TEST(ProxyBasics, UpstreamClosingATunnelClosesTheClient) {
  RawUpstream raw([](RawConnection& conn, size_t) {
    conn.readUntil("\r\n\r\n");
    conn.send("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: custom\r\n\r\n");
    conn.readUntil("hi");
    conn.send("bye");
  });
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {raw.address()};
  spec.listener_yaml = "upgrades: [websocket, custom]";  // only listed protocols pass
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/", {{"Connection", "Upgrade"}, {"Upgrade", "custom"}});
  ASSERT_EQ(r.status, 101) << r.error;
  ASSERT_TRUE(client.send("hi"));
  EXPECT_EQ(client.readRaw(3), "bye");
  EXPECT_TRUE(client.closedByPeer());
}

// Many clients at once, each checking that it gets its own bytes back: responses must never
// cross between connections sharing the upstream pool.
TEST(ProxyBasics, ConcurrentClientsGetTheirOwnResponses) {
  ProxySpec spec;
  spec.upstreams = 2;
  ProxyUnderTest proxy(spec);
  constexpr int kClients = 16;
  constexpr int kRequests = 25;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient client(proxy.port());
      for (int i = 0; i < kRequests && failures[c].empty(); ++i) {
        std::string body = "client " + std::to_string(c) + " request " + std::to_string(i);
        body += std::string(static_cast<size_t>(c * 997 + i * 131), '.');
        HttpResponse r = client.request("POST", "/echo", {}, body);
        if (!r.ok() || r.status != 200 || r.body != body)
          failures[c] = "request " + std::to_string(i) + ": status " + std::to_string(r.status) +
                        " " + r.error + " body of " + std::to_string(r.body.size()) + " bytes";
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"2xx\""}),
            kClients * kRequests);
  // Pooled: never more upstream connections than clients at once.
  UpstreamCounts up0 = UpstreamStats(proxy.upstream(0).port()).read();
  UpstreamCounts up1 = UpstreamStats(proxy.upstream(1).port()).read();
  EXPECT_EQ(up0.requests + up1.requests, uint64_t(kClients * kRequests));
  EXPECT_LE(up0.connections + up1.connections, uint64_t(2 * kClients));
}

// Clients that send a request and vanish at once, while remora is still connecting upstream or
// waiting for the answer: nothing may be left behind, and the proxy keeps serving.
TEST(ProxyBasics, ClientsVanishingMidRequestLeaveNothingBehind) {
  ProxySpec spec;
  spec.cluster_yaml = "max_connections_per_endpoint: 4";
  ProxyUnderTest proxy(spec);
  for (int i = 0; i < 200; ++i) {
    HttpClient client(proxy.port());
    ASSERT_TRUE(client.send(requestText("GET", i % 2 ? "/slow/20" : "/bytes/100000")));
    if (i % 3 == 0) client.shutdownWrite();
  }
  const uint16_t admin = proxy.adminPort();
  EXPECT_TRUE(waitUntil(
      [&] {
        return scrapeMetric(admin, "remora_downstream_connections_active") == 0 &&
               scrapeMetric(admin, "remora_upstream_connections_active") == 0 &&
               scrapeMetric(admin, "remora_upstream_pending_requests") == 0;
      },
      std::chrono::seconds(10)));
  HttpClient client(proxy.port());
  EXPECT_EQ(client.request("GET", "/").status, 200);
  EXPECT_TRUE(proxy.remora().process().running());
}

}  // namespace
}  // namespace remora::test
