// The headers filter through the real plugin (build/filters/headers.so) and the test host.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/filter_test_host.h"

namespace remora::test {
namespace {

class HeadersFilter : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(host_.ok()) << host_.error(); }

  std::string reject(const std::string& json) {
    std::string error;
    EXPECT_EQ(host_.newConfig(json, &error), nullptr) << json;
    return error;
  }

  FilterTestHost host_{FilterTestHost::pluginPath("headers")};
};

TEST_F(HeadersFilter, DescriptorNamesTheFilter) {
  EXPECT_STREQ(host_.descriptor().name, "headers");
  EXPECT_EQ(host_.descriptor().on_request_body, nullptr);
  EXPECT_EQ(host_.descriptor().on_log, nullptr);
}

TEST_F(HeadersFilter, RequestRemoveSetAddInThatOrder) {
  auto config = host_.newConfig(R"({"request": {
      "remove": ["x-internal", "x-dup"],
      "set": {"x-env": "prod", "X-Dup": "set"},
      "add": {"via": "remora", "x-tag": ["a", "b"], "x-dup": "added"}}})");
  ASSERT_NE(config, nullptr);
  auto s = host_.newStream(*config);
  s->request_headers.add("X-Internal", "secret");
  s->request_headers.add("x-env", "dev");
  s->request_headers.add("x-env", "test");
  s->request_headers.add("x-dup", "old");
  s->request_headers.add("via", "1.1 lb");
  EXPECT_EQ(s->requestHeaders(), REMORA_CONTINUE);
  EXPECT_FALSE(s->request_headers.has("x-internal"));
  EXPECT_EQ(s->request_headers.getAll("x-env"), std::vector<std::string>{"prod"});
  EXPECT_EQ(s->request_headers.getAll("via"), (std::vector<std::string>{"1.1 lb", "remora"}));
  EXPECT_EQ(s->request_headers.getAll("x-tag"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s->request_headers.getAll("x-dup"), (std::vector<std::string>{"set", "added"}));
  // Response headers are untouched by request mutations.
  EXPECT_EQ(s->respond(200, {{"server", "app"}}), REMORA_CONTINUE);
  EXPECT_EQ(s->response_headers.get("server"), "app");
}

TEST_F(HeadersFilter, ResponseMutations) {
  auto config = host_.newConfig(R"({"response": {
      "remove": ["server"], "set": {"cache-control": "no-store"}, "add": {"x-served-by": "remora"}}})");
  ASSERT_NE(config, nullptr);
  auto s = host_.newStream(*config);
  s->request_headers.add("server", "client-sent");
  EXPECT_EQ(s->requestHeaders(), REMORA_CONTINUE);
  EXPECT_EQ(s->request_headers.get("server"), "client-sent");
  EXPECT_EQ(s->respond(200, {{"Server", "nginx"}, {"cache-control", "max-age=60"}}),
            REMORA_CONTINUE);
  EXPECT_FALSE(s->response_headers.has("server"));
  EXPECT_EQ(s->response_headers.getAll("cache-control"), std::vector<std::string>{"no-store"});
  EXPECT_EQ(s->response_headers.get("x-served-by"), "remora");
}

TEST_F(HeadersFilter, EmptyConfigChangesNothing) {
  auto config = host_.newConfig("{}");
  ASSERT_NE(config, nullptr);
  auto s = host_.newStream(*config);
  s->request_headers.add("a", "1");
  EXPECT_EQ(s->requestHeaders(), REMORA_CONTINUE);
  EXPECT_EQ(s->respond(200), REMORA_CONTINUE);
  EXPECT_EQ(s->request_headers.size(), 1u);
  EXPECT_EQ(s->response_headers.size(), 0u);
}

TEST_F(HeadersFilter, RejectionsNameTheField) {
  EXPECT_EQ(reject(R"({"requests": {}})"), "requests: unknown field");
  EXPECT_EQ(reject(R"({"request": {"append": {}}})"), "request.append: unknown field");
  EXPECT_EQ(reject(R"({"request": []})"), "request: must be an object, got []");
  EXPECT_EQ(reject(R"({"request": {"set": {"bad name": "v"}}})"),
            "request.set.bad name: invalid header name 'bad name'");
  EXPECT_EQ(reject(R"({"response": {"remove": ["ok", 7]}})"),
            "response.remove[1]: must be a header name, got 7");
  EXPECT_EQ(reject(R"({"response": {"remove": "server"}})"),
            "response.remove: must be a list of header names, got \"server\"");
  EXPECT_EQ(reject(R"({"request": {"set": {"x": ["a"]}}})"),
            "request.set.x: must be a string, got [\"a\"]");
  EXPECT_EQ(reject(R"({"request": {"add": {"x": 1}}})"),
            "request.add.x: must be a string or a list of strings, got 1");
  EXPECT_EQ(reject(R"({"request": {"add": {"x": "a\r\nInjected: 1"}}})"),
            "request.add.x: header values must not contain CR, LF or NUL");
  EXPECT_EQ(reject(R"({"request": {"set": {"Content-Length": "0"}}})"),
            "request.set.Content-Length: 'Content-Length' is managed by the proxy");
  EXPECT_EQ(reject(R"({"response": {"remove": ["transfer-encoding"]}})"),
            "response.remove[0]: 'transfer-encoding' is managed by the proxy");
  EXPECT_EQ(reject(R"({"request": {"set": {"": "v"}}})"),
            "request.set.: a header name must not be empty");
}

}  // namespace
}  // namespace remora::test
