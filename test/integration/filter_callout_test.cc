// Filter callouts through the real binary, over HTTP/1.1 and HTTP/2 clusters. The callout_probe
// test plugin (test/plugins/callout_probe_filter.cc) turns each request into one callout and
// answers with what its callback saw; the endpoints are real servers: nghttpd and
// test/tools/h2_test_server.py (python3-h2) for HTTP/2, StubServer for HTTP/1.1.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/filter_env.h"
#include "common/h2_test_server.h"
#include "common/harness.h"
#include "common/stub_server.h"

namespace remora::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

class CalloutTest : public ::testing::Test {
 protected:
  CalloutTest() {
    plugins_.addTestPlugin("callout_probe");
    plugins_.addFilter("router");  // every chain needs one; the probe answers before it
  }

  // The probe calling cluster "svc" at `endpoint`, with `cluster_yaml` added to its keys.
  void start(const std::string& endpoint, const std::string& cluster_yaml) {
    proxy_ = std::make_unique<FilterProxy>(
        plugins_,
        std::vector<FilterSpec>{{"callout_probe", {{"cluster", "svc"}, {"timeout_ms", 2000}}},
                                {"router",
                                 {{"routes", nlohmann::json::array({{{"match", {{"prefix", "/"}}},
                                                                     {"cluster", "svc"}}})}}}},
        std::vector<ClusterSpec>{{"svc", {endpoint}, cluster_yaml}});
  }

  // What the probe's callback received for one callout: the client request's `headers` say
  // what to send (see the plugin's header comment).
  HttpResponse call(const std::string& path, Headers headers = {}) {
    HttpResponse r = proxy_->request("GET", path, std::move(headers));
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200) << r.body;
    return r;
  }

  PluginDir plugins_;
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(CalloutTest, Http2ClusterCarriesStatusHeadersAndBody) {
  H2TestServer server;
  start(server.address(), "protocol: http2\n");
  HttpResponse r = call("/echo", {{"x-callout-method", "POST"},
                                  {"x-callout-body", "hello, callout"},
                                  {"x-callout-header-x-probe", "42"},
                                  {"x-callout-header-connection", "keep-alive"}});
  EXPECT_EQ(r.header("x-callout-status"), "200");
  EXPECT_EQ(r.body, "hello, callout");
  // What the endpoint saw, echoed in its response headers.
  EXPECT_EQ(r.header("x-callout-h-x-seen-method"), "POST");
  EXPECT_EQ(r.header("x-callout-h-x-seen-path"), "/echo");
  EXPECT_EQ(r.header("x-callout-h-x-seen-authority"), "svc");  // the cluster's name
  EXPECT_EQ(r.header("x-callout-h-x-seen-scheme"), "http");
  EXPECT_EQ(r.header("x-callout-h-x-seen-x-probe"), "42");
  EXPECT_EQ(r.header("x-callout-h-x-seen-content-length"), "14");
  EXPECT_EQ(r.header("x-callout-h-x-seen-body-bytes"), "14");
  EXPECT_FALSE(r.has("x-callout-h-x-seen-connection"));  // hop-by-hop: never on HTTP/2
  // The proxy's own request: nothing is forwarded for a client.
  EXPECT_FALSE(r.has("x-callout-h-x-seen-x-forwarded-for"));
  EXPECT_FALSE(r.has("x-callout-h-x-seen-x-forwarded-proto"));

  // A body-less GET on the same HTTP/2 connection.
  HttpResponse get = call("/ok");
  EXPECT_EQ(get.header("x-callout-status"), "200");
  EXPECT_EQ(get.body, "ok\n");
  EXPECT_EQ(get.header("x-callout-h-x-seen-method"), "GET");
  EXPECT_EQ(get.header("x-callout-h-x-seen-content-length"), "0");
}

TEST_F(CalloutTest, NghttpdServesAFileToACallout) {
  TempDir docroot;
  writeFileAtomically(docroot.path() + "/policy.json", R"({"allow":true})");
  const uint16_t port = freePort();
  Process nghttpd({"/usr/sbin/nghttpd", "--no-tls", "-d", docroot.path(), std::to_string(port)});
  ASSERT_TRUE(waitUntil([&] { return HttpClient(port).connected(); }, seconds(5)));
  start("127.0.0.1:" + std::to_string(port), "protocol: http2\n");
  HttpResponse r = call("/policy.json");
  EXPECT_EQ(r.header("x-callout-status"), "200");
  EXPECT_EQ(r.body, R"({"allow":true})");
  EXPECT_EQ(r.header("x-callout-h-content-length"), "14");
  HttpResponse missing = call("/missing.json");
  EXPECT_EQ(missing.header("x-callout-status"), "404");
}

TEST_F(CalloutTest, GrpcCalloutSeesTheStatusFromTrailersAndFromATrailersOnlyAnswer) {
  H2TestServer server;
  start(server.address(), "protocol: http2\n");
  // A gRPC request: one length-prefixed message ("\0" + 4-byte length + "ping").
  const std::string frame = std::string("\0\0\0\0\4", 5) + "ping";
  Headers grpc = {{"x-callout-method", "POST"},
                  {"x-callout-grpc-message", "ping"},
                  {"x-callout-header-content-type", "application/grpc"},
                  {"x-callout-header-te", "trailers"}};
  Headers echo = grpc;
  echo.push_back({"x-callout-path", "/grpc"});
  HttpResponse ok = call("/anything", echo);
  EXPECT_EQ(ok.header("x-callout-status"), "200");
  EXPECT_EQ(ok.body, frame);
  EXPECT_EQ(ok.header("x-callout-h-content-type"), "application/grpc");
  EXPECT_EQ(ok.header("x-callout-h-x-seen-te"), "trailers");
  EXPECT_EQ(ok.header("x-callout-h-x-seen-content-type"), "application/grpc");
  // The trailers follow the response headers in the callback's list.
  EXPECT_EQ(ok.header("x-callout-h-grpc-status"), "0");
  EXPECT_EQ(ok.header("x-callout-h-grpc-message"), "echoed");

  Headers deny = grpc;
  deny.push_back({"x-callout-path", "/grpc-deny"});
  HttpResponse denied = call("/anything", deny);
  EXPECT_EQ(denied.header("x-callout-status"), "200");
  EXPECT_EQ(denied.body, "");
  EXPECT_EQ(denied.header("x-callout-h-grpc-status"), "7");
  EXPECT_EQ(denied.header("x-callout-h-grpc-message"), "denied");
}

TEST_F(CalloutTest, Http2EndpointDownFailsPromptly) {
  start("127.0.0.1:" + std::to_string(freePort()), "protocol: http2\nconnect_timeout: 300ms\n");
  const auto t0 = std::chrono::steady_clock::now();
  HttpResponse r = call("/check");
  EXPECT_EQ(r.header("x-callout-status"), "0");
  EXPECT_EQ(r.body, "upstream connect error");
  EXPECT_EQ(r.header("x-callout-count"), "0");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1500));
}

TEST_F(CalloutTest, ClientLeavingCancelsTheHttp2Stream) {
  H2TestServer server;
  start(server.address(), "protocol: http2\n");
  auto streams = [&] {
    nlohmann::json j = adminJson(proxy_->adminPort(), "/clusters");
    return j.is_object() ? j["clusters"][0]["endpoints"][0].value("streams_active", -1) : -1;
  };
  {
    HttpClient leaving(proxy_->port());
    ASSERT_TRUE(leaving.send(requestText("GET", "/x", {{"x-callout-path", "/slow/3000"}})));
    ASSERT_TRUE(eventually([&] { return streams() == 1; }));
  }  // the client closes here: the stream ends, its callout is cancelled (RST_STREAM)
  EXPECT_TRUE(eventually([&] { return streams() == 0; }, seconds(2)));
  HttpResponse r = call("/ok");
  EXPECT_EQ(r.header("x-callout-status"), "200");
  EXPECT_TRUE(proxy_->remora().process().running());
}

TEST_F(CalloutTest, Http1ClusterSendsTheSameRequestAsBefore) {
  StubServer svc([](const StubRequest& req) {
    return StubResponse{201, {{"x-answer", "yes"}}, "got " + req.body};
  });
  start(svc.address(), "");
  HttpResponse r = call("/check?x=1", {{"x-callout-method", "PUT"},
                                       {"x-callout-body", "abc"},
                                       {"x-callout-header-x-probe", "42"},
                                       {"x-callout-header-keep-alive", "timeout=5"},
                                       {"x-callout-header-content-length", "999"}});
  EXPECT_EQ(r.header("x-callout-status"), "201");
  EXPECT_EQ(r.header("x-callout-h-x-answer"), "yes");
  EXPECT_EQ(r.body, "got abc");
  ASSERT_EQ(svc.received().size(), 1u);
  StubRequest seen = svc.received().back();
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.target, "/check?x=1");
  EXPECT_EQ(seen.header("host"), "svc");
  EXPECT_EQ(seen.header("content-length"), "3");  // the kernel's, not the plugin's
  EXPECT_EQ(seen.header("x-probe"), "42");
  EXPECT_EQ(seen.body, "abc");
  EXPECT_FALSE(seen.headers.count("keep-alive"));
  EXPECT_FALSE(seen.headers.count("x-forwarded-for"));
  EXPECT_FALSE(seen.headers.count("x-forwarded-proto"));
  EXPECT_FALSE(seen.headers.count("transfer-encoding"));
  // A HEAD answer's content-length announces no body: the callout completes at once.
  const auto t0 = std::chrono::steady_clock::now();
  HttpResponse head = call("/check", {{"x-callout-method", "HEAD"}});
  EXPECT_EQ(head.header("x-callout-status"), "201");
  EXPECT_EQ(head.body, "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000));
  // An explicit Host is kept.
  call("/h", {{"x-callout-header-host", "authz.internal"}});
  EXPECT_EQ(svc.received().back().header("host"), "authz.internal");
}

TEST_F(CalloutTest, UnknownMethodDoesNotStart) {
  StubServer svc([](const StubRequest&) { return StubResponse{200, {}, ""}; });
  start(svc.address(), "");
  HttpResponse r = proxy_->request("GET", "/x", {{"x-callout-method", "get"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "callout not started\n");
  EXPECT_EQ(svc.requests(), 0u);
}

}  // namespace
}  // namespace remora::test
