// Plugin failure containment: the `faulty` test plugin (raw C ABI, test/plugins/faulty.c) in a
// chain with the real router. A hook that fails becomes a 500 for that stream and a metric; the
// proxy, the connection and every other stream carry on.

#include <gtest/gtest.h>

#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

class ContainmentTest : public ::testing::Test {
 protected:
  ContainmentTest() {
    plugins_.addTestPlugin("faulty");
    plugins_.addFilter("router");
    json router = {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
    proxy_ = std::make_unique<FilterProxy>(
        plugins_, std::vector<FilterSpec>{{"faulty", json::object()}, {"router", router}},
        std::vector<ClusterSpec>{{"app", {app_.address()}, ""}});
  }

  double errors() {
    return findMetric(proxy_->metrics(), "remora_filter_errors_total", {{"filter", "faulty"}})
        .value_or(-1);
  }

  PluginDir plugins_;
  DemoUpstream app_{"app"};
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(ContainmentTest, FailingHookIs500AndCounted) {
  EXPECT_EQ(errors(), 0);
  HttpResponse failed = proxy_->get("/", {{"x-fail", "1"}});
  ASSERT_TRUE(failed.ok()) << failed.error;
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, "filter faulty failed\n");
  EXPECT_FALSE(failed.has("x-upstream"));
  EXPECT_EQ(errors(), 1);
  EXPECT_EQ(proxy_->get("/", {{"x-fail", "again"}}).status, 500);
  EXPECT_EQ(errors(), 2);

  json plugins = adminJson(proxy_->adminPort(), "/plugins");
  for (const json& p : plugins["plugins"])
    if (p["name"] == "faulty") {
      EXPECT_EQ(p["errors"], 2) << p.dump();
    }
}

TEST_F(ContainmentTest, FilterCanReplyItself) {
  HttpResponse r = proxy_->get("/", {{"x-reply", "1"}});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "faulty replied\n");
  EXPECT_FALSE(r.has("x-upstream"));
  EXPECT_EQ(errors(), 0);
}

TEST_F(ContainmentTest, NormalRequestsPassWithTheFiltersHeader) {
  HttpResponse r = proxy_->get("/headers");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("x-faulty: seen"), std::string::npos) << r.body;
}

TEST_F(ContainmentTest, FailuresDoNotHurtTheConnectionOrTheProxy) {
  // One keep-alive connection mixing failing, replied and normal requests.
  HttpClient client(proxy_->port());
  ASSERT_TRUE(client.connected()) << client.error();
  for (int i = 0; i < 20; ++i) {
    HttpResponse fail = client.request("GET", "/", {{"x-fail", "1"}});
    ASSERT_TRUE(fail.ok()) << i << ": " << fail.error;
    EXPECT_EQ(fail.status, 500);
    HttpResponse reply = client.request("GET", "/", {{"x-reply", "1"}});
    EXPECT_EQ(reply.status, 202);
    HttpResponse ok = client.request("GET", "/headers");
    EXPECT_EQ(ok.status, 200);
    EXPECT_NE(ok.body.find("x-faulty: seen"), std::string::npos);
  }
  // A failing request with a body: answered 500 before the body was read, so that connection
  // closes (the unread bytes cannot be told from a next request), and the next one is served.
  HttpResponse with_body =
      proxy_->request("POST", "/echo", {{"x-fail", "1"}}, std::string(64 * 1024, 'b'));
  EXPECT_EQ(with_body.status, 500) << with_body.error;
  HttpResponse after = client.request("GET", "/");
  EXPECT_EQ(after.status, 200) << after.error;

  // Pipelined: requests answered by the filter and by the upstream, in one write.
  ASSERT_TRUE(client.send(
      requestText("GET", "/", {{"x-reply", "1"}}) + requestText("GET", "/headers") +
      requestText("GET", "/", {{"x-fail", "1"}}) + requestText("GET", "/", {{"x-reply", "1"}})));
  EXPECT_EQ(client.readResponse().status, 202);
  HttpResponse piped = client.readResponse();
  EXPECT_EQ(piped.status, 200) << piped.error;
  EXPECT_NE(piped.body.find("x-faulty: seen"), std::string::npos);
  EXPECT_EQ(client.readResponse().status, 500);
  EXPECT_EQ(client.readResponse().status, 202);
  EXPECT_EQ(client.request("GET", "/").status, 200);

  EXPECT_EQ(errors(), 22);
  EXPECT_TRUE(proxy_->remora().process().running());
  EXPECT_EQ(adminBody(proxy_->adminPort(), "/ready"), "ready\n");
}

}  // namespace
}  // namespace remora::test
