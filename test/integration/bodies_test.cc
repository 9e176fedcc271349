// Bodies through the real proxy: chunked both ways, trailers, responses that carry no body
// (HEAD, 204, 304), Expect: 100-continue, and gigabyte transfers in bounded memory.

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kMiB = 1ull << 20;
// remora's resident memory must stay under this while a body far larger streams through.
#ifdef __SANITIZE_ADDRESS__
// ASan's quarantine (256 MiB by default) and shadow memory keep freed buffers resident (peaks of
// ~500 MiB were seen for a chunked gigabyte); the bound then only catches a proxy holding a
// whole gigabyte body.
constexpr uint64_t kRssBound = 768 * kMiB;
#else
constexpr uint64_t kRssBound = 64 * kMiB;
#endif

TEST(Bodies, ChunkedUploadIsStreamedToTheUpstream) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(client.send("5\r\nhello\r\n"));
  ASSERT_TRUE(client.send("7;ext=1\r\n, world\r\n"));  // chunk extensions are allowed
  ASSERT_TRUE(client.send("0\r\n\r\n"));
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.body, "hello, world");

  // Many small chunks, counted by the upstream.
  std::string chunks;
  for (int i = 0; i < 1000; ++i) chunks += "400\r\n" + std::string(1024, 'c') + "\r\n";
  ASSERT_TRUE(client.send("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                          chunks + "0\r\n\r\n"));
  HttpResponse count = client.readResponse();
  EXPECT_EQ(count.body, "1024000\n");

  // The connection is still in step: a plain request works after both.
  EXPECT_EQ(client.request("PUT", "/echo", {}, "same length back").body, "same length back");
}

TEST(Bodies, ChunkedAndSizedDownloads) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse chunked = client.request("GET", "/bytes/300000?chunked=1");
  ASSERT_TRUE(chunked.ok()) << chunked.error;
  EXPECT_TRUE(chunked.chunked);
  EXPECT_FALSE(chunked.has("content-length"));
  EXPECT_EQ(chunked.body, std::string(300000, 'x'));

  HttpResponse sized = client.request("GET", "/bytes/300000");
  EXPECT_FALSE(sized.chunked);
  EXPECT_EQ(sized.header("content-length"), "300000");
  EXPECT_EQ(sized.body, std::string(300000, 'x'));

  HttpResponse empty = client.request("GET", "/bytes/0?chunked=1");
  ASSERT_TRUE(empty.ok()) << empty.error;
  EXPECT_EQ(empty.body, "");

  int code = -1;
  EXPECT_EQ(curl({"-s", proxy.url("/bytes/70000?chunked=1")}, &code), std::string(70000, 'x'));
  EXPECT_EQ(code, 0);
}

TEST(Bodies, TrailersPassThroughBothWays) {
  RawUpstream raw([](RawConnection& conn, size_t) {
    conn.readUntil("\r\n\r\n");  // request head
    conn.readUntil("\r\n\r\n");  // chunks, the last chunk and the trailers
    conn.send(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Digest\r\n\r\n"
        "5\r\nworld\r\n0\r\nX-Digest: xyz\r\n\r\n");
  });
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {raw.address()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  ASSERT_TRUE(
      client.send("POST /t HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\n"
                  "Trailer: X-Checksum\r\n\r\n"
                  "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n"));
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "world");
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.trailers["x-digest"], "xyz");
  ASSERT_TRUE(waitUntil([&] { return raw.received().size() == 1; }, seconds(5)));
  const std::string sent = raw.received()[0];
  EXPECT_NE(sent.find("\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n"), std::string::npos) << sent;
}

// An upstream may answer before the request body has ended (echo and streaming servers do):
// the rest of the body must still reach it, or it waits for it forever.
TEST(Bodies, UpstreamAnsweringBeforeTheBodyEndsStillGetsAllOfIt) {
  RawUpstream raw([](RawConnection& conn, size_t) {
    conn.readUntil("\r\n\r\n");
    conn.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nearly\r\n");
    if (conn.readUntil("\r\n0\r\n\r\n").empty()) return;  // the whole body, then the end
    conn.send("4\r\nlate\r\n0\r\n\r\n");
  });
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {raw.address()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send(
      "POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n"));
  // Wait until the early response has reached us, so it certainly started before the rest.
  pollfd p{client.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  ASSERT_TRUE(client.send("3\r\ntwo\r\n"));
  ASSERT_TRUE(client.send("5\r\nthree\r\n0\r\n\r\n"));
  HttpResponse r = client.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "earlylate");
  ASSERT_TRUE(waitUntil([&] { return raw.received().size() == 1; }, seconds(5)));
  EXPECT_NE(raw.received()[0].find("3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\n\r\n"),
            std::string::npos)
      << raw.received()[0];
}

TEST(Bodies, HeadResponsesHaveNoBody) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse sized = client.request("HEAD", "/bytes/1000");
  ASSERT_TRUE(sized.ok()) << sized.error;
  EXPECT_EQ(sized.status, 200);
  EXPECT_EQ(sized.header("content-length"), "1000");
  EXPECT_EQ(sized.body_size, 0u);
  HttpResponse chunked = client.request("HEAD", "/bytes/1000?chunked=1");
  ASSERT_TRUE(chunked.ok()) << chunked.error;
  EXPECT_EQ(chunked.status, 200);
  EXPECT_EQ(chunked.body_size, 0u);
  // Had any body bytes been sent, they would corrupt this next response.
  HttpResponse next = client.request("GET", "/");
  EXPECT_EQ(next.body, "hello from up0\n");
  EXPECT_FALSE(client.closedByPeer(milliseconds(50)));
}

TEST(Bodies, NoContentAndNotModifiedHaveNoBody) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  for (int status : {204, 304}) {
    HttpResponse r = client.request("GET", "/status/" + std::to_string(status));
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, status);
    EXPECT_FALSE(r.has("transfer-encoding")) << status;
    EXPECT_EQ(r.body_size, 0u);
    EXPECT_TRUE(r.keep_alive);
  }
  // Pipelined behind a 204 and a 304, a normal response still parses.
  ASSERT_TRUE(client.send(requestText("GET", "/status/204") + requestText("GET", "/status/304") +
                          requestText("GET", "/")));
  EXPECT_EQ(client.readResponse().status, 204);
  EXPECT_EQ(client.readResponse().status, 304);
  EXPECT_EQ(client.readResponse().body, "hello from up0\n");
}

TEST(Bodies, ExpectContinueIsAnsweredByTheProxy) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send(
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  HttpResponse interim = client.readResponse();
  ASSERT_TRUE(interim.ok()) << interim.error;
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.send("abcde"));
  HttpResponse final_response = client.readResponse();
  EXPECT_EQ(final_response.status, 200);
  EXPECT_EQ(final_response.body, "5\n");

  // The upstream never sees the Expect (so never sends a 100 of its own).
  ASSERT_TRUE(client.send(
      "POST /headers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(client.readResponse().status, 100);
  ASSERT_TRUE(client.send("hi"));
  HttpResponse headers = client.readResponse();
  EXPECT_EQ(headers.status, 200);
  EXPECT_EQ(headers.body.find("xpect"), std::string::npos) << headers.body;
  EXPECT_EQ(client.request("GET", "/").status, 200);
}

// Streams `size` bytes of request body in 1 MiB writes and returns the response.
HttpResponse upload(HttpClient& client, const std::string& head, uint64_t size, bool chunked) {
  HttpResponse failed;
  if (!client.send(head)) {
    failed.error = client.error();
    return failed;
  }
  const std::string block(kMiB, 'u');
  const std::string chunk_head = "100000\r\n";  // 1 MiB in hex
  for (uint64_t sent = 0; sent < size; sent += kMiB) {
    bool ok = chunked ? client.send(chunk_head) && client.send(block) && client.send("\r\n")
                      : client.send(block);
    if (!ok) {
      failed.error = "upload stopped after " + std::to_string(sent) + " bytes: " + client.error();
      return failed;
    }
  }
  if (chunked && !client.send("0\r\n\r\n")) failed.error = client.error();
  return failed.error.empty() ? client.readResponse() : failed;
}

TEST(Bodies, GigabyteUploadInBoundedMemory) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port(), seconds(30));
  RssSampler rss(proxy.remora().process().pid());
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = upload(
      client,
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kGiB) + "\r\n\r\n",
      kGiB, false);
  auto took = std::chrono::steady_clock::now() - start;
  rss.stop();
  ::testing::Test::RecordProperty("peak_rss_mib", static_cast<int>(rss.peakBytes() / kMiB));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, std::to_string(kGiB) + "\n");
  EXPECT_LT(took, seconds(60));
  EXPECT_GT(rss.samples(), 10u);
  EXPECT_LT(rss.peakBytes(), kRssBound) << "peak VmRSS " << rss.peakBytes() / kMiB << " MiB";
}

TEST(Bodies, GigabyteChunkedUploadInBoundedMemory) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port(), seconds(30));
  RssSampler rss(proxy.remora().process().pid());
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = upload(
      client, "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", kGiB, true);
  auto took = std::chrono::steady_clock::now() - start;
  rss.stop();
  ::testing::Test::RecordProperty("peak_rss_mib", static_cast<int>(rss.peakBytes() / kMiB));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, std::to_string(kGiB) + "\n");
  EXPECT_LT(took, seconds(60));
  EXPECT_LT(rss.peakBytes(), kRssBound) << "peak VmRSS " << rss.peakBytes() / kMiB << " MiB";
}

void downloadGigabyte(const std::string& path, bool expect_chunked) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port(), seconds(30));
  RssSampler rss(proxy.remora().process().pid());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send(requestText("GET", path)));
  HttpResponse r = client.readResponse(false, /*keep_body=*/false);
  auto took = std::chrono::steady_clock::now() - start;
  rss.stop();
  ::testing::Test::RecordProperty("peak_rss_mib", static_cast<int>(rss.peakBytes() / kMiB));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.chunked, expect_chunked);
  EXPECT_EQ(r.body_size, kGiB);
  EXPECT_LT(took, seconds(60));
  EXPECT_GT(rss.samples(), 10u);
  EXPECT_LT(rss.peakBytes(), kRssBound) << "peak VmRSS " << rss.peakBytes() / kMiB << " MiB";
  EXPECT_EQ(client.request("GET", "/").status, 200);  // the connection is still usable
}

TEST(Bodies, GigabyteChunkedDownloadInBoundedMemory) {
  downloadGigabyte("/bytes/" + std::to_string(kGiB) + "?chunked=1", true);
}

TEST(Bodies, GigabyteSizedDownloadInBoundedMemory) {
  downloadGigabyte("/bytes/" + std::to_string(kGiB), false);
}

// A client that stops reading must not make the proxy buffer what the upstream keeps sending.
TEST(Bodies, SlowReaderAppliesBackpressureToTheUpstream) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port(), seconds(30));
  constexpr uint64_t kSize = 256 * kMiB;
  ASSERT_TRUE(client.send(requestText("GET", "/bytes/" + std::to_string(kSize))));
  RssSampler rss(proxy.remora().process().pid());
  std::this_thread::sleep_for(milliseconds(700));  // not reading at all meanwhile
  uint64_t stalled_peak = rss.peakBytes();
  HttpResponse r = client.readResponse(false, /*keep_body=*/false);
  rss.stop();
  ::testing::Test::RecordProperty("peak_rss_mib", static_cast<int>(rss.peakBytes() / kMiB));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body_size, kSize);
  EXPECT_LT(stalled_peak, kRssBound) << "peak VmRSS " << stalled_peak / kMiB << " MiB";
  EXPECT_LT(rss.peakBytes(), kRssBound) << "peak VmRSS " << rss.peakBytes() / kMiB << " MiB";
}

}  // namespace
}  // namespace remora::test
