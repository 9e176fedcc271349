// HTTP/1.1 clients through the real binary to HTTP/2 (h2c) upstreams: nghttpd serving files,
// and test/tools/h2_test_server.py (python3-h2) for echo bodies, trailers, a low
// SETTINGS_MAX_CONCURRENT_STREAMS, GOAWAY, REFUSED_STREAM and upstreams dying mid-stream.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/h2_test_server.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The test server's counters, read through the proxy (one more request on its pool).
nlohmann::json serverStats(ProxyUnderTest& proxy) {
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/stats");
  EXPECT_EQ(r.status, 200) << r.error;
  return nlohmann::json::parse(r.body, nullptr, false);
}

// `n` clients at once, each one request; returns each response's status (0: no response).
std::vector<int> concurrentGets(uint16_t port, const std::string& path, size_t n,
                                const std::string& method = "GET") {
  std::vector<int> statuses(n, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      HttpClient client(port);
      HttpResponse r = client.request(method, path);
      statuses[i] = r.ok() ? r.status : 0;
    });
  }
  for (auto& t : threads) t.join();
  return statuses;
}

TEST(UpstreamHttp2, NghttpdServesFilesToAnHttp1Client) {
  TempDir docroot;
  const std::string text = "served over h2c\n";
  writeFileAtomically(docroot.path() + "/hello.txt", text);
  const uint16_t port = freePort();
  Process nghttpd({"/usr/sbin/nghttpd", "--no-tls", "-d", docroot.path(), std::to_string(port)});
  ASSERT_TRUE(waitUntil([&] { return HttpClient(port).connected(); }, seconds(5)));
  auto proxy = proxyToHttp2("127.0.0.1:" + std::to_string(port));
  int rc = -1;
  EXPECT_EQ(curl({"-sS", proxy->url("/hello.txt")}, &rc), text);
  EXPECT_EQ(rc, 0);
  HttpClient client(proxy->port());
  HttpResponse missing = client.request("GET", "/missing.txt");
  EXPECT_EQ(missing.status, 404);
  HttpResponse again = client.request("GET", "/hello.txt");  // same client connection
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, text);
}

TEST(UpstreamHttp2, TranslatesTheRequestHead) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  HttpResponse r = client.request("GET", "/head?q=1",
                                  {{"Host", "svc.example:8080"},
                                   {"Connection", "keep-alive, X-Hop"},
                                   {"X-Hop", "dropped"},
                                   {"Keep-Alive", "timeout=5"},
                                   {"TE", "trailers, deflate"}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-seen-authority"), "svc.example:8080");
  EXPECT_EQ(r.header("x-seen-path"), "/head?q=1");
  EXPECT_EQ(r.header("x-seen-method"), "GET");
  EXPECT_EQ(r.header("x-seen-scheme"), "http");
  EXPECT_EQ(r.header("x-seen-te"), "trailers");  // the one TE HTTP/2 allows
  EXPECT_FALSE(r.has("x-seen-host"));
  EXPECT_FALSE(r.has("x-seen-connection"));
  EXPECT_FALSE(r.has("x-seen-keep-alive"));
  EXPECT_EQ(r.header("x-seen-x-forwarded-for"), "127.0.0.1");
  EXPECT_TRUE(r.keep_alive);
}

TEST(UpstreamHttp2, EchoesFixedAndChunkedBodies) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  HttpResponse fixed = client.request("POST", "/echo", {}, "hello, upstream");
  ASSERT_TRUE(fixed.ok()) << fixed.error;
  EXPECT_EQ(fixed.status, 200);
  EXPECT_EQ(fixed.body, "hello, upstream");
  ASSERT_TRUE(
      client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\n\r\n"));
  HttpResponse chunked = client.readResponse();
  ASSERT_TRUE(chunked.ok()) << chunked.error;
  EXPECT_EQ(chunked.body, "hello, world");
  EXPECT_FALSE(chunked.has("x-seen-transfer-encoding"));
  EXPECT_EQ(chunked.header("x-seen-trailer-x-checksum"), "abc");  // request trailers: HEADERS
}

TEST(UpstreamHttp2, FiftyConcurrentRequestsShareOneConnection) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  std::atomic<int64_t> peak_streams{0};
  std::thread watcher([&] {
    for (int i = 0; i < 40; ++i) {
      HttpResponse r = adminGet(proxy->adminPort(), "/clusters");
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (!j.is_discarded()) {
        int64_t s = j["clusters"][0]["endpoints"][0].value("streams_active", int64_t{0});
        if (s > peak_streams) peak_streams = s;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  std::vector<int> statuses = concurrentGets(proxy->port(), "/slow/400", 50);
  watcher.join();
  for (int s : statuses) EXPECT_EQ(s, 200);
  nlohmann::json stats = serverStats(*proxy);
  EXPECT_EQ(stats["connections"], 1) << stats.dump();
  EXPECT_GE(stats["max_open_streams"].get<int>(), 25) << stats.dump();
  EXPECT_GE(peak_streams.load(), 25);
  // The gauge moves when the last stream closes, just after its response went out.
  EXPECT_TRUE(waitUntil(
      [&] {
        return scrapeMetric(proxy->adminPort(), "remora_upstream_connections_idle",
                            {"cluster=\"app\""}) == 1;
      },
      seconds(2)));
}

TEST(UpstreamHttp2, PeerStreamLimitOpensASecondConnection) {
  H2TestServer server({"--max-streams", "2"});
  auto proxy = proxyToHttp2(server.address());
  std::vector<int> statuses = concurrentGets(proxy->port(), "/slow/300", 4);
  for (int s : statuses) EXPECT_EQ(s, 200);
  nlohmann::json stats = serverStats(*proxy);
  EXPECT_EQ(stats["connections"], 2) << stats.dump();
  EXPECT_EQ(stats["max_open_streams"], 2) << stats.dump();
}

TEST(UpstreamHttp2, FullConnectionsQueueTheRest) {
  H2TestServer server({"--max-streams", "2"});
  auto proxy = proxyToHttp2(server.address(), "max_connections_per_endpoint: 1\n");
  std::vector<int> statuses = concurrentGets(proxy->port(), "/slow/200", 6);
  for (int s : statuses) EXPECT_EQ(s, 200);
  nlohmann::json stats = serverStats(*proxy);
  EXPECT_EQ(stats["connections"], 1) << stats.dump();
  EXPECT_EQ(stats["max_open_streams"], 2) << stats.dump();
}

TEST(UpstreamHttp2, TrailersReachClientsThatAcceptThem) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  HttpResponse with = client.request("GET", "/trailers", {{"TE", "trailers"}});
  ASSERT_TRUE(with.ok()) << with.error;
  EXPECT_EQ(with.body, "trailer body\n");
  EXPECT_TRUE(with.chunked);
  EXPECT_EQ(with.trailers["x-checksum"], "abc123");
  EXPECT_EQ(with.trailers["x-status"], "done");
  HttpResponse without = client.request("GET", "/trailers");
  ASSERT_TRUE(without.ok()) << without.error;
  EXPECT_EQ(without.body, "trailer body\n");
  EXPECT_TRUE(without.trailers.empty());
}

TEST(UpstreamHttp2, LargeBodiesStreamWithBoundedMemory) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  const uint64_t kDown = 64ull << 20;
  HttpClient client(proxy->port(), seconds(30));
  ASSERT_TRUE(client.send(requestText("GET", "/bytes/" + std::to_string(kDown))));
  HttpResponse down = client.readResponse(false, /*keep_body=*/false);
  ASSERT_TRUE(down.ok()) << down.error;
  EXPECT_EQ(down.body_size, kDown);
  const std::string up(16 << 20, 'u');
  HttpResponse echoed = client.request("POST", "/echo", {}, up);
  ASSERT_TRUE(echoed.ok()) << echoed.error;
  EXPECT_EQ(echoed.header("x-seen-body-bytes"), std::to_string(up.size()));
  EXPECT_EQ(echoed.body.size(), up.size());
  // Watermarks and stream windows bound what the proxy holds, far below the bodies' size.
  const uint64_t rss = residentBytes(proxy->remora().process().pid());
  EXPECT_LT(rss, 32ull << 20) << rss;  // about 8 MiB when measured
}

TEST(UpstreamHttp2, AShutWindowStopsReadingTheClient) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  ASSERT_TRUE(client.send("POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n"));
  ASSERT_EQ(fcntl(client.fd(), F_SETFL, fcntl(client.fd(), F_GETFL) | O_NONBLOCK), 0);
  const std::string chunk(64 * 1024, 'z');
  uint64_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(1500);
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::send(client.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n > 0) {
      sent += uint64_t(n);
    } else if (n < 0 && errno == EAGAIN) {
      std::this_thread::sleep_for(milliseconds(10));
    } else {
      break;
    }
  }
  // The upstream took one window (64 KiB); Remora holds up to its 1 MiB watermark, and the rest
  // sits in the two sockets' kernel buffers. Without backpressure this would be hundreds of MiB.
  EXPECT_GT(sent, 1u << 20);
  EXPECT_LT(sent, 32u << 20) << sent;
  EXPECT_LT(residentBytes(proxy->remora().process().pid()), 32ull << 20);
  // The client is not being read, so only the upstream going away ends its request (502).
  server.stop();
}

TEST(UpstreamHttp2, GoawayStreamsAreRetriedWithoutClientFailures) {
  H2TestServer server({"--goaway-after", "3"});
  auto proxy = proxyToHttp2(server.address());
  // POST without a body: not idempotent, yet never processed, so safe to send again.
  std::vector<int> statuses = concurrentGets(proxy->port(), "/slow/200", 8, "POST");
  for (int s : statuses) EXPECT_EQ(s, 200);
  nlohmann::json stats = serverStats(*proxy);
  EXPECT_GE(stats["connections"].get<int>(), 2) << stats.dump();
  EXPECT_GT(stats["requests"].get<int>(), 9) << stats.dump();  // some arrived twice
}

TEST(UpstreamHttp2, RefusedStreamIsRetried) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  HttpResponse r = client.request("POST", "/refused", {{"x-refuse", "once"}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(serverStats(*proxy)["requests"], 3);  // refused, retried, /stats
}

// The upstream closes a connection that sat idle between streams (no GOAWAY: a restart, an
// idle timer) just as the next request goes out on it: as with an HTTP/1.1 keep-alive
// connection, a request without a body is sent again on a new connection; one with a body is not.
TEST(UpstreamHttp2, AReusedConnectionClosedUnderABodylessRequestIsRetried) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  ASSERT_EQ(client.request("GET", "/ok").status, 200);  // the connection has served a stream
  HttpResponse r = client.request("GET", "/ok", {{"x-die", "get"}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(serverStats(*proxy)["connections"], 2);  // the closed one, then a new one
  // With a body the request may have been taken: 502, not a second copy.
  HttpResponse post = client.request("POST", "/echo", {{"x-die", "post"}}, "payload");
  ASSERT_TRUE(post.ok()) << post.error;
  EXPECT_EQ(post.status, 502) << post.body;
}

TEST(UpstreamHttp2, UpstreamDyingMidStreamGives502OrACutResponse) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  HttpResponse before = client.request("GET", "/die");
  ASSERT_TRUE(before.ok()) << before.error;
  EXPECT_EQ(before.status, 502);
  EXPECT_NE(before.body.find("upstream reset"), std::string::npos) << before.body;
  HttpClient client2(proxy->port());
  HttpResponse during = client2.request("GET", "/die-mid-body");
  EXPECT_FALSE(during.ok());  // headers went out: the client connection is cut, not lied to
  EXPECT_EQ(during.status, 200);
  // The pool opens a fresh connection for the next request.
  HttpClient client3(proxy->port());
  EXPECT_EQ(client3.request("GET", "/ok").status, 200);
  EXPECT_EQ(scrapeMetric(proxy->adminPort(), "remora_requests_total", {"code_class=\"5xx\""}), 1);
}

}  // namespace
}  // namespace remora::test

namespace remora::test {
namespace {

TEST(UpstreamHttp2, SlowStreamTimesOutAloneAndTheConnectionStays) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address(), "response_timeout: 300ms\n");
  HttpClient client(proxy->port());
  HttpResponse slow = client.request("GET", "/slow/2000");
  ASSERT_TRUE(slow.ok()) << slow.error;
  EXPECT_EQ(slow.status, 504);
  EXPECT_EQ(client.request("GET", "/ok").status, 200);
  nlohmann::json stats = serverStats(*proxy);
  EXPECT_EQ(stats["connections"], 1) << stats.dump();  // the stream was reset, not the connection
  EXPECT_EQ(scrapeMetric(proxy->adminPort(), "remora_upstream_response_timeouts_total",
                         {"cluster=\"app\""}),
            1);
}

TEST(UpstreamHttp2, RefusedStreamWithABodyIsNotSentTwice) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port());
  HttpResponse r = client.request("POST", "/echo", {{"x-refuse", "body"}}, "payload");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 503);  // the body is not kept once sent, so no retry
  EXPECT_NE(r.body.find("refused"), std::string::npos) << r.body;
}

TEST(UpstreamHttp2, IdleConnectionsCloseAfterTheIdleTimeout) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address(), "idle_timeout: 200ms\n");
  HttpClient client(proxy->port());
  EXPECT_EQ(client.request("GET", "/ok").status, 200);
  // The gauge reads 0 too before the connection is back in the pool: first let the idle
  // timeout pass, then wait for the close to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(waitUntil(
      [&] {
        return scrapeMetric(proxy->adminPort(), "remora_upstream_connections_idle",
                            {"cluster=\"app\""}) == 0;
      },
      seconds(3)));
  EXPECT_EQ(serverStats(*proxy)["connections"], 2);  // a new one for /stats
}

TEST(UpstreamHttp2, PingKeepaliveFindsAPeerThatStoppedAnswering) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address(),
                            "http2: {keepalive_interval: 100ms, keepalive_timeout: 300ms}\n");
  HttpClient client(proxy->port());
  EXPECT_EQ(client.request("GET", "/ok").status, 200);
  std::this_thread::sleep_for(milliseconds(500));  // several PINGs, each answered
  EXPECT_EQ(
      scrapeMetric(proxy->adminPort(), "remora_upstream_connections_idle", {"cluster=\"app\""}), 1);
  server.signal(SIGSTOP);  // the TCP connection stays up; nothing answers on it
  EXPECT_TRUE(waitUntil(
      [&] {
        return scrapeMetric(proxy->adminPort(), "remora_upstream_connections_idle",
                            {"cluster=\"app\""}) == 0;
      },
      seconds(3)));
  server.signal(SIGCONT);
  EXPECT_EQ(client.request("GET", "/ok").status, 200);  // on a new connection
  EXPECT_EQ(serverStats(*proxy)["connections"], 2);
}

TEST(UpstreamHttp2, ClientLeavingResetsOnlyItsStream) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  {
    HttpClient leaving(proxy->port());
    ASSERT_TRUE(leaving.send(requestText("GET", "/slow/3000")));
    ASSERT_TRUE(waitUntil(
        [&] {
          auto j =
              nlohmann::json::parse(adminGet(proxy->adminPort(), "/clusters").body, nullptr, false);
          return !j.is_discarded() &&
                 j["clusters"][0]["endpoints"][0].value("streams_active", 0) == 1;
        },
        seconds(5)));
  }  // the client closes here
  ASSERT_TRUE(waitUntil(
      [&] {
        auto j =
            nlohmann::json::parse(adminGet(proxy->adminPort(), "/clusters").body, nullptr, false);
        return !j.is_discarded() &&
               j["clusters"][0]["endpoints"][0].value("streams_active", 1) == 0;
      },
      seconds(5)));
  HttpClient next(proxy->port());
  EXPECT_EQ(next.request("GET", "/ok").status, 200);
  EXPECT_EQ(serverStats(*proxy)["connections"], 1);
}

TEST(UpstreamHttp2, UpgradeRequestsAreRefusedWith501AndTheConnectionCloses) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  HttpClient client(proxy->port(), seconds(5));
  // A WebSocket handshake, and a first frame sent eagerly after it (as some clients do): bytes
  // of a protocol the proxy cannot carry, so it must not read them as a next request.
  ASSERT_TRUE(
      client.send("GET /chat HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                  "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
  const auto t0 = std::chrono::steady_clock::now();
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("speaks HTTP/2, which cannot carry an Upgrade request"), std::string::npos)
      << r.body;
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(client.closedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(2));
  EXPECT_EQ(scrapeMetric(proxy->adminPort(), "remora_protocol_errors_total",
                         {"kind=\"upgrade_unsupported\""}),
            1);
  // Nothing went upstream, and plain requests still do.
  EXPECT_EQ(serverStats(*proxy)["requests"], 1);  // the /stats request itself
}

}  // namespace
}  // namespace remora::test
