// The access_log plugin (build/filters/access_log.so) in the real binary: JSON and text lines
// written to files in a temp dir for proxied, failed and locally answered requests, and log
// rotation (rename the file, SIGUSR1, new lines go to a new file).

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

const json kRouter = {
    {"routes",
     {{{"name", "local"}, {"match", {{"path", "/local"}}}, {"direct_response", {{"status", 204}}}},
      {{"name", "status"}, {"match", {{"prefix", "/status/"}}}, {"cluster", "app"}},
      {{"name", "slow"}, {"match", {{"prefix", "/slow/"}}}, {"cluster", "app"}},
      {{"name", "app"}, {"match", {{"prefix", "/app/"}}}, {"cluster", "app"}}}}};

class AccessLogTest : public ::testing::Test {
 protected:
  AccessLogTest() {
    plugins_.addFilter("access_log");
    plugins_.addFilter("router");
  }

  // Waits until `path` holds at least `n` lines; returns what it holds then.
  std::vector<std::string> waitForLines(const std::string& path, size_t n) {
    std::vector<std::string> lines;
    eventually([&] {
      lines = readLines(path);
      return lines.size() >= n;
    });
    return lines;
  }

  PluginDir plugins_;
  DemoUpstream app_{"app"};
};

// The router decides on the normalized path, the upstream receives it, and the log keeps both.
TEST_F(AccessLogTest, TheLogKeepsTheTargetAsSentBesideTheNormalizedPath) {
  std::string log = plugins_.file("access.orig.log");
  FilterProxy proxy(
      plugins_,
      {{"access_log", {{"path", log}, {"text_format", "%REQ(:PATH)% %ORIGINAL_PATH%"}}},
       {"router", kRouter}},
      {{"app", {app_.address()}, ""}});
  EXPECT_EQ(proxy.get("/local/../app/x/%2e%2e/headers").status, 200);
  EXPECT_EQ(proxy.get("/app/plain").status, 200);
  std::vector<std::string> lines = waitForLines(log, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "/app/headers /local/../app/x/%2e%2e/headers");
  EXPECT_EQ(lines[1], "/app/plain /app/plain");
}

TEST_F(AccessLogTest, JsonLinesCarryStatusPathUpstreamRequestIdAndChain) {
  std::string log = plugins_.file("access.json.log");
  FilterProxy proxy(plugins_,
                    {{"access_log", {{"path", log}, {"format", "json"}}}, {"router", kRouter}},
                    {{"app", {app_.address()}, ""}});

  EXPECT_EQ(proxy.get("/app/hello?x=1", {{"x-request-id", "req-json-1"}}).status, 200);
  EXPECT_EQ(proxy.request("POST", "/app/count", {}, "twelve bytes").status, 200);
  EXPECT_EQ(proxy.get("/local").status, 204);
  EXPECT_EQ(proxy.get("/nowhere").status, 404);

  std::vector<std::string> lines = waitForLines(log, 4);
  ASSERT_EQ(lines.size(), 4u);
  std::vector<json> entries;
  for (const std::string& line : lines) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    entries.push_back(j);
  }
  // Streams finish in request order here: each request waited for its answer.
  const json& hello = entries[0];
  EXPECT_EQ(hello["method"], "GET");
  EXPECT_EQ(hello["path"], "/app/hello?x=1");
  EXPECT_EQ(hello["status"], 200);
  EXPECT_EQ(hello["upstream"], app_.address());
  EXPECT_EQ(hello["request_id"], "req-json-1");
  EXPECT_EQ(hello["chain"], "access_log,router");
  EXPECT_TRUE(hello["principal"].is_null());
  EXPECT_EQ(hello["flags"], "-");
  EXPECT_EQ(hello["bytes_out"], std::string("hello from app\n").size());

  const json& post = entries[1];
  EXPECT_EQ(post["method"], "POST");
  EXPECT_EQ(post["bytes_in"], 12);
  // The kernel gives a request without x-request-id one, before the chain runs.
  ASSERT_TRUE(post["request_id"].is_string()) << lines[1];
  EXPECT_FALSE(post["request_id"].get<std::string>().empty());

  const json& local = entries[2];
  EXPECT_EQ(local["status"], 204);
  EXPECT_TRUE(local["upstream"].is_null()) << lines[2];

  const json& none = entries[3];
  EXPECT_EQ(none["status"], 404);
  EXPECT_EQ(none["path"], "/nowhere");
  EXPECT_TRUE(none["upstream"].is_null()) << lines[3];
}

TEST_F(AccessLogTest, AClientLeavingMidRequestIsLoggedWithFlagDC) {
  std::string log = plugins_.file("access.json.log");
  FilterProxy proxy(plugins_,
                    {{"access_log", {{"path", log}, {"format", "json"}}}, {"router", kRouter}},
                    {{"app", {app_.address()}, ""}});
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.send(requestText("GET", "/slow/3000", {{"x-request-id", "gone"}})));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  client.close();
  std::vector<std::string> lines = waitForLines(log, 1);
  ASSERT_GE(lines.size(), 1u);
  json entry = json::parse(lines.back(), nullptr, false);
  EXPECT_EQ(entry["request_id"], "gone") << lines.back();
  EXPECT_EQ(entry["status"], 0) << lines.back();
  EXPECT_NE(entry["flags"].get<std::string>().find("DC"), std::string::npos) << lines.back();
}

// An HTTP/1 connection keeps one stream for all its requests: what one request set (a retry's
// flag, a gRPC status, request bytes, an upstream, a route's metadata) must not show in the line
// of the next, whatever the request before was.
TEST_F(AccessLogTest, EachRequestOfAKeptAliveConnectionIsLoggedOnItsOwn) {
  std::string log = plugins_.file("access.txt.log");
  std::string format =
      "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% "
      "%BYTES_SENT% %UPSTREAM_HOST% %DYNAMIC_METADATA(router.route)% "
      "%DYNAMIC_METADATA(remora.grpc_status)% %DYNAMIC_METADATA(remora.cluster)%";
  const json router = {{"routes",
                        {{{"name", "retried"},
                          {"match", {{"prefix", "/status/"}}},
                          {"cluster", "app"},
                          {"retry", {{"attempts", 1}, {"on", {"5xx"}}}}},
                         {{"name", "ws"}, {"match", {{"path", "/ws"}}}, {"cluster", "app"}},
                         {{"name", "app"}, {"match", {{"prefix", "/app/"}}}, {"cluster", "app"}}}}};
  FilterProxy proxy(plugins_,
                    {{"access_log", {{"path", log}, {"text_format", format}}}, {"router", router}},
                    {{"app", {app_.address()}, ""}});
  HttpClient client(proxy.port());
  ASSERT_TRUE(client.connected()) << client.error();
  auto send = [&](const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body, int status) {
    HttpResponse r = client.request(method, path, headers, body);
    ASSERT_TRUE(r.ok()) << method << " " << path << ": " << r.error;
    EXPECT_EQ(r.status, status) << method << " " << path;
    EXPECT_TRUE(r.keep_alive) << method << " " << path;
  };
  const std::string plain_line = "GET /app/plain 200 - 0 15 " + app_.address() + " app - app";
  // Each kind of request, then a plain one behind it on the same connection.
  send("GET", "/status/503", {}, "", 503);  // retried once (URX), then answered by the upstream
  send("GET", "/app/plain", {}, "", 200);
  send("POST", "/status/500", {{"content-type", "application/grpc"}}, "12345", 500);  // gRPC
  send("GET", "/app/plain", {}, "", 200);
  send("GET", "/ws", {{"connection", "upgrade"}, {"upgrade", "other"}}, "", 426);  // not switched
  send("GET", "/app/plain", {}, "", 200);
  send("GET", "/nowhere", {}, "", 404);  // answered by the router, no upstream
  send("GET", "/app/plain", {}, "", 200);

  std::vector<std::string> lines = waitForLines(log, 8);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "GET /status/503 503 URX 0 11 " + app_.address() + " retried - app");
  EXPECT_EQ(lines[2], "POST /status/500 500 - 5 11 " + app_.address() + " retried 2 app");
  EXPECT_EQ(lines[4], "GET /ws 426 - 0 27 " + app_.address() + " ws - app");
  EXPECT_EQ(lines[6], "GET /nowhere 404 LR 0 9 - - - -");
  for (size_t i = 1; i < lines.size(); i += 2) EXPECT_EQ(lines[i], plain_line) << "line " << i;
}

TEST_F(AccessLogTest, TextFormatLinesAndTwoLoggersInOneChain) {
  std::string text_log = plugins_.file("access.txt.log");
  std::string json_log = plugins_.file("access.json.log");
  std::string format =
      "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %UPSTREAM_HOST% %REQ_ID% "
      "%DYNAMIC_METADATA(remora.chain)% %DYNAMIC_METADATA(router.route)% \"%REQ(X-MISSING)%\"";
  FilterProxy proxy(plugins_,
                    {{"access_log", {{"path", text_log}, {"text_format", format}}},
                     {"access_log", {{"path", json_log}, {"format", "json"}}},
                     {"router", kRouter}},
                    {{"app", {app_.address()}, ""}});

  EXPECT_EQ(proxy.get("/status/503", {{"x-request-id", "req-text-1"}}).status, 503);
  EXPECT_EQ(proxy.get("/local", {{"x-request-id", "req-text-2"}}).status, 204);

  std::vector<std::string> lines = waitForLines(text_log, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "GET /status/503 503 " + app_.address() +
                          " req-text-1 access_log,access_log,router status \"-\"");
  EXPECT_EQ(lines[1], "GET /local 204 - req-text-2 access_log,access_log,router local \"-\"");
  EXPECT_EQ(waitForLines(json_log, 2).size(), 2u);
}

TEST_F(AccessLogTest, Sigusr1ReopensARenamedFile) {
  std::string log = plugins_.file("access.log");
  std::string rotated = plugins_.file("access.log.1");
  FilterProxy proxy(plugins_,
                    {{"access_log", {{"path", log}, {"format", "json"}}}, {"router", kRouter}},
                    {{"app", {app_.address()}, ""}});

  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(proxy.get("/app/", {{"x-request-id", "before-" + std::to_string(i)}}).status, 200);
  ASSERT_EQ(waitForLines(log, 3).size(), 3u);

  ASSERT_EQ(std::rename(log.c_str(), rotated.c_str()), 0);
  proxy.remora().process().kill(SIGUSR1);

  // The signal is handled asynchronously: keep sending until a line lands in a new file.
  int sent = 0;
  bool reopened = eventually(
      [&] {
        proxy.get("/app/", {{"x-request-id", "after-" + std::to_string(sent++)}});
        return !readLines(log).empty();
      },
      std::chrono::seconds(5));
  ASSERT_TRUE(reopened) << "no new file after SIGUSR1\n" << proxy.remora().output();
  // From now on every line goes to the new file.
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(proxy.get("/app/", {{"x-request-id", "late-" + std::to_string(i)}}).status, 200);

  std::vector<std::string> fresh;
  ASSERT_TRUE(eventually([&] {
    fresh = readLines(log);
    return fresh.size() >= 5 && fresh.back().find("late-4") != std::string::npos;
  })) << fresh.size();
  std::vector<std::string> old = readLines(rotated);
  ASSERT_GE(old.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(old[i].find("\"before-" + std::to_string(i) + "\""), std::string::npos) << old[i];
  for (const std::string& line : old) EXPECT_EQ(line.find("late-"), std::string::npos) << line;
  EXPECT_EQ(old.size() + fresh.size(), 3u + sent + 5u);
  EXPECT_TRUE(proxy.remora().process().running());
}

}  // namespace
}  // namespace remora::test
