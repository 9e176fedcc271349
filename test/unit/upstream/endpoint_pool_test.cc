// EndpointPool on a real event loop against real sockets on 127.0.0.1: connection limits, the
// pending queue and its bound, hand-over when a connection closes, cancel, connect failures.

#include "upstream/endpoint_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>

#include "event/dispatcher.h"
#include "stats/stats.h"
#include "upstream/worker_cluster.h"

namespace remora::upstream {
namespace {

// A listening socket the kernel completes handshakes for (its backlog), never accepted.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    ::listen(fd_, 64);
    socklen_t len = sizeof(sa);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
  }
  ~Listener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_;
};

// Records what the pool tells a request; stands in for the stream in this unit test.
struct Recorder : UpstreamCallbacks {
  UpstreamRequest* conn = nullptr;
  int ready = 0;
  int failures = 0;
  UpstreamFailure last = UpstreamFailure::kReset;
  void onUpstreamReady(UpstreamRequest& c) override {
    conn = &c;
    ++ready;
  }
  void onUpstreamFailure(UpstreamFailure f, bool) override {
    conn = nullptr;
    ++failures;
    last = f;
  }
  int onResponseHeaders(http::MessageHead&) override { return 0; }
  void onResponseBody(const char*, size_t) override {}
  void onResponseComplete(http::HeaderMap&) override {}
  void onTunnelData(const char*, size_t) override {}
  void onUpstreamWritable() override {}
};

class EndpointPoolTest : public ::testing::Test {
 protected:
  std::shared_ptr<WorkerCluster> makeCluster(uint16_t port, uint32_t max_conns, uint32_t pending) {
    config::Cluster c;
    c.name = "app";
    c.endpoints.push_back({"127.0.0.1", port});
    c.max_connections_per_endpoint = max_conns;
    c.max_pending_requests = pending;
    return std::make_shared<WorkerCluster>(c, dispatcher_, store_, 0);
  }

  // Runs the loop until `done` or 2 s.
  bool runUntil(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline)
      event_base_loop(dispatcher_.base(), EVLOOP_ONCE | EVLOOP_NONBLOCK);
    return done();
  }

  Dispatcher dispatcher_;
  stats::Store store_{1};
};

TEST_F(EndpointPoolTest, ConnectsAndCountsActive) {
  Listener server;
  auto cluster = makeCluster(server.port(), 4, 4);
  uint64_t tried = 0;
  EndpointPool* pool = cluster->choose(tried);
  ASSERT_NE(pool, nullptr);
  Recorder a;
  ASSERT_EQ(pool->acquire(a), PendingAdmission::kAdmitted);
  ASSERT_TRUE(runUntil([&] { return a.ready == 1; }));
  EXPECT_EQ(pool->activeRequests(), 1u);
  EXPECT_EQ(store_.endpoint(0, "app", pool->name()).cx_active.value(), 1);
  a.conn->release();  // no response: not reusable, so it closes
  EXPECT_EQ(pool->activeRequests(), 0u);
  EXPECT_EQ(pool->idleCount(), 0u);
}

TEST_F(EndpointPoolTest, QueuesAtTheConnectionLimitAndRefusesPastThePendingBound) {
  Listener server;
  auto cluster = makeCluster(server.port(), 1, 1);
  uint64_t tried = 0;
  EndpointPool* pool = cluster->choose(tried);
  Recorder a, b, c;
  ASSERT_EQ(pool->acquire(a), PendingAdmission::kAdmitted);
  ASSERT_EQ(pool->acquire(b), PendingAdmission::kAdmitted);     // queued
  EXPECT_EQ(pool->acquire(c), PendingAdmission::kClusterFull);  // the caller answers 503
  EXPECT_EQ(cluster->stats().pending_requests.value(), 1);
  EXPECT_EQ(cluster->stats().pending_overflow.value(), 1u);
  ASSERT_TRUE(runUntil([&] { return a.ready == 1; }));
  EXPECT_EQ(b.ready, 0);
  // The first connection closes: the waiting request gets a fresh one.
  a.conn->release();
  EXPECT_EQ(cluster->stats().pending_requests.value(), 0);
  ASSERT_TRUE(runUntil([&] { return b.ready == 1; }));
  b.conn->release();
}

TEST_F(EndpointPoolTest, AStreamLimitRefusesBelowTheClusterBoundWithoutCountingItsOverflow) {
  Listener server;
  auto cluster = makeCluster(server.port(), 1, 4);
  uint64_t tried = 0;
  EndpointPool* pool = cluster->choose(tried);
  Recorder a, b, c, d;
  ASSERT_EQ(pool->acquire(a, 0), PendingAdmission::kAdmitted);  // a connection, not a wait
  ASSERT_EQ(pool->acquire(b, 1), PendingAdmission::kAdmitted);  // queued: 0 waiting before
  EXPECT_EQ(pool->acquire(c, 1), PendingAdmission::kStreamLimit);
  EXPECT_EQ(pool->acquire(d, 2), PendingAdmission::kAdmitted);  // its own bound is looser
  EXPECT_EQ(cluster->stats().pending_requests.value(), 2);
  EXPECT_EQ(cluster->stats().pending_overflow.value(), 0u);  // the filter counts its refusals
  pool->cancel(d);
  pool->cancel(b);
  pool->cancel(a);
  EXPECT_EQ(cluster->stats().pending_requests.value(), 0);
}

TEST_F(EndpointPoolTest, CancelLeavesTheQueue) {
  Listener server;
  auto cluster = makeCluster(server.port(), 1, 4);
  uint64_t tried = 0;
  EndpointPool* pool = cluster->choose(tried);
  Recorder a, b;
  ASSERT_EQ(pool->acquire(a), PendingAdmission::kAdmitted);
  ASSERT_EQ(pool->acquire(b), PendingAdmission::kAdmitted);
  EXPECT_EQ(cluster->stats().pending_requests.value(), 1);
  pool->cancel(b);
  EXPECT_EQ(cluster->stats().pending_requests.value(), 0);
  ASSERT_TRUE(runUntil([&] { return a.ready == 1; }));
  a.conn->release();
  runUntil([] { return false; }, std::chrono::milliseconds(100));  // b must not be called back
  EXPECT_EQ(b.ready, 0);
  EXPECT_EQ(b.failures, 0);
}

// A stream that ends while its connection is still being opened (the client left, or a local
// reply settled it) must never be called back: the connection is closed, not left pointing at it.
TEST_F(EndpointPoolTest, CancelWhileConnectingClosesThatConnection) {
  Listener server;
  auto cluster = makeCluster(server.port(), 1, 4);
  uint64_t tried = 0;
  EndpointPool* pool = cluster->choose(tried);
  Recorder a, b;
  ASSERT_EQ(pool->acquire(a), PendingAdmission::kAdmitted);  // connecting for a
  ASSERT_EQ(pool->acquire(b), PendingAdmission::kAdmitted);  // queued behind it
  pool->cancel(a);
  // The slot it held goes at once to the waiting request.
  EXPECT_EQ(pool->activeRequests(), 1u);
  EXPECT_EQ(cluster->stats().pending_requests.value(), 0);
  ASSERT_TRUE(runUntil([&] { return b.ready == 1; }));
  runUntil([] { return false; }, std::chrono::milliseconds(100));
  EXPECT_EQ(a.ready, 0);
  EXPECT_EQ(a.failures, 0);
  b.conn->release();
}

TEST_F(EndpointPoolTest, RefusedConnectIsReportedFromTheLoop) {
  uint16_t port;
  {
    Listener gone;  // bound then closed: nothing listens there any more
    port = gone.port();
  }
  auto cluster = makeCluster(port, 4, 4);
  uint64_t tried = 0;
  EndpointPool* pool = cluster->choose(tried);
  Recorder a;
  ASSERT_EQ(pool->acquire(a), PendingAdmission::kAdmitted);
  EXPECT_EQ(a.failures, 0);  // never from inside acquire()
  ASSERT_TRUE(runUntil([&] { return a.failures == 1; }));
  EXPECT_EQ(a.last, UpstreamFailure::kConnectFailed);
  EXPECT_EQ(cluster->stats().connect_failures.value(), 1u);
  EXPECT_EQ(pool->activeRequests(), 0u);
}

TEST_F(EndpointPoolTest, EjectedEndpointIsSkippedUnlessAllAre) {
  Listener s1, s2;
  config::Cluster c;
  c.name = "two";
  c.endpoints = {{"127.0.0.1", s1.port()}, {"127.0.0.1", s2.port()}};
  WorkerCluster cluster(c, dispatcher_, store_, 0);
  cluster.eject(c.endpoints[0].str(), 60000);
  for (int i = 0; i < 4; ++i) {
    uint64_t tried = 0;
    EXPECT_EQ(cluster.choose(tried)->name(), c.endpoints[1].str());
  }
  cluster.eject(c.endpoints[1].str(), 60000);
  uint64_t tried = 0;
  EXPECT_NE(cluster.choose(tried), nullptr);  // all ejected: balance over all
}

}  // namespace
}  // namespace remora::upstream
