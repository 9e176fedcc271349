// The headers plugin (build/filters/headers.so) in the real binary: request mutations as the
// upstream received them (demo upstream /headers), response mutations as the client sees them.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

// The lines of /headers output, lower-cased ("name: value" per header, the request line first).
std::vector<std::string> headerLines(const std::string& body) {
  std::string lowered = body;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::vector<std::string> lines;
  std::istringstream in(lowered);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

size_t countLines(const std::vector<std::string>& lines, const std::string& line) {
  return static_cast<size_t>(std::count(lines.begin(), lines.end(), line));
}

size_t countNamed(const std::vector<std::string>& lines, const std::string& name) {
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.rfind(name + ":", 0) == 0;
  }));
}

class HeadersTest : public ::testing::Test {
 protected:
  HeadersTest() {
    plugins_.addFilter("headers");
    plugins_.addFilter("router");
  }

  PluginDir plugins_;
  DemoUpstream alpha_{"alpha"};
  DemoUpstream beta_{"beta"};
};

TEST_F(HeadersTest, RequestAndResponseMutations) {
  json headers = {{"request",
                   {{"remove", {"x-internal-token", "x-dup"}},
                    {"set", {{"x-env", "prod"}, {"x-overwrite", "new"}}},
                    {"add", {{"via", "1.1 remora"}, {"x-tag", {"a", "b"}}, {"x-dup", "mine"}}}}},
                  {"response",
                   {{"remove", {"x-upstream"}},
                    {"set", {{"strict-transport-security", "max-age=31536000"}}},
                    {"add", {{"x-served-by", "remora"}}}}}};
  json router = {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
  FilterProxy proxy(plugins_, {{"headers", headers}, {"router", router}},
                    {{"app", {alpha_.address()}, ""}});

  HttpResponse r = proxy.get("/headers", {{"X-Internal-Token", "secret"},
                                          {"x-overwrite", "old-1"},
                                          {"x-overwrite", "old-2"},
                                          {"x-tag", "client"},
                                          {"x-dup", "theirs"}});
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> seen = headerLines(r.body);
  EXPECT_EQ(countNamed(seen, "x-internal-token"), 0u) << r.body;
  EXPECT_EQ(countLines(seen, "x-env: prod"), 1u) << r.body;
  EXPECT_EQ(countNamed(seen, "x-overwrite"), 1u) << r.body;
  EXPECT_EQ(countLines(seen, "x-overwrite: new"), 1u) << r.body;
  EXPECT_EQ(countLines(seen, "via: 1.1 remora"), 1u) << r.body;
  // add keeps what the client sent and appends one header per value.
  EXPECT_EQ(countLines(seen, "x-tag: client"), 1u) << r.body;
  EXPECT_EQ(countLines(seen, "x-tag: a"), 1u) << r.body;
  EXPECT_EQ(countLines(seen, "x-tag: b"), 1u) << r.body;
  // remove runs before add: exactly the filter's value is left.
  EXPECT_EQ(countNamed(seen, "x-dup"), 1u) << r.body;
  EXPECT_EQ(countLines(seen, "x-dup: mine"), 1u) << r.body;

  EXPECT_FALSE(r.has("x-upstream"));
  EXPECT_EQ(r.header("strict-transport-security"), "max-age=31536000");
  EXPECT_EQ(r.header("x-served-by"), "remora");
}

TEST_F(HeadersTest, ARequestHeaderSetBeforeTheRouterSteersIt) {
  json headers = {{"request", {{"set", {{"x-tenant", "beta"}}}}}};
  json router = {
      {"routes",
       {{{"match", {{"prefix", "/"}, {"headers", {{{"name", "x-tenant"}, {"exact", "beta"}}}}}},
         {"cluster", "b"}},
        {{"match", {{"prefix", "/"}}}, {"cluster", "a"}}}}};
  FilterProxy proxy(plugins_, {{"headers", headers}, {"router", router}},
                    {{"a", {alpha_.address()}, ""}, {"b", {beta_.address()}, ""}});
  HttpResponse r = proxy.get("/", {{"x-tenant", "alpha"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-upstream"), "beta");
}

TEST_F(HeadersTest, AfterTheRouterItStillEditsTheRoutedRequest) {
  json router = {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
  json headers = {{"request", {{"set", {{"x-after-router", "yes"}}}}},
                  {"response", {{"set", {{"x-after-router", "yes"}}}}}};
  FilterProxy proxy(plugins_, {{"router", router}, {"headers", headers}},
                    {{"app", {alpha_.address()}, ""}});
  HttpResponse r = proxy.get("/headers");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(countLines(headerLines(r.body), "x-after-router: yes"), 1u) << r.body;
  EXPECT_EQ(r.header("x-after-router"), "yes");
}

}  // namespace
}  // namespace remora::test
