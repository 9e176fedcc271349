// Downstream HTTP/2 (prior-knowledge h2c) through the real binary to HTTP/1.1 upstreams: curl,
// nghttp and h2load as clients; bodies both ways in bounded memory; trailers; one stalled stream
// beside a fast one; GOAWAY on drain; local replies and the filter chain on HTTP/2 streams.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include "common/filter_env.h"
#include "common/harness.h"
#include "integration/h2/h2_tools.h"

namespace remora::test {
namespace {

using std::chrono::seconds;
using namespace remora::test::h2;

constexpr uint64_t kMiB = 1ull << 20;
#ifdef __SANITIZE_ADDRESS__
constexpr uint64_t kRssBound = 768 * kMiB;  // see bodies_test.cc
#else
constexpr uint64_t kRssBound = 64 * kMiB;
#endif

size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

TEST(H2Downstream, CurlPriorKnowledgeReachesAnHttp1Upstream) {
  ProxyUnderTest proxy;
  int code = -1;
  std::string body = curlH2({"-H", "x-client: yes", "-H", "cookie: a=1", "-H", "cookie: b=2"},
                            proxy.url("/headers?q=1"), &code);
  ASSERT_EQ(code, 0);
  // What the upstream received: an HTTP/1.1 request, :authority as Host, one cookie header.
  EXPECT_NE(body.find("GET /headers?q=1 HTTP/1.1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("host: 127.0.0.1:" + std::to_string(proxy.port())), std::string::npos)
      << body;
  EXPECT_NE(body.find("x-client: yes"), std::string::npos) << body;
  EXPECT_NE(body.find("cookie: a=1; b=2"), std::string::npos) << body;
  EXPECT_EQ(body.find(":authority"), std::string::npos) << body;

  std::string head = curlH2({"-o", "/dev/null", "-D", "-"}, proxy.url("/"), &code);
  EXPECT_EQ(head.rfind("HTTP/2 200", 0), 0u) << head;
  EXPECT_NE(head.find("x-upstream: up0"), std::string::npos) << head;
  // Counted with the HTTP/1 requests, under the same listener metrics.
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"2xx\""}), 2);
}

TEST(H2Downstream, NghttpManyConcurrentStreamsOnOneConnection) {
  ProxyUnderTest proxy;
  UpstreamStats stats(proxy.upstream().port());
  auto start = std::chrono::steady_clock::now();
  bool ok = false;
  // 80 requests of 300 ms each on one connection: only concurrent streams finish in seconds.
  std::string out = run({"/usr/bin/nghttp", "-n", "-s", "-m", "80", proxy.url("/slow/300")}, &ok);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ok) << out;
  EXPECT_EQ(countOf(out, "  200 "), 80u) << out;
  EXPECT_LT(took, seconds(5));
  EXPECT_EQ(stats.read().requests, 80u);
}

TEST(H2Downstream, H2loadBoundedRun) {
  ProxyUnderTest proxy;
  bool ok = false;
  std::string out =
      run({"/usr/bin/h2load", "-n", "3000", "-c", "4", "-m", "10", proxy.url("/")}, &ok);
  EXPECT_TRUE(ok) << out;
  EXPECT_NE(out.find("3000 succeeded, 0 failed, 0 errored"), std::string::npos) << out;
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"2xx\""}), 3000);
}

// A connection reuses the streams it retired: nothing of one request may leak into the next on
// the same connection (cookies, :authority, body framing, a 431's state).
TEST(H2Downstream, ARecycledStreamCarriesNothingOfTheRequestBefore) {
  ProxySpec spec;
  spec.listener_yaml = "limits:\n  max_request_headers_bytes: 4096";
  ProxyUnderTest proxy(spec);
  std::string script = std::string(REMORA_SOURCE_DIR) + "/test/integration/h2/h2_sequence.py";
  bool ok = false;
  std::string out = run({"/usr/bin/python3", script, std::to_string(proxy.port())}, &ok);
  ASSERT_TRUE(ok) << out;
  // Four answers, in order: each request was sent only after the one before had ended.
  std::vector<std::string> parts;
  for (size_t pos = out.find("=== "); pos != std::string::npos;) {
    size_t next = out.find("=== ", pos + 4);
    parts.push_back(out.substr(pos, next == std::string::npos ? next : next - pos));
    pos = next;
  }
  ASSERT_EQ(parts.size(), 4u) << out;
  EXPECT_EQ(parts[0].rfind("=== 200\nPOST /headers HTTP/1.1\n", 0), 0u) << parts[0];
  EXPECT_NE(parts[0].find("cookie: a=1"), std::string::npos) << parts[0];
  EXPECT_NE(parts[0].find("host: first.example"), std::string::npos) << parts[0];
  EXPECT_NE(parts[0].find("content-length: 3"), std::string::npos) << parts[0];
  EXPECT_EQ(parts[2].rfind("=== 431\n", 0), 0u) << parts[2];
  EXPECT_EQ(parts[1].rfind("=== 200\nGET /headers HTTP/1.1\n", 0), 0u) << parts[1];
  EXPECT_EQ(parts[3].rfind("=== 200\nGET /headers?last HTTP/1.1\n", 0), 0u) << parts[3];
  for (const std::string& later : {parts[1], parts[3]}) {
    EXPECT_EQ(later.find("cookie"), std::string::npos) << later;
    EXPECT_EQ(later.find("x-first"), std::string::npos) << later;
    EXPECT_EQ(later.find("x-big"), std::string::npos) << later;
    EXPECT_EQ(later.find("first.example"), std::string::npos) << later;
    EXPECT_EQ(later.find("content-length"), std::string::npos) << later;
    EXPECT_EQ(later.find("transfer-encoding"), std::string::npos) << later;
    EXPECT_NE(later.find("host: 127.0.0.1:" + std::to_string(proxy.port())), std::string::npos)
        << later;
  }
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"2xx\""}), 3);
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"4xx\""}), 1);
}

// Expect: 100-continue on an HTTP/2 stream gets its interim HEADERS (:status 100) before the
// client sends the body, as on HTTP/1.1.
TEST(H2Downstream, ExpectContinueGetsAnInterim100) {
  ProxyUnderTest proxy;
  std::string script = std::string(REMORA_SOURCE_DIR) + "/test/integration/h2/h2_expect.py";
  bool ok = false;
  std::string out = run({"/usr/bin/python3", script, std::to_string(proxy.port()), "/echo"}, &ok);
  EXPECT_TRUE(ok) << out;
  EXPECT_EQ(out, "HEAD 100\nHEAD 200\nBODY hello\n");
}

TEST(H2Downstream, LargeBodiesBothWaysInBoundedMemory) {
  ProxyUnderTest proxy;
  TempDir dir;
  const uint64_t size = 64 * kMiB;
  std::string file = dir.file("body");
  {
    std::ofstream f(file, std::ios::binary);
    std::string block(kMiB, 'u');
    for (uint64_t i = 0; i < size / kMiB; ++i) f << block;
  }
  RssSampler rss(proxy.remora().process().pid());
  int code = -1;
  // Sized upload (content-length) and one of unknown length (chunked to the upstream).
  EXPECT_EQ(curlH2({"--data-binary", "@" + file}, proxy.url("/count"), &code),
            std::to_string(size) + "\n");
  EXPECT_EQ(curlH2({"-H", "transfer-encoding: chunked", "--data-binary", "@" + file},
                   proxy.url("/count"), &code),
            std::to_string(size) + "\n");
  EXPECT_EQ(curlH2({"-o", "/dev/null", "-w", "%{size_download}"},
                   proxy.url("/bytes/" + std::to_string(size)), &code),
            std::to_string(size));
  EXPECT_EQ(curlH2({"-o", "/dev/null", "-w", "%{size_download}"},
                   proxy.url("/bytes/" + std::to_string(size) + "?chunked=1"), &code),
            std::to_string(size));
  // Both directions at once: the upstream echoes as it reads.
  EXPECT_EQ(curlH2({"--data-binary", "@" + file, "-o", "/dev/null", "-w", "%{size_download}"},
                   proxy.url("/echo"), &code),
            std::to_string(size));
  rss.stop();
  EXPECT_GT(rss.samples(), 0u);
  EXPECT_LT(rss.peakBytes(), kRssBound) << "peak RSS " << rss.peakBytes() / kMiB << " MiB";
}

TEST(H2Downstream, TrailersBothWays) {
  RawUpstream raw([](RawConnection& conn, size_t) {
    conn.readUntil("\r\n\r\n");  // request head
    conn.readUntil("\r\n\r\n");  // chunks, the last chunk and the trailers
    conn.send(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Digest\r\n"
        "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n"
        "5\r\nworld\r\n0\r\nX-Digest: xyz\r\n\r\n");
  });
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {raw.address()};
  ProxyUnderTest proxy(spec);
  TempDir dir;
  std::string file = dir.file("body");
  std::ofstream(file) << "hello";
  bool ok = false;
  std::string out = run(
      {"/usr/bin/nghttp", "-v", "-d", file, "--trailer", "x-checksum: abc", proxy.url("/t")}, &ok);
  EXPECT_TRUE(ok) << out;
  EXPECT_NE(out.find("world"), std::string::npos) << out;
  // The upstream's chunked trailer arrives as a trailing HEADERS frame.
  size_t data = out.find("recv DATA frame");
  size_t trailer = out.find("x-digest: xyz");
  ASSERT_NE(trailer, std::string::npos) << out;
  EXPECT_LT(data, trailer) << out;
  // No connection-specific field crosses into HTTP/2.
  EXPECT_EQ(out.find("keep-alive"), std::string::npos) << out;
  EXPECT_EQ(out.find("transfer-encoding"), std::string::npos) << out;
  ASSERT_TRUE(waitUntil([&] { return raw.received().size() == 1; }, seconds(5)));
  const std::string sent = raw.received()[0];
  EXPECT_NE(sent.find("transfer-encoding: chunked\r\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n"), std::string::npos) << sent;
}

TEST(H2Downstream, AStalledStreamDoesNotHoldUpAFastOne) {
  ProxyUnderTest proxy;
  RssSampler rss(proxy.remora().process().pid());
  // Stream 1 wants 100 MB and never opens its window; stream 3 on the same connection must
  // still get all of its 4 MB, while stream 1's upstream is paused (memory stays bounded).
  std::string out = frames(proxy.port(), "slow_fast", 4000000);
  rss.stop();
  EXPECT_EQ(out, "FAST 4000000 SLOW 65535");
  EXPECT_LT(rss.peakBytes(), kRssBound) << "peak RSS " << rss.peakBytes() / kMiB << " MiB";
}

TEST(H2Downstream, DrainSendsGoawayAndFinishesTheStreamsInFlight) {
  ProxyUnderTest proxy;
  UpstreamStats stats(proxy.upstream().port());
  Process client({"/usr/bin/nghttp", "-v", "-m", "3", proxy.url("/slow/1000")});
  ASSERT_TRUE(waitUntil([&] { return stats.read().requests == 3; }, seconds(5)));
  proxy.remora().process().kill(SIGTERM);
  auto status = client.waitExit(seconds(10));
  ASSERT_TRUE(status.has_value());
  std::string out = client.output();
  EXPECT_NE(out.find("recv GOAWAY"), std::string::npos) << out;
  EXPECT_NE(out.find("error_code=NO_ERROR"), std::string::npos) << out;
  EXPECT_EQ(countOf(out, "hello from up0"), 3u) << out;
  auto exit = proxy.remora().process().waitExit(seconds(5));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exitedWith(0)) << exit->describe();
}

TEST(H2Downstream, LocalRepliesOnHttp2Streams) {
  uint16_t port = freePort();
  uint16_t admin = freePort();
  DemoUpstream up("up0");
  std::string yaml = basicConfig(port, admin, {up.address()});
  // Route only /api: anything else gets the proxy's own 404.
  yaml.replace(yaml.find("prefix: /"), 9, "prefix: /api");
  RemoraProcess remora(yaml);
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  int code = -1;
  std::string out = curlH2({"-D", "-"}, base + "/elsewhere", &code);
  EXPECT_EQ(out.rfind("HTTP/2 404", 0), 0u) << out;
  EXPECT_NE(out.find("no route matched the request"), std::string::npos) << out;
  // A local reply to a request with a body: that stream ends, the connection serves the next.
  TempDir dir;
  std::string file = dir.file("body");
  std::ofstream(file) << "abc";
  bool ok = false;
  out = run({"/usr/bin/nghttp", "-d", file, base + "/nope", base + "/api/x"}, &ok);
  EXPECT_TRUE(ok) << out;
  EXPECT_NE(out.find("no route matched the request\nhello from up0\n"), std::string::npos) << out;
  EXPECT_EQ(scrapeMetric(admin, "remora_requests_total", {"code_class=\"4xx\""}), 2);
}

TEST(H2Downstream, RequestTimeoutAppliesPerStream) {
  ProxySpec spec;
  spec.listener_yaml = "timeouts:\n  request: 300ms";
  ProxyUnderTest proxy(spec);
  auto start = std::chrono::steady_clock::now();
  bool ok = false;
  // One slow and one quick stream on the same connection: only the slow one times out.
  std::string out = run({"/usr/bin/nghttp", "-s", proxy.url("/slow/3000"), proxy.url("/")}, &ok);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2));
  EXPECT_NE(out.find("  504 "), std::string::npos) << out;
  EXPECT_NE(out.find("  200 "), std::string::npos) << out;
}

TEST(H2Downstream, TheFilterChainSeesHttp2Requests) {
  PluginDir plugins;
  plugins.addFilter("headers");
  plugins.addFilter("router");
  DemoUpstream up("alpha");
  nlohmann::json headers = {{"request", {{"set", {{"x-env", "prod"}}}}},
                            {"response", {{"add", {{"x-served-by", "remora"}}}}}};
  nlohmann::json router = {
      {"routes",
       {{{"match", {{"prefix", "/"}, {"headers", {{{"name", "x-tenant"}, {"exact", "a"}}}}}},
         {"cluster", "app"}}}}};
  FilterProxy proxy(plugins, {{"headers", headers}, {"router", router}},
                    {{"app", {up.address()}, ""}});
  std::string base = "http://127.0.0.1:" + std::to_string(proxy.port());
  int code = -1;
  std::string out = curlH2({"-D", "-", "-H", "x-tenant: a"}, base + "/headers", &code);
  EXPECT_EQ(out.rfind("HTTP/2 200", 0), 0u) << out;
  EXPECT_NE(out.find("x-served-by: remora"), std::string::npos) << out;
  EXPECT_NE(out.find("x-env: prod"), std::string::npos) << out;  // as the upstream saw it
  // The router matched on a header of the HTTP/2 request; without it, its 404.
  out = curlH2({"-o", "/dev/null", "-w", "%{http_code}"}, base + "/headers", &code);
  EXPECT_EQ(out, "404");
}

}  // namespace
}  // namespace remora::test
