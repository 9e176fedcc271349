// Strict request framing through the real binary: every message whose framing or head is in
// doubt is answered 400 (or 431 for size limits) with the connection closed, and none of it
// reaches the upstream. Then the listener timeouts: slow headers (slowloris), idle keep-alive
// connections, and the whole-request limit.

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Small limits so the size cases stay small; every valid case below fits them.
const char kSmallLimits[] = "limits: { max_request_headers_bytes: 1024, max_request_headers: 5 }";

struct BadRequest {
  const char* name;
  std::string bytes;  // sent in one write
  int status;
  const char* kind;  // remora_protocol_errors_total{kind=...} expected to move
};

// gtest names a failing case by this rather than by a dump of the struct's bytes.
void PrintTo(const BadRequest& bad, std::ostream* os) {
  *os << bad.name;
}

std::string manyHeaders(int n) {
  std::string h;
  for (int i = 0; i < n; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
  return h;
}

std::vector<BadRequest> badRequests() {
  static constexpr char kNul[] = "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0z\r\n\r\n";
  const std::string post = "POST /count HTTP/1.1\r\nHost: x\r\n";
  return {
      {"ContentLengthAndTransferEncoding",
       post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400,
       "bad_framing"},
      {"TwoEqualContentLengths", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400,
       "bad_framing"},
      {"TwoDifferentContentLengths", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
       400, "bad_framing"},
      {"ContentLengthList", post + "Content-Length: 5, 5\r\n\r\nhello", 400, "bad_framing"},
      {"NegativeContentLength", post + "Content-Length: -5\r\n\r\nhello", 400, "bad_framing"},
      {"BadChunkSize", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400,
       "bad_framing"},
      {"ChunkSizeOverflow",
       post + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400,
       "bad_framing"},
      {"GzipThenChunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       400, "bad_framing"},
      {"TransferEncodingTwice",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "bad_framing"},
      {"SpaceInHeaderName", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400,
       "bad_header_bytes"},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost: x\r\nX-Name : v\r\n\r\n", 400,
       "bad_header_bytes"},
      {"SeparatorInHeaderName", "GET / HTTP/1.1\r\nHost: x\r\nX@Name: v\r\n\r\n", 400,
       "bad_header_bytes"},
      {"ControlByteInValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n", 400,
       "bad_header_bytes"},
      {"NulInValue", std::string(kNul, sizeof(kNul) - 1), 400, "bad_header_bytes"},
      {"ObsFold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", 400,
       "bad_header_bytes"},
      {"MissingHost", "GET / HTTP/1.1\r\nX-A: a\r\n\r\n", 400, "bad_request"},
      {"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "bad_request"},
      {"AbsoluteFormTargetOtherHost",
       "GET http://example.com/ HTTP/1.1\r\nHost: other.example\r\n\r\n", 400, "bad_host"},
      {"DotSegmentsAboveTheRoot", "GET /../x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_path"},
      {"NotHttp", "NOT HTTP AT ALL\r\n\r\n", 400, "bad_request"},
      {"HeadersTooLarge",
       "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1100, 'b') + "\r\n\r\n", 431,
       "headers_too_large"},
      {"TooManyHeaders", "GET / HTTP/1.1\r\nHost: x\r\n" + manyHeaders(8) + "\r\n", 431,
       "headers_too_large"},
      {"RequestLineTooLarge", "GET /" + std::string(1100, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
       431, "headers_too_large"},
  };
}

class StrictFraming : public ::testing::TestWithParam<BadRequest> {};

TEST_P(StrictFraming, IsRejectedAndNothingReachesTheUpstream) {
  const BadRequest& bad = GetParam();
  ProxySpec spec;
  spec.listener_yaml = kSmallLimits;
  ProxyUnderTest proxy(spec);
  UpstreamStats stats(proxy.upstream().port());

  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send(bad.bytes)) << client.error();
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, bad.status) << r.body;
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_FALSE(r.body.empty());  // a short cause
  EXPECT_TRUE(client.closedByPeer());

  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_protocol_errors_total",
                         {std::string("kind=\"") + bad.kind + "\""}),
            1);
  EXPECT_EQ(stats.read().requests, 0u);
}

INSTANTIATE_TEST_SUITE_P(Requests, StrictFraming, ::testing::ValuesIn(badRequests()),
                         [](const auto& info) { return std::string(info.param.name); });

// The same limits let requests right at them through, so the rejections above are the limits'.
TEST(Framing, RequestsWithinTheLimitsPass) {
  ProxySpec spec;
  spec.listener_yaml = kSmallLimits;
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  // Host plus four more: five headers.
  HttpResponse r = client.request("GET", "/", {{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}});
  EXPECT_EQ(r.status, 200) << r.body;
  HttpResponse big = client.request("GET", "/", {{"X-Big", std::string(900, 'b')}});
  EXPECT_EQ(big.status, 200) << big.body;
  HttpResponse chunked = client.request("POST", "/count", {{"Transfer-Encoding", "Chunked"}},
                                        "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.body, "5\n");
  ASSERT_TRUE(client.send("GET / HTTP/1.0\r\n\r\n"));  // HTTP/1.0 needs no Host
  EXPECT_EQ(client.readResponse().status, 200);
}

// A bad request pipelined behind a good one: the good one is answered, the bad one refused, and
// the upstream sees only the good one.
TEST(Framing, BadRequestBehindAGoodOne) {
  ProxyUnderTest proxy;
  UpstreamStats stats(proxy.upstream().port());
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send(requestText("GET", "/") +
                          "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_EQ(client.readResponse().status, 200);
  HttpResponse bad = client.readResponse();
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(client.closedByPeer());
  EXPECT_EQ(stats.read().requests, 1u);
}

TEST(Framing, SlowHeadersGet408AndAClose) {
  ProxySpec spec;
  spec.listener_yaml = "timeouts: { request_headers: 300ms }";
  ProxyUnderTest proxy(spec);
  UpstreamStats stats(proxy.upstream().port());
  HttpClient client(proxy.port());
  auto start = std::chrono::steady_clock::now();
  // A slowloris client: a few header bytes at a time, never the blank line.
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    ASSERT_TRUE(client.send("X-" + std::to_string(i) + ": v\r\n"));
  }
  HttpResponse r = client.readResponse();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(client.closedByPeer());
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(
      scrapeMetric(proxy.adminPort(), "remora_protocol_errors_total", {"kind=\"headers_timeout\""}),
      1);
  EXPECT_EQ(stats.read().requests, 0u);
}

TEST(Framing, IdleKeepAliveConnectionIsClosed) {
  ProxySpec spec;
  spec.listener_yaml = "timeouts: { idle: 300ms }";
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  EXPECT_EQ(client.request("GET", "/").status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closedByPeer(seconds(3)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1500));
  // A connection that never sent anything is idle too.
  HttpClient silent(proxy.port());
  EXPECT_TRUE(silent.closedByPeer(seconds(3)));
}

TEST(Framing, WholeRequestTimeoutAnswers504) {
  ProxySpec spec;
  spec.listener_yaml = "timeouts: { request: 400ms }";
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.request("GET", "/slow/3000");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 504);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2));
  EXPECT_TRUE(client.closedByPeer());
  // A quick request on a new connection is unaffected.
  HttpClient next(proxy.port());
  EXPECT_EQ(next.request("GET", "/").status, 200);
}

}  // namespace
}  // namespace remora::test
