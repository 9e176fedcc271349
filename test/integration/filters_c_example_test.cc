// The pure-C example filter (test/plugins/c_example_filter.c, build/test/plugins/c_example.so)
// in the real binary, in front of the router: its response header and local reply as a client
// sees them, its host-table probe, its use of the response flags, and its config errors.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>

#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

json routeAllTo(const std::string& cluster) {
  return {{"routes", json::array({{{"match", {{"prefix", "/"}}}, {"cluster", cluster}}})}};
}

class CExampleTest : public ::testing::Test {
 protected:
  CExampleTest() {
    plugins_.addTestPlugin("c_example");
    plugins_.addFilter("router");
  }

  // `remora --validate` on a chain of the C filter with `config`; its exit code and output.
  std::pair<int, std::string> validate(const json& config) {
    std::string yaml = chainConfig(plugins_, freePort(), freePort(),
                                   {{"c_example", config}, {"router", routeAllTo("app")}},
                                   {{"app", {"127.0.0.1:1"}, ""}});
    std::string path = plugins_.file("remora.yaml");
    std::ofstream(path) << yaml;
    Process p({REMORA_BINARY, "--validate", "--config", path});
    auto status = p.waitExit(std::chrono::seconds(20));
    if (!status) return {-1, p.output()};
    return {status->exitedWith(0) ? 0 : 1, p.output()};
  }

  PluginDir plugins_;
};

TEST_F(CExampleTest, SetsItsHeaderOnProxiedResponsesAndAnswersItsPath) {
  DemoUpstream alpha("alpha");
  json c_example = {{"header", "x-made-in"},
                    {"value", "c99"},
                    {"reply_path", "/c-hello"},
                    {"reply_body", "hi from C\n"}};
  FilterProxy proxy(plugins_, {{"c_example", c_example}, {"router", routeAllTo("app")}},
                    {{"app", {alpha.address()}, ""}});

  HttpResponse proxied = proxy.get("/anything");
  ASSERT_TRUE(proxied.ok()) << proxied.error;
  EXPECT_EQ(proxied.status, 200);
  EXPECT_EQ(proxied.body, "hello from alpha\n");
  EXPECT_EQ(proxied.header("x-upstream"), "alpha");
  EXPECT_EQ(proxied.header("x-made-in"), "c99");
  // The kernel's host table has the ABI 1.1 calls, and REMORA_HOST_HAS saw them.
  EXPECT_EQ(proxied.header("x-c-example-limits"), "yes");

  // The configured path (whatever the query) never reaches the upstream.
  HttpResponse local = proxy.get("/c-hello?from=test");
  ASSERT_TRUE(local.ok()) << local.error;
  EXPECT_EQ(local.status, 200);
  EXPECT_EQ(local.body, "hi from C\n");
  EXPECT_EQ(local.header("content-type"), "text/plain");
  EXPECT_EQ(local.header("x-made-in"), "c99");
  EXPECT_FALSE(local.has("x-upstream"));
  EXPECT_NE(proxy.remora().output().find("c_example started; the host has upstream limits"),
            std::string::npos)
      << proxy.remora().output();
}

TEST_F(CExampleTest, DefaultsWithAnEmptyConfig) {
  DemoUpstream alpha("alpha");
  FilterProxy proxy(plugins_, {{"c_example", json::object()}, {"router", routeAllTo("app")}},
                    {{"app", {alpha.address()}, ""}});
  HttpResponse r = proxy.get("/c-hello");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello from alpha\n");  // no reply_path: nothing is answered locally
  EXPECT_EQ(r.header("x-c-example"), "c");
}

TEST_F(CExampleTest, LogsStreamsFlaggedWithoutAnUpstreamConnection) {
  // Nothing listens there: the kernel answers 503 with response flag UF.
  std::string dead = "127.0.0.1:" + std::to_string(freePort());
  FilterProxy proxy(plugins_, {{"c_example", json::object()}, {"router", routeAllTo("dead")}},
                    {{"dead", {dead}, ""}});
  HttpResponse r = proxy.get("/gone?x=1");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(eventually([&] {
    return proxy.remora().output().find("c_example: no upstream connection for /gone?x=1") !=
           std::string::npos;
  })) << proxy.remora().output();
}

TEST_F(CExampleTest, ConfigErrorsNameTheField) {
  auto [code, out] = validate({{"colour", "red"}});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("listeners[0].filters[0].config: colour: unknown field"), std::string::npos)
      << out;

  std::tie(code, out) = validate({{"header", 7}});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("listeners[0].filters[0].config: header: must be a string"), std::string::npos)
      << out;

  std::tie(code, out) = validate({{"reply_path", "c-hello"}});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("reply_path: must start with /"), std::string::npos) << out;

  std::tie(code, out) = validate({{"header", "x-ok"}, {"reply_path", "/ok"}});
  EXPECT_EQ(code, 0) << out;
}

}  // namespace
}  // namespace remora::test
