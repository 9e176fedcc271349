// The demo upstream is the peer every proxy integration test relies on, so its HTTP/1.1
// behaviour is pinned here first, talking to it directly through the raw test client.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;

TEST(DemoUpstream, KeepAliveServesManyRequestsOnOneConnection) {
  DemoUpstream up("alpha");
  HttpClient client(up.port());
  ASSERT_TRUE(client.connected()) << client.error();
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = client.request("GET", "/");
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello from alpha\n");
    EXPECT_EQ(r.header("x-upstream"), "alpha");
    EXPECT_TRUE(r.keep_alive);
  }
  HttpResponse stats = client.request("GET", "/stats");
  EXPECT_EQ(stats.body, "connections=1 requests=4\n");
}

TEST(DemoUpstream, PipelinedRequestsAreAnsweredInOrder) {
  DemoUpstream up;
  HttpClient client(up.port());
  // The slow one goes first: its answer must still come first.
  ASSERT_TRUE(client.send(requestText("GET", "/slow/100") + requestText("GET", "/status/201") +
                          requestText("POST", "/count", {}, "12345") +
                          requestText("GET", "/headers?n=4")));
  HttpResponse r1 = client.readResponse();
  HttpResponse r2 = client.readResponse();
  HttpResponse r3 = client.readResponse();
  HttpResponse r4 = client.readResponse();
  EXPECT_EQ(r1.status, 200);
  EXPECT_EQ(r1.body, "hello from upstream\n");
  EXPECT_EQ(r2.status, 201);
  EXPECT_EQ(r3.body, "5\n");
  EXPECT_EQ(r4.body.rfind("GET /headers?n=4 HTTP/1.1\n", 0), 0u) << r4.body;
  EXPECT_EQ(client.request("GET", "/stats").body, "connections=1 requests=5\n");
}

TEST(DemoUpstream, BytesWithContentLengthAndChunked) {
  DemoUpstream up;
  HttpClient client(up.port());
  HttpResponse plain = client.request("GET", "/bytes/100000");
  EXPECT_EQ(plain.header("content-length"), "100000");
  EXPECT_FALSE(plain.chunked);
  EXPECT_EQ(plain.body, std::string(100000, 'x'));

  HttpResponse chunked = client.request("GET", "/bytes/300000?chunked=1");
  ASSERT_TRUE(chunked.ok()) << chunked.error;
  EXPECT_TRUE(chunked.chunked);
  EXPECT_FALSE(chunked.has("content-length"));
  EXPECT_EQ(chunked.body, std::string(300000, 'x'));

  HttpResponse empty = client.request("GET", "/bytes/0?chunked=1");
  EXPECT_TRUE(empty.chunked);
  EXPECT_EQ(empty.body, "");
}

TEST(DemoUpstream, LargeChunkedBodyStreamsWithBackpressure) {
  DemoUpstream up;
  HttpClient client(up.port());
  constexpr uint64_t kSize = 64ull << 20;
  ASSERT_TRUE(client.send(requestText("GET", "/bytes/" + std::to_string(kSize) + "?chunked=1")));
  HttpResponse r = client.readResponse(false, /*keep_body=*/false);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body_size, kSize);
  EXPECT_EQ(client.request("GET", "/").status, 200);  // the connection is still usable
}

TEST(DemoUpstream, EchoStreamsAChunkedUploadBack) {
  DemoUpstream up;
  HttpClient client(up.port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(client.send("5\r\nhello\r\n"));
  ASSERT_TRUE(client.send("7\r\n, world\r\n"));
  ASSERT_TRUE(client.send("0\r\n\r\n"));
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.body, "hello, world");

  HttpResponse sized = client.request("PUT", "/echo", {}, "same length back");
  EXPECT_EQ(sized.header("content-length"), "16");
  EXPECT_EQ(sized.body, "same length back");
}

TEST(DemoUpstream, CountReadsALargeBody) {
  DemoUpstream up;
  HttpClient client(up.port());
  std::string body(8 << 20, 'b');
  HttpResponse r = client.request("POST", "/count", {}, body);
  EXPECT_EQ(r.body, std::to_string(body.size()) + "\n");
}

TEST(DemoUpstream, HeadersListsTheRequestAsReceived) {
  DemoUpstream up;
  HttpClient client(up.port());
  HttpResponse r = client.request("GET", "/headers?a=1", {{"X-Forwarded-For", "10.0.0.1"}});
  EXPECT_EQ(r.body,
            "GET /headers?a=1 HTTP/1.1\n"
            "Host: 127.0.0.1\n"
            "X-Forwarded-For: 10.0.0.1\n");
}

TEST(DemoUpstream, HeadGetsHeadersOnly) {
  DemoUpstream up;
  HttpClient client(up.port());
  HttpResponse r = client.request("HEAD", "/bytes/1000");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "1000");
  EXPECT_EQ(r.body_size, 0u);
  // Had any body bytes been sent, they would corrupt this next response.
  HttpResponse next = client.request("GET", "/");
  EXPECT_EQ(next.body, "hello from upstream\n");
}

TEST(DemoUpstream, NoContentHasNoBody) {
  DemoUpstream up;
  HttpClient client(up.port());
  HttpResponse r = client.request("GET", "/status/204");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(r.has("content-length"));
  EXPECT_EQ(client.request("GET", "/status/503").status, 503);
  EXPECT_EQ(client.request("GET", "/").status, 200);
}

TEST(DemoUpstream, ResetIsSeenAsAnAbruptClose) {
  DemoUpstream up;
  HttpClient client(up.port());
  HttpResponse r = client.request("GET", "/reset");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(client.closedByPeer());
}

TEST(DemoUpstream, CloseRepliesThenCloses) {
  DemoUpstream up;
  HttpClient client(up.port());
  HttpResponse r = client.request("GET", "/close");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(client.closedByPeer());
}

TEST(DemoUpstream, ExpectContinueGetsAnInterimResponseFirst) {
  DemoUpstream up;
  HttpClient client(up.port());
  ASSERT_TRUE(client.send(
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  HttpResponse interim = client.readResponse();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.send("abcde"));
  HttpResponse final_response = client.readResponse();
  EXPECT_EQ(final_response.status, 200);
  EXPECT_EQ(final_response.body, "5\n");
}

TEST(DemoUpstream, SlowAnswersAfterTheDelay) {
  DemoUpstream up;
  HttpClient client(up.port());
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.request("GET", "/slow/200");
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
}

TEST(DemoUpstream, WebSocketUpgradeEchoesRawBytes) {
  DemoUpstream up;
  HttpClient client(up.port());
  HttpResponse r =
      client.request("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}});
  ASSERT_EQ(r.status, 101);
  EXPECT_TRUE(r.upgraded);
  EXPECT_EQ(r.header("upgrade"), "websocket");
  ASSERT_TRUE(client.send("ping"));
  EXPECT_EQ(client.readRaw(4), "ping");
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n\r\n"));  // no longer HTTP: echoed as it is
  EXPECT_EQ(client.readRaw(18), "GET / HTTP/1.1\r\n\r\n");
}

TEST(DemoUpstream, MalformedRequestGets400AndClose) {
  DemoUpstream up;
  HttpClient client(up.port());
  ASSERT_TRUE(client.send("NOT HTTP AT ALL\r\n\r\n"));
  HttpResponse r = client.readResponse();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(client.closedByPeer());
}

TEST(DemoUpstream, WorksWithCurlAndHttpGet) {
  DemoUpstream up("beta");
  int code = -1;
  EXPECT_EQ(curl({"-s", "http://" + up.address() + "/"}, &code), "hello from beta\n");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(httpGet(up.port(), "/status/200"), "status 200\n");
}

TEST(DemoUpstream, ExitsCleanlyOnSigterm) {
  DemoUpstream up;
  HttpClient idle(up.port());  // an open connection must not hold the exit back
  ASSERT_TRUE(idle.connected());
  auto st = up.stop();
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->exitedWith(0)) << st->describe();
}

}  // namespace
}  // namespace remora::test
