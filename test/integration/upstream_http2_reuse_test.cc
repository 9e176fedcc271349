// Upstream HTTP/2 stream objects are reused: the endpoint's pool keeps the streams its
// connections are done with and reopens one for the next request. Sequential requests from one
// client go out on one upstream connection, each on the stream object the previous one left,
// so whatever a reopened stream kept of the previous exchange (request trailers, a response
// head, trailers, "response done") would show in what the client gets.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "common/h2_test_server.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::seconds;

// Nothing the upstream test server echoes (x-seen-*) or sends as trailers.
void expectNoEchoOrTrailers(const HttpResponse& r) {
  for (const auto& [name, value] : r.headers)
    EXPECT_NE(name.rfind("x-seen-", 0), 0u) << name << ": " << value;
  EXPECT_FALSE(r.has("x-checksum"));
  EXPECT_FALSE(r.has("x-status"));
  EXPECT_TRUE(r.trailers.empty());
}

TEST(UpstreamHttp2Reuse, AReusedStreamCarriesNothingOfThePreviousExchange) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address());
  // Short waits: a stream that kept its old state hangs rather than answers wrongly.
  HttpClient client(proxy->port(), seconds(3));

  // 1. A chunked body with a trailer: request trailers, echoed headers and body back.
  ASSERT_TRUE(
      client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\n\r\n"));
  HttpResponse first = client.readResponse();
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "hello, world");
  EXPECT_EQ(first.header("x-seen-trailer-x-checksum"), "abc");

  // 2. A fixed body without trailers: the previous request's trailers are not sent again.
  HttpResponse second = client.request("POST", "/echo", {}, "plain");
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "plain");
  EXPECT_EQ(second.header("x-seen-body-bytes"), "5");
  EXPECT_FALSE(second.has("x-seen-trailer-x-checksum"));

  // 3. A response with a body and trailers.
  HttpResponse third = client.request("GET", "/trailers", {{"TE", "trailers"}});
  ASSERT_TRUE(third.ok()) << third.error;
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, "trailer body\n");
  EXPECT_EQ(third.trailers["x-checksum"], "abc123");
  EXPECT_EQ(third.trailers["x-status"], "done");

  // 4. Right after trailers, a bare response: its HEADERS are a head again, not trailers, and
  // nothing of the previous head, body or trailers is left.
  HttpResponse fourth = client.request("GET", "/bare", {{"TE", "trailers"}});
  ASSERT_TRUE(fourth.ok()) << fourth.error;
  EXPECT_EQ(fourth.status, 200);
  EXPECT_EQ(fourth.body, "");
  EXPECT_EQ(fourth.header("content-length"), "0");
  expectNoEchoOrTrailers(fourth);

  // 5. A plain GET: no body bytes or trailers reach the upstream from earlier requests.
  HttpResponse fifth = client.request("GET", "/plain");
  ASSERT_TRUE(fifth.ok()) << fifth.error;
  EXPECT_EQ(fifth.status, 200);
  EXPECT_EQ(fifth.body, "ok\n");
  EXPECT_EQ(fifth.header("x-seen-body-bytes"), "0");
  EXPECT_EQ(fifth.header("x-seen-method"), "GET");
  EXPECT_FALSE(fifth.has("x-seen-trailer-x-checksum"));
  EXPECT_FALSE(fifth.has("x-checksum"));
  EXPECT_TRUE(fifth.trailers.empty());

  // All of it on one upstream connection (the /stats request is one more stream on it).
  nlohmann::json stats =
      nlohmann::json::parse(client.request("GET", "/stats").body, nullptr, false);
  EXPECT_EQ(stats["connections"], 1) << stats.dump();

  // 6. The upstream dies under a reopened stream: the stream is not "done" from before, so the
  // client gets its 502 at once.
  HttpResponse died = client.request("GET", "/die");
  ASSERT_TRUE(died.ok()) << died.error;
  EXPECT_EQ(died.status, 502);

  // A new connection; the stream of the dead one was not kept for it, and one still works.
  HttpClient again(proxy->port(), seconds(3));
  HttpResponse after = again.request("GET", "/bare");
  ASSERT_TRUE(after.ok()) << after.error;
  EXPECT_EQ(after.status, 200);
  expectNoEchoOrTrailers(after);
}

// A stream that timed out is retired from its own timer, outside the connection's callbacks
// (the pool recycles it at the end of the pass); the next requests reuse it.
TEST(UpstreamHttp2Reuse, AStreamRetiredByItsTimeoutIsReusedClean) {
  H2TestServer server;
  auto proxy = proxyToHttp2(server.address(), "response_timeout: 300ms\n");
  HttpClient client(proxy->port(), seconds(3));
  HttpResponse slow = client.request("GET", "/slow/1000");
  ASSERT_TRUE(slow.ok()) << slow.error;
  EXPECT_EQ(slow.status, 504);
  for (int i = 0; i < 3; ++i) {
    HttpResponse trailers = client.request("GET", "/trailers", {{"TE", "trailers"}});
    ASSERT_TRUE(trailers.ok()) << trailers.error;
    EXPECT_EQ(trailers.status, 200);
    EXPECT_EQ(trailers.trailers["x-status"], "done");
    HttpResponse bare = client.request("GET", "/bare");
    ASSERT_TRUE(bare.ok()) << bare.error;
    EXPECT_EQ(bare.status, 200);
    expectNoEchoOrTrailers(bare);
  }
  // Within the timeout: the old stream's timer does not fire on the new request.
  HttpResponse quick = client.request("GET", "/slow/150");
  ASSERT_TRUE(quick.ok()) << quick.error;
  EXPECT_EQ(quick.status, 200);
  EXPECT_EQ(quick.body, "slow\n");
  nlohmann::json stats =
      nlohmann::json::parse(client.request("GET", "/stats").body, nullptr, false);
  EXPECT_EQ(stats["connections"], 1) << stats.dump();  // the timeout reset a stream only
}

}  // namespace
}  // namespace remora::test
