// ConfigService without workers: a fake applier stands in for the snapshot publisher, so these
// tests pin down versions, If-Match, history bounds, rollback, the error lists and metrics.

#include "kernel/config_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "stats/collector.h"

namespace remora {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string yaml(const std::string& cluster_port) {
  return "listeners:\n"
         "  - name: ingress\n"
         "    address: 127.0.0.1:8080\n"
         "    routes: [{ prefix: /, cluster: app }]\n"
         "clusters:\n"
         "  - name: app\n"
         "    endpoints: [127.0.0.1:" +
         cluster_port + "]\n";
}

class ConfigServiceTest : public ::testing::Test {
 protected:
  ConfigServiceTest()
      : service_(
            [this](std::shared_ptr<const config::Config> cfg, uint64_t version,
                   const std::string& source) -> ConfigStatus {
              applied_.push_back({version, source});
              if (!refuse_.empty()) return refuse_;
              last_ = std::move(cfg);
              return ConfigStatus();
            },
            registry_, 4) {}

  prometheus::Registry registry_;
  std::vector<std::pair<uint64_t, std::string>> applied_;
  FieldErrors refuse_;
  std::shared_ptr<const config::Config> last_;
  ConfigService service_;
};

TEST_F(ConfigServiceTest, VersionsGrowOnlyOnSuccess) {
  EXPECT_EQ(service_.version(), 0u);
  ApplyOutcome a = service_.submit(yaml("1"), ConfigFormat::kYaml, "startup");
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.version, 1u);
  ApplyOutcome bad = service_.submit("bogus: 1\n" + yaml("1"), ConfigFormat::kYaml, "admin");
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.version, 1u);
  refuse_ = {{"listeners[0].address", "127.0.0.1:0: bind: Address already in use"}};
  ApplyOutcome refused = service_.submit(yaml("2"), ConfigFormat::kYaml, "admin");
  EXPECT_FALSE(refused.ok);
  ASSERT_EQ(refused.errors.size(), 1u);
  EXPECT_EQ(refused.errors[0].path, "listeners[0].address");
  EXPECT_EQ(refused.errors[0].message, "127.0.0.1:0: bind: Address already in use");
  refuse_.clear();
  ApplyOutcome b = service_.submit(yaml("2"), ConfigFormat::kYaml, "admin");
  EXPECT_EQ(b.version, 2u);  // the refused attempt used no version
  EXPECT_EQ(service_.current()->clusters[0].endpoints[0].port, 2);
  ASSERT_TRUE(service_.lastRejected().has_value());
  EXPECT_EQ(service_.lastRejected()->source, "admin");
}

TEST_F(ConfigServiceTest, EveryLoaderErrorIsReported) {
  ApplyOutcome r =
      service_.submit("bogus: 1\nworkers: -1\n" + yaml("x"), ConfigFormat::kYaml, "admin");
  ASSERT_FALSE(r.ok);
  std::vector<std::string> lines;
  for (const auto& e : r.errors) lines.push_back(e.str());
  EXPECT_THAT(lines,
              ElementsAre("bogus: unknown field", "workers: expected an integer 0..256, got -1",
                          "clusters[0].endpoints[0]: expected a port 1..65535, got \"x\""));
  EXPECT_TRUE(applied_.empty());  // nothing reached the applier
}

TEST_F(ConfigServiceTest, ApplyErrorsAreKeptAsTheApplierListedThem) {
  // Messages holding ": " and newlines, and one error with no path: each stays one error, whole.
  refuse_ = {{"listeners[0].filters[1].config.rules[0].rate", "must be > 0: got -1\nand: more"},
             {"listeners[0].address", "127.0.0.1:80: bind: Address already in use"},
             {"", "workers: cannot change: restart"}};
  ApplyOutcome r = service_.submit(yaml("1"), ConfigFormat::kYaml, "admin");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.errors, refuse_);
  ASSERT_TRUE(service_.lastRejected().has_value());
  EXPECT_EQ(service_.lastRejected()->errors, refuse_);
}

TEST_F(ConfigServiceTest, DetectReadsJsonAsJsonAndAnythingElseAsYaml) {
  const std::string json =
      R"({"listeners": [{"name": "i", "address": "127.0.0.1:8080", "routes": [{"prefix": "/", "cluster": "app"}]}],
          "clusters": [{"name": "app", "endpoints": ["127.0.0.1:1"]}]})";
  EXPECT_TRUE(service_.submit(json, ConfigFormat::kDetect, "admin").ok);
  EXPECT_TRUE(service_.submit(yaml("2"), ConfigFormat::kDetect, "admin").ok);
  // A trailing comma is not JSON but is YAML: the YAML loader reads it.
  ApplyOutcome bad = service_.submit("{\"workers\": 1,}", ConfigFormat::kDetect, "admin");
  std::vector<std::string> lines;
  for (const auto& e : bad.errors) lines.push_back(e.str());
  EXPECT_THAT(lines, ElementsAre("listeners: expected at least one listener, got nothing",
                                 "clusters: expected at least one cluster, got nothing"));
}

TEST_F(ConfigServiceTest, JsonIsReadWithTheSameFieldPaths) {
  ApplyOutcome ok = service_.submit(
      R"({"listeners": [{"name": "i", "address": "127.0.0.1:8080", "routes": [{"prefix": "/", "cluster": "app"}]}],
          "clusters": [{"name": "app", "endpoints": ["127.0.0.1:1"]}]})",
      ConfigFormat::kJson, "admin");
  EXPECT_TRUE(ok.ok);
  ApplyOutcome bad = service_.submit(R"({"clusters": [{"name": "app", "endpoints": ["x"]}]})",
                                     ConfigFormat::kJson, "admin");
  std::vector<std::string> lines;
  for (const auto& e : bad.errors) lines.push_back(e.str());
  EXPECT_THAT(lines,
              ::testing::Contains("clusters[0].endpoints[0]: expected host:port, got \"x\""));
  ApplyOutcome syntax = service_.submit("{\"a\": }", ConfigFormat::kJson, "admin");
  ASSERT_EQ(syntax.errors.size(), 1u);
  EXPECT_THAT(syntax.errors[0].message, HasSubstr("invalid JSON"));
}

TEST_F(ConfigServiceTest, IfMatchRefusesStaleWritersWithoutApplying) {
  ASSERT_TRUE(service_.submit(yaml("1"), ConfigFormat::kYaml, "startup").ok);
  ApplyOutcome stale = service_.submit(yaml("2"), ConfigFormat::kYaml, "admin", 7);
  EXPECT_TRUE(stale.stale);
  EXPECT_FALSE(stale.ok);
  EXPECT_EQ(applied_.size(), 1u);
  EXPECT_TRUE(service_.submit(yaml("2"), ConfigFormat::kYaml, "admin", 1).ok);
}

TEST_F(ConfigServiceTest, HistoryIsBoundedAndRollbackIsANewVersion) {
  for (int i = 1; i <= 6; ++i)
    ASSERT_TRUE(service_.submit(yaml(std::to_string(i)), ConfigFormat::kYaml, "admin").ok);
  ASSERT_EQ(service_.history().size(), 4u);  // history_size 4
  EXPECT_EQ(service_.history().front().version, 3u);
  ApplyOutcome back = service_.rollback();
  ASSERT_TRUE(back.ok);
  EXPECT_EQ(back.version, 7u);
  EXPECT_EQ(service_.current()->clusters[0].endpoints[0].port, 5);  // version 5's config
  EXPECT_EQ(service_.history().back().source, "rollback");
  ApplyOutcome to4 = service_.rollback(4);  // history is now 4..7
  ASSERT_TRUE(to4.ok);
  EXPECT_EQ(service_.current()->clusters[0].endpoints[0].port, 4);
  ApplyOutcome gone = service_.rollback(1);
  EXPECT_FALSE(gone.ok);
  EXPECT_EQ(gone.errors[0].str(), "version: version 1 is not in the history");
}

TEST_F(ConfigServiceTest, ObserversSeeOutcomesAndNestedChangesAreRefused) {
  std::vector<bool> seen;
  ApplyOutcome nested;
  service_.observe([&](const ApplyOutcome& o) { seen.push_back(o.ok); });
  ASSERT_TRUE(service_.submit(yaml("1"), ConfigFormat::kYaml, "startup").ok);
  EXPECT_FALSE(service_.submit("x: [", ConfigFormat::kYaml, "file").ok);
  EXPECT_THAT(seen, ElementsAre(true, false));

  // An applier that submits again (a re-entrant source) is refused, not nested.
  prometheus::Registry registry;
  ConfigService* self = nullptr;
  ConfigService reentrant(
      [&](std::shared_ptr<const config::Config>, uint64_t, const std::string&) -> ConfigStatus {
        nested = self->submit(yaml("9"), ConfigFormat::kYaml, "admin");
        return ConfigStatus();
      },
      registry);
  self = &reentrant;
  EXPECT_TRUE(reentrant.submit(yaml("1"), ConfigFormat::kYaml, "startup").ok);
  EXPECT_FALSE(nested.ok);
  EXPECT_EQ(nested.errors[0].message, "another config change is being applied");
}

TEST_F(ConfigServiceTest, Metrics) {
  ASSERT_TRUE(service_.submit(yaml("1"), ConfigFormat::kYaml, "startup").ok);
  ASSERT_FALSE(service_.submit("bogus: 1", ConfigFormat::kYaml, "file").ok);
  const std::string text = stats::serialize(registry_);
  EXPECT_THAT(text, HasSubstr("remora_config_version 1"));
  EXPECT_THAT(text,
              HasSubstr("remora_config_applies_total{result=\"applied\",source=\"startup\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("remora_config_applies_total{result=\"rejected\",source=\"file\"} 1"));
  EXPECT_THAT(text, HasSubstr("remora_config_apply_duration_seconds_count 1"));
}

}  // namespace
}  // namespace remora
