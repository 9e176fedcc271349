// The gRPC layer in the real binary over HTTP/1.1: a raw client sending gRPC-framed requests
// (content-type application/grpc, chunked, te: trailers) and a scripted upstream answering with
// gRPC trailers or trailers-only responses. Local replies from the router, auth, rate limiter
// and circuit breaker come back as gRPC errors; grpc-timeout ends a slow call with
// DEADLINE_EXCEEDED; retries on `unavailable`; the breaker counts grpc-status failures; and
// remora_grpc_requests_total counts by service, method and status.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/filter_env.h"
#include "common/harness.h"
#include "common/proxy_under_test.h"
#include "common/raw_upstream.h"

namespace remora::test {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

// One length-prefixed gRPC message (uncompressed).
std::string grpcFrame(const std::string& message) {
  std::string f(5, '\0');
  f[4] = static_cast<char>(message.size());  // messages here are shorter than 256 bytes
  return f + message;
}

// The body as one chunk plus the last chunk, as an HTTP/1.1 gRPC client sends it.
std::string chunked(const std::string& body) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

// The upstream gRPC service pkg.Echo over HTTP/1.1, one connection at a time, keep-alive:
//   Unary        → the request frame echoed, then trailers grpc-status 0
//   Unavailable  → trailers-only grpc-status 14
//   Flaky        → trailers-only 14 on the first call, then like Unary
//   Slow         → like Unary after 1 s
class GrpcUpstream {
 public:
  GrpcUpstream() : raw_([this](RawConnection& c, size_t) { serve(c); }) {}
  std::string address() const { return raw_.address(); }
  int calls() const { return calls_.load(); }
  // Every request (head and body) received so far.
  std::string received() const {
    std::lock_guard<std::mutex> g(mu_);
    return received_;
  }

 private:
  void serve(RawConnection& c) {
    for (int i = 0; i < 50; ++i) {
      std::string head = c.readUntil("\r\n\r\n");
      if (head.empty()) return;
      std::string body = c.readUntil("0\r\n\r\n");
      {
        std::lock_guard<std::mutex> g(mu_);
        received_ += head + body;
      }
      ++calls_;
      std::string path = head.substr(head.find(' ') + 1);
      path = path.substr(0, path.find(' '));
      std::string frame = grpcFrame("echo");
      if (path == "/pkg.Echo/Unavailable" || (path == "/pkg.Echo/Flaky" && flaky_++ == 0)) {
        c.send(
            "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: 14\r\n"
            "grpc-message: try later\r\ncontent-length: 0\r\n\r\n");
        continue;
      }
      if (path == "/pkg.Echo/Slow") std::this_thread::sleep_for(std::chrono::seconds(1));
      c.send(
          "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: "
          "chunked\r\n\r\n" +
          std::string(chunked(frame)).substr(0, chunked(frame).size() - 5) +
          "0\r\ngrpc-status: 0\r\ngrpc-message: fine\r\n\r\n");
    }
  }

  mutable std::mutex mu_;
  std::string received_;
  std::atomic<int> calls_{0};
  std::atomic<int> flaky_{0};
  RawUpstream raw_;
};

class GrpcTest : public ::testing::Test {
 protected:
  GrpcTest() {
    for (const char* f : {"auth", "rate_limit", "router", "circuit_breaker"}) plugins_.addFilter(f);
  }

  // auth (only for /pkg.Secure/), rate_limit (only for /pkg.Limited/), router, circuit_breaker.
  void start(const json& breaker_app = {{"max_active_requests", 100}}) {
    json auth = {{"api_key", {{"keys", {{{"name", "bot"}, {"sha256", std::string(64, 'a')}}}}}},
                 {"rules", {{{"prefix", "/pkg.Secure/"}, {"require", {"api_key"}}}}},
                 {"default", {{"require", "none"}}}};
    json rate = {{"rules", {{{"prefix", "/pkg.Limited/"}, {"rate", 1}, {"per", "1m"}}}}};
    json retry = {{"attempts", 2}, {"on", {"unavailable"}}};
    json router = {
        {"routes",
         {{{"match", {{"path", "/pkg.Echo/Flaky"}}}, {"cluster", "app"}, {"retry", retry}},
          {{"match", {{"prefix", "/pkg."}}}, {"cluster", "app"}, {"retry", {{"attempts", 0}}}}}}};
    std::vector<FilterSpec> chain = {{"auth", auth},
                                     {"rate_limit", rate},
                                     {"router", router},
                                     {"circuit_breaker", {{"clusters", {{"app", breaker_app}}}}}};
    proxy_ = std::make_unique<FilterProxy>(plugins_, chain,
                                           std::vector<ClusterSpec>{{"app", {up_.address()}, ""}});
  }

  // One gRPC call on a fresh connection.
  HttpResponse call(const std::string& path, Headers extra = {}) {
    Headers h = {
        {"content-type", "application/grpc"}, {"te", "trailers"}, {"transfer-encoding", "chunked"}};
    for (auto& e : extra) h.push_back(e);
    return proxy_->request("POST", path, h, chunked(grpcFrame("hi")));
  }

  double grpcCount(const std::string& method, const std::string& status) {
    return findMetric(proxy_->metrics(), "remora_grpc_requests_total",
                      {{"service", "pkg.Echo"}, {"method", method}, {"grpc_status", status}})
        .value_or(0);
  }

  // A trailers-only gRPC error: HTTP 200, application/grpc, grpc-status in the headers, no body.
  static void expectGrpcError(const HttpResponse& r, const std::string& status) {
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/grpc");
    EXPECT_EQ(r.header("grpc-status"), status);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.header("content-length"), "0");
  }

  PluginDir plugins_;
  GrpcUpstream up_;
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(GrpcTest, UnaryCallKeepsTrailersAndIsCounted) {
  start();
  HttpResponse r = call("/pkg.Echo/Unary");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, grpcFrame("echo"));
  EXPECT_EQ(r.trailers["grpc-status"], "0");
  EXPECT_EQ(r.trailers["grpc-message"], "fine");
  EXPECT_EQ(call("/pkg.Echo/Unavailable").header("grpc-status"), "14");
  EXPECT_TRUE(eventually([&] { return grpcCount("Unary", "0") == 1; })) << proxy_->metrics();
  EXPECT_EQ(grpcCount("Unavailable", "14"), 1);
  // te: trailers reaches the upstream (gRPC servers require it); the body went through.
  EXPECT_NE(up_.received().find("te: trailers\r\n"), std::string::npos) << up_.received();
  EXPECT_NE(up_.received().find(grpcFrame("hi")), std::string::npos);
}

TEST_F(GrpcTest, NoRouteIsUnimplementedAndPlainRequestsStayHttp) {
  start();
  HttpResponse r = call("/other.Svc/Method");
  expectGrpcError(r, "12");
  EXPECT_EQ(r.header("grpc-message"), "no route");
  // The same reply to a request that is not gRPC keeps its HTTP form.
  HttpResponse plain = proxy_->get("/other");
  EXPECT_EQ(plain.status, 404);
  EXPECT_EQ(plain.body, "no route\n");
  EXPECT_FALSE(plain.has("grpc-status"));
}

TEST_F(GrpcTest, AuthWithoutCredentialsIsUnauthenticated) {
  start();
  HttpResponse r = call("/pkg.Secure/Get");
  expectGrpcError(r, "16");
  EXPECT_FALSE(r.header("grpc-message").empty());
  expectGrpcError(call("/pkg.Secure/Get", {{"x-api-key", "wrong"}}), "16");
  EXPECT_EQ(up_.calls(), 0);
}

TEST_F(GrpcTest, RateLimitIsResourceExhausted) {
  start();
  EXPECT_EQ(call("/pkg.Limited/Get").trailers["grpc-status"], "0");
  HttpResponse r = call("/pkg.Limited/Get");
  expectGrpcError(r, "8");
  EXPECT_EQ(r.header("grpc-message"), "rate limit exceeded");
  EXPECT_FALSE(r.header("retry-after").empty());  // the filter's other headers are kept
}

TEST_F(GrpcTest, GrpcTimeoutEndsTheCallWithDeadlineExceeded) {
  start();
  auto begin = std::chrono::steady_clock::now();
  HttpResponse r = call("/pkg.Echo/Slow", {{"grpc-timeout", "300m"}});
  auto took = std::chrono::steady_clock::now() - begin;
  expectGrpcError(r, "4");
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(900));  // the upstream answers after 1 s
  EXPECT_TRUE(eventually([&] { return grpcCount("Slow", "4") == 1; })) << proxy_->metrics();
}

TEST_F(GrpcTest, RetriesOnUnavailableWithTheBody) {
  start();
  HttpResponse r = call("/pkg.Echo/Flaky");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.trailers["grpc-status"], "0");
  EXPECT_EQ(r.body, grpcFrame("echo"));
  EXPECT_EQ(up_.calls(), 2);
  // The retry carried the request body again.
  EXPECT_TRUE(eventually([&] {
    std::string all = up_.received();
    size_t first = all.find(grpcFrame("hi"));
    return first != std::string::npos && all.find(grpcFrame("hi"), first + 1) != std::string::npos;
  }));
  // Without a retry policy for the path, UNAVAILABLE goes to the client as it is.
  EXPECT_EQ(call("/pkg.Echo/Unavailable").header("grpc-status"), "14");
}

TEST_F(GrpcTest, BreakerCountsGrpcFailuresAndRefusesWithUnavailable) {
  json breaker = {{"consecutive_failures", 2},
                  {"failure_ratio", 0},
                  {"cool_down", "30s"},
                  {"half_open_probes", 1}};
  start({{"max_active_requests", 100}, {"breaker", breaker}});
  // HTTP 200 both times, but grpc-status 14: failures for the breaker.
  EXPECT_EQ(call("/pkg.Echo/Unavailable").status, 200);
  EXPECT_EQ(call("/pkg.Echo/Unavailable").status, 200);
  HttpResponse r = call("/pkg.Echo/Unary");
  expectGrpcError(r, "14");
  EXPECT_EQ(r.header("grpc-message"), "circuit open");
  EXPECT_EQ(r.header("x-remora-overloaded"), "true");
  EXPECT_EQ(up_.calls(), 2);
}

// Without filters (the listener's built-in routes), with listeners[].timeouts.grpc_max capping a
// generous grpc-timeout.
TEST(GrpcListenerTest, GrpcMaxCapsTheClientsTimeout) {
  GrpcUpstream up;
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {up.address()};
  spec.listener_yaml = "timeouts: { grpc_max: 300ms }\n";
  ProxyUnderTest proxy(spec);
  Headers h = {{"content-type", "application/grpc+proto"},
               {"te", "trailers"},
               {"transfer-encoding", "chunked"},
               {"grpc-timeout", "10S"},
               {"connection", "close"}};
  HttpClient client(proxy.port());
  auto begin = std::chrono::steady_clock::now();
  HttpResponse r = client.request("POST", "/pkg.Echo/Slow", h, chunked(grpcFrame("hi")));
  auto took = std::chrono::steady_clock::now() - begin;
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("grpc-status"), "4");
  EXPECT_EQ(r.header("grpc-message"), "upstream request timeout");
  EXPECT_LT(took, std::chrono::milliseconds(900));
  // Without grpc-timeout, grpc_max sets no deadline: the slow call completes.
  Headers plain(h.begin(), h.begin() + 3);
  plain.emplace_back("connection", "close");
  HttpClient second(proxy.port());
  HttpResponse ok = second.request("POST", "/pkg.Echo/Slow", plain, chunked(grpcFrame("hi")));
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.trailers["grpc-status"], "0");
}

}  // namespace
}  // namespace remora::test
