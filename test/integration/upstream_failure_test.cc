// Upstream failures through the real binary: endpoints that refuse connections, answer too
// slowly, reset, cut a response short or send garbage, stale pooled connections, and the pool's
// limits. Each failure has its status, a body naming the cause, and a metric.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// An endpoint nobody listens on: connecting to it is refused at once.
std::string deadEndpoint() {
  return "127.0.0.1:" + std::to_string(freePort());
}

TEST(UpstreamFailure, RefusedConnectionGets503NamingTheCause) {
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {deadEndpoint()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("connect"), std::string::npos) << r.body;
  EXPECT_TRUE(r.keep_alive);  // the client's connection is not at fault
  EXPECT_EQ(client.request("GET", "/").status, 503);
  EXPECT_GE(scrapeMetric(proxy.adminPort(), "remora_upstream_connect_failures_total",
                         {"cluster=\"app\""}),
            2);
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"5xx\""}), 2);
}

TEST(UpstreamFailure, RefusingEndpointIsRetriedOnTheOther) {
  ProxySpec spec;
  spec.upstreams = 1;
  spec.extra_endpoints = {deadEndpoint()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = client.request("GET", "/");
    ASSERT_EQ(r.status, 200) << i << ": " << r.body << r.error;
    EXPECT_EQ(r.header("x-upstream"), "up0");
  }
  // Round robin sent about half of the first attempts to the dead endpoint.
  EXPECT_GE(scrapeMetric(proxy.adminPort(), "remora_upstream_connect_failures_total"), 5);
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"2xx\""}), 20);
}

// A connect failure happens before any request byte left: the request, body included, goes
// whole to the next endpoint.
TEST(UpstreamFailure, RetriedRequestKeepsItsBody) {
  ProxySpec spec;
  spec.upstreams = 1;
  spec.extra_endpoints = {deadEndpoint()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  for (int i = 0; i < 6; ++i) {
    std::string body = "body number " + std::to_string(i);
    HttpResponse sized = client.request("POST", "/echo", {}, body);
    EXPECT_EQ(sized.body, body);
    HttpResponse chunked = client.request("POST", "/echo", {{"Transfer-Encoding", "chunked"}},
                                          "3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(chunked.body, "abc");
  }
  EXPECT_GE(scrapeMetric(proxy.adminPort(), "remora_upstream_connect_failures_total"), 3);
}

TEST(UpstreamFailure, SlowUpstreamGets504) {
  ProxySpec spec;
  spec.cluster_yaml = "response_timeout: 300ms";
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.request("GET", "/slow/3000");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 504);
  EXPECT_NE(r.body.find("timeout"), std::string::npos) << r.body;
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_upstream_response_timeouts_total"), 1);
  // Both connections carry on: the client's, and a fresh one upstream.
  EXPECT_EQ(client.request("GET", "/slow/10").status, 200);
}

TEST(UpstreamFailure, ResetGets502) {
  ProxyUnderTest proxy;
  HttpClient client(proxy.port());
  HttpResponse fresh = client.request("GET", "/reset");
  ASSERT_TRUE(fresh.ok()) << fresh.error;
  EXPECT_EQ(fresh.status, 502);
  EXPECT_NE(fresh.body.find("reset"), std::string::npos) << fresh.body;
  // Now over a pooled connection: a reset there may be a stale connection, so remora tries a
  // fresh one, which is reset too.
  EXPECT_EQ(client.request("GET", "/").status, 200);
  EXPECT_EQ(client.request("GET", "/reset").status, 502);
  EXPECT_EQ(client.request("GET", "/").status, 200);
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_requests_total", {"code_class=\"5xx\""}), 2);
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_upstream_requests_total",
                         {"code_class=\"2xx\"", "cluster=\"app\""}),
            2);
}

TEST(UpstreamFailure, ResponseCutShortClosesTheClientConnection) {
  RawUpstream raw([](RawConnection& conn, size_t) {
    conn.readUntil("\r\n\r\n");
    conn.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
  });
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {raw.address()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/");
  // The head was already sent: the only honest signal left is closing the connection.
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "only ten b");
  EXPECT_TRUE(client.closedByPeer());
}

TEST(UpstreamFailure, GarbageResponseGets502) {
  RawUpstream raw([](RawConnection& conn, size_t) {
    conn.readUntil("\r\n\r\n");
    conn.send("SMTP ready\r\n\r\n");
  });
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {raw.address()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  HttpResponse r = client.request("GET", "/");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("invalid response"), std::string::npos) << r.body;
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_protocol_errors_total",
                         {"kind=\"upstream_bad_response\""}),
            1);
}

// A listening socket whose accept queue is full: the kernel drops further SYNs, so a connect
// to it neither succeeds nor fails until the connect timeout.
class FullBacklog {
 public:
  FullBacklog() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), len);
    ::listen(listener_, 0);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    // Never accepted: these fill the queue (backlog 0 still queues one or two).
    for (int i = 0; i < 3; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(fd, reinterpret_cast<sockaddr*>(&a), len);
      fillers_.push_back(fd);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  ~FullBacklog() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::vector<int> fillers_;
};

TEST(UpstreamFailure, ConnectTimeoutGets503NamingTheCause) {
  FullBacklog hung;
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {hung.address()};
  spec.cluster_yaml = "connect_timeout: 200ms\nmax_connect_attempts: 1";
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.request("GET", "/");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("connect timeout"), std::string::npos) << r.body;
  EXPECT_GE(took, milliseconds(150));
  EXPECT_LT(took, milliseconds(2000));
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_upstream_connect_timeouts_total",
                         {"cluster=\"app\""}),
            1);
}

// The upstream drops a kept-alive connection just as it is reused, as servers closing idle
// connections do. Nothing was processed, so a request without a body goes again on a new
// connection; one with a body cannot be replayed safely and gets 502.
TEST(UpstreamFailure, StalePooledConnectionIsRetriedWhenSafe) {
  RawUpstream raw([](RawConnection& conn, size_t index) {
    conn.readUntil("\r\n\r\n");
    conn.send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + std::to_string(index));
    conn.readUntil("\r\n\r\n");  // the next request arrives: drop the connection unanswered
  });
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {raw.address()};
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  EXPECT_EQ(client.request("GET", "/").body, "0");
  EXPECT_EQ(client.request("GET", "/").body, "1");  // retried on connection 1
  EXPECT_EQ(raw.accepted(), 2u);
  HttpResponse post = client.request("POST", "/", {}, "a body");
  EXPECT_EQ(post.status, 502) << post.body;
}

TEST(UpstreamFailure, PendingQueueOverflowGets503) {
  ProxySpec spec;
  spec.cluster_yaml = "max_connections_per_endpoint: 1\nmax_pending_requests: 1";
  ProxyUnderTest proxy(spec);
  UpstreamStats stats(proxy.upstream().port());
  HttpClient first(proxy.port());
  HttpClient second(proxy.port());
  HttpClient third(proxy.port());
  // The first takes the endpoint's only connection...
  ASSERT_TRUE(first.send(requestText("GET", "/slow/1000")));
  ASSERT_TRUE(waitUntil([&] { return stats.read().requests == 1; }, seconds(5)));
  // ...the second waits for it...
  ASSERT_TRUE(second.send(requestText("GET", "/slow/10")));
  ASSERT_TRUE(waitUntil(
      [&] { return scrapeMetric(proxy.adminPort(), "remora_upstream_pending_requests") == 1; },
      seconds(5)));
  // ...and the third finds the queue full.
  auto start = std::chrono::steady_clock::now();
  HttpResponse refused = third.request("GET", "/");
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(500));  // not queued
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("overloaded"), std::string::npos) << refused.body;
  EXPECT_TRUE(refused.keep_alive);

  EXPECT_EQ(first.readResponse().status, 200);
  EXPECT_EQ(second.readResponse().status, 200);
  EXPECT_EQ(third.request("GET", "/").status, 200);  // the refused client's connection is fine
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_upstream_pending_overflow_total"), 1);
  EXPECT_EQ(scrapeMetric(proxy.adminPort(), "remora_upstream_pending_requests"), 0);
  UpstreamCounts counts = stats.read();
  EXPECT_EQ(counts.requests, 3u);
  EXPECT_EQ(counts.connections, 1u);  // the waiting request reused the first one's connection
}

// A client that gives up while its request waits for an upstream leaves nothing behind.
TEST(UpstreamFailure, ClientLeavingWhileQueuedFreesItsPlace) {
  ProxySpec spec;
  spec.cluster_yaml = "max_connections_per_endpoint: 1\nmax_pending_requests: 1";
  ProxyUnderTest proxy(spec);
  UpstreamStats stats(proxy.upstream().port());
  HttpClient first(proxy.port());
  ASSERT_TRUE(first.send(requestText("GET", "/slow/500")));
  ASSERT_TRUE(waitUntil([&] { return stats.read().requests == 1; }, seconds(5)));
  {
    HttpClient quitter(proxy.port());
    ASSERT_TRUE(quitter.send(requestText("GET", "/")));
    ASSERT_TRUE(waitUntil(
        [&] { return scrapeMetric(proxy.adminPort(), "remora_upstream_pending_requests") == 1; },
        seconds(5)));
  }
  ASSERT_TRUE(waitUntil(
      [&] { return scrapeMetric(proxy.adminPort(), "remora_upstream_pending_requests") == 0; },
      seconds(5)));
  HttpClient next(proxy.port());
  ASSERT_TRUE(next.send(requestText("GET", "/")));
  EXPECT_EQ(first.readResponse().status, 200);
  EXPECT_EQ(next.readResponse().status, 200);
  EXPECT_EQ(stats.read().requests, 2u);  // the quitter's request never went upstream
}

}  // namespace
}  // namespace remora::test
