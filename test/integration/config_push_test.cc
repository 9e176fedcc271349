// PUT /config and its neighbours through the real binary: a push applies and reports its
// version, every kind of invalid change is refused with its exact field path while traffic
// carries on untouched, If-Match guards against lost updates, history and rollback, and a push
// closes no idle keep-alive connection and cuts no stream in flight.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "common/config_push.h"
#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using json = nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;

class ConfigPushTest : public ::testing::Test {
 protected:
  ConfigPushTest() {
    plugins_.addFilter("router");
    plugins_.addFilter("rate_limit");
    proxy_ = std::make_unique<FilterProxy>(plugins_, chain("app"), clusters(), 2);
  }

  static json routeTo(const std::string& cluster) {
    return {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", cluster}}}}};
  }
  static std::vector<FilterSpec> chain(const std::string& cluster) {
    return {{"router", routeTo(cluster)}};
  }
  std::vector<ClusterSpec> clusters() const {
    return {{"app", {alpha_.address()}, ""}, {"other", {beta_.address()}, ""}};
  }
  std::string config(const std::vector<FilterSpec>& c) const {
    return proxy_->config(c, clusters());
  }
  std::string servedBy() const { return proxy_->get("/").header("x-upstream"); }
  uint16_t admin() const { return proxy_->adminPort(); }      // observe: reads
  uint16_t control() const { return proxy_->controlPort(); }  // changes

  PluginDir plugins_;
  DemoUpstream alpha_{"alpha"};
  DemoUpstream beta_{"beta"};
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(ConfigPushTest, PushAppliesAndReportsItsVersion) {
  EXPECT_EQ(servedBy(), "alpha");
  HttpResponse r = putConfig(control(), config(chain("other")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(bodyJson(r)["version"], 2);
  EXPECT_EQ(r.header("etag"), "\"2\"");
  EXPECT_EQ(servedBy(), "beta");  // applied on every worker before the reply

  HttpResponse get = adminGet(admin(), "/config");
  EXPECT_EQ(get.header("etag"), "\"2\"");
  const std::string metrics = proxy_->metrics();
  EXPECT_EQ(findMetric(metrics, "remora_config_version"), 2);
  EXPECT_EQ(findMetric(metrics, "remora_config_applies_total",
                       {{"source", "admin"}, {"result", "applied"}}),
            1);
  EXPECT_EQ(findMetric(metrics, "remora_config_apply_duration_seconds_count"), 2);
}

TEST_F(ConfigPushTest, JsonBodyIsAccepted) {
  // The YAML as JSON: the same document, flow style, sent as application/json.
  const json doc = {{"workers", 2},
                    {"drain", {{"grace_period", "0s"}, {"deadline", "5s"}}},
                    {"admin", {{"address", "127.0.0.1:" + std::to_string(admin())}}},
                    {"plugins", {{"dir", plugins_.path()}, {"cache_dir", plugins_.cacheDir()}}},
                    {"listeners",
                     {{{"name", "ingress"},
                       {"address", "127.0.0.1:" + std::to_string(proxy_->port())},
                       {"filters", {{{"name", "router"}, {"config", routeTo("other")}}}}}}},
                    {"clusters",
                     {{{"name", "app"}, {"endpoints", {alpha_.address()}}},
                      {{"name", "other"}, {"endpoints", {beta_.address()}}}}}};
  HttpResponse r = putConfig(control(), doc.dump(), {{"content-type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(servedBy(), "beta");
  // JSON's own syntax errors, not YAML's reading of them.
  HttpResponse bad =
      putConfig(control(), "{\"workers\": 1,}", {{"content-type", "application/json"}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_THAT(bad.body, HasSubstr("invalid JSON"));
}

TEST_F(ConfigPushTest, WhatGetConfigShowsPushesBackUnchanged) {
  for (const std::string format : {"json", "yaml"}) {
    SCOPED_TRACE(format);
    HttpResponse get = adminGet(admin(), "/config?format=" + format);
    ASSERT_EQ(get.status, 200);
    HttpResponse put = putConfig(control(), get.body, {{"content-type", "application/" + format}});
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(adminGet(admin(), "/config?format=" + format).body, get.body);
  }
  EXPECT_EQ(servedBy(), "alpha");
  EXPECT_EQ(configVersion(admin()), 3u);
}

struct BadChange {
  const char* name;
  std::string yaml;
  std::string error;  // one of the reported "path: message" lines, exactly
};

TEST_F(ConfigPushTest, EveryInvalidKindIsRefusedWithItsExactPath) {
  std::vector<FilterSpec> bad_regex = {
      {"router", {{"routes", {{{"match", {{"regex", "("}}}, {"cluster", "app"}}}}}}};
  std::vector<FilterSpec> bad_rate = {{"rate_limit", {{"rules", {{{"prefix", "/"}, {"rate", 0}}}}}},
                                      {"router", routeTo("app")}};
  std::vector<FilterSpec> unknown_plugin = {{"nope", json::object()}, {"router", routeTo("app")}};
  std::string missing_cluster = basicConfig(proxy_->port(), admin(), {alpha_.address()}, "", "");
  missing_cluster.replace(missing_cluster.find("cluster: app }"), 14, "cluster: nope }");
  const std::vector<BadChange> cases = {
      {"bad yaml", "listeners: [\n  - name: x\n", "config:2:3: illegal block entry"},
      {"unknown field", "bogus: 1\n" + config(chain("other")), "bogus: unknown field"},
      {"bad regex", config(bad_regex),
       "listeners[0].filters[0].config.routes[0].match.regex: invalid regex \"(\": missing )"},
      {"missing cluster", missing_cluster,
       "listeners[0].routes[0].cluster: unknown cluster \"nope\""},
      {"plugin rejects", config(bad_rate),
       "listeners[0].filters[0].config.rules[0].rate: must be a number > 0, got 0"},
      {"unknown plugin", config(unknown_plugin),
       "listeners[0].filters[0].name: unknown plugin \"nope\" (loaded: rate_limit, router)"},
  };
  for (const BadChange& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResponse r = putConfig(control(), c.yaml);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_THAT(errorLines(r), Contains(c.error)) << r.body;
    EXPECT_EQ(bodyJson(r)["version"], 1);
    EXPECT_EQ(servedBy(), "alpha");
    const json history = bodyJson(adminGet(admin(), "/config/history"));
    EXPECT_EQ(history["version"], 1);
    EXPECT_EQ(history["last_rejected"]["source"], "admin");
  }
  EXPECT_EQ(findMetric(proxy_->metrics(), "remora_config_applies_total",
                       {{"source", "admin"}, {"result", "rejected"}}),
            static_cast<double>(cases.size()));
  EXPECT_THAT(proxy_->remora().output(), HasSubstr("config change from admin refused"));
}

TEST_F(ConfigPushTest, EveryErrorOfOneChangeIsReported) {
  std::string yaml = "bogus: 1\n" + config(chain("app"));
  yaml.replace(yaml.find("endpoints: [") + 12, 0, "nowhere, ");
  HttpResponse r = putConfig(control(), yaml);
  ASSERT_EQ(r.status, 400) << r.body;
  const auto lines = errorLines(r);
  EXPECT_THAT(lines, Contains("bogus: unknown field"));
  EXPECT_THAT(lines, Contains("clusters[0].endpoints[0]: expected host:port, got \"nowhere\""));
}

TEST_F(ConfigPushTest, StaleIfMatchIs412) {
  ASSERT_EQ(putConfig(control(), config(chain("other")), {{"if-match", "\"1\""}}).status, 200);
  HttpResponse stale = putConfig(control(), config(chain("app")), {{"if-match", "\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(bodyJson(stale)["version"], 2);
  EXPECT_EQ(servedBy(), "beta");
  EXPECT_EQ(putConfig(control(), config(chain("app")), {{"if-match", "2"}}).status, 200);
  EXPECT_EQ(servedBy(), "alpha");
  EXPECT_EQ(putConfig(control(), config(chain("app")), {{"if-match", "two"}}).status, 400);
}

TEST_F(ConfigPushTest, HistoryAndRollback) {
  ASSERT_EQ(putConfig(control(), config(chain("other"))).status, 200);  // v2
  HttpResponse back = adminPost(control(), "/config/rollback");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(bodyJson(back)["version"], 3);  // a rollback is a new version
  EXPECT_EQ(servedBy(), "alpha");
  HttpResponse to2 = adminPost(control(), "/config/rollback?version=2");
  ASSERT_EQ(to2.status, 200) << to2.body;
  EXPECT_EQ(servedBy(), "beta");
  EXPECT_EQ(adminPost(control(), "/config/rollback?version=99").status, 400);

  const json history = bodyJson(adminGet(admin(), "/config/history"));
  ASSERT_EQ(history["history"].size(), 4u) << history.dump();
  std::vector<std::string> sources;
  for (const auto& h : history["history"]) sources.push_back(h["source"]);
  EXPECT_EQ(sources, (std::vector<std::string>{"startup", "admin", "rollback", "rollback"}));
  EXPECT_EQ(history["version"], 4);
  EXPECT_EQ(history["last_rejected"]["errors"][0]["message"], "version 99 is not in the history");
}

TEST_F(ConfigPushTest, IdleKeepAliveConnectionSurvivesPush) {
  HttpClient client(proxy_->port());
  HttpResponse first = client.request("GET", "/");
  ASSERT_TRUE(first.ok()) << first.error;
  // Same listener, same clusters; only the chain's routes change.
  std::vector<FilterSpec> more = {{"router",
                                   {{"routes",
                                     {{{"match", {{"prefix", "/other"}}}, {"cluster", "other"}},
                                      {{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}}}};
  ASSERT_EQ(putConfig(control(), config(more)).status, 200);
  EXPECT_FALSE(client.closedByPeer(std::chrono::milliseconds(300)));
  HttpResponse second = client.request("GET", "/other");
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(second.header("x-upstream"), "beta");  // the same connection, the new snapshot
}

TEST_F(ConfigPushTest, StreamInFlightFinishesOnItsSnapshot) {
  HttpClient slow(proxy_->port());
  ASSERT_TRUE(slow.send(requestText("GET", "/slow/800")));
  // The request has reached alpha (and picked its route) before the push.
  UpstreamStats stats(alpha_.port());
  ASSERT_TRUE(waitUntil([&] { return stats.read().requests >= 1; }, std::chrono::seconds(5)));
  ASSERT_EQ(putConfig(control(), config(chain("other"))).status, 200);
  EXPECT_EQ(servedBy(), "beta");
  HttpResponse r = slow.readResponse();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello from alpha\n");
}

TEST_F(ConfigPushTest, LoggingLevelAndDrain) {
  EXPECT_EQ(bodyJson(adminGet(admin(), "/logging"))["level"], "info");
  EXPECT_EQ(bodyJson(adminPost(control(), "/logging?level=debug"))["level"], "debug");
  EXPECT_EQ(adminPost(control(), "/logging?level=loud").status, 400);
  EXPECT_EQ(adminGet(control(), "/config/rollback").status, 405);

  // With no grace period the drain ends at once: /ready fails, then the process exits 0.
  EXPECT_EQ(adminPost(control(), "/drain").status, 200);
  auto exit = proxy_->remora().process().waitExit(std::chrono::seconds(10));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exitedWith(0));
  EXPECT_THAT(proxy_->remora().output(), HasSubstr("draining: /ready now fails"));
}

}  // namespace
}  // namespace remora::test
