// The watched config file through the real binary: a plain rewrite applies, an invalid write is
// refused and reported while the running config stays, the next good write applies, and a
// Kubernetes ConfigMap update (the atomic `..data` symlink swap) counts as a change.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/config_push.h"
#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class ConfigWatchTest : public ::testing::Test {
 protected:
  std::string yaml(const DemoUpstream& up, const std::string& extra = "") const {
    return extra + basicConfig(port_, admin_, {up.address()}, "", "", control_);
  }
  std::string servedBy() const {
    HttpClient client(port_);
    return client.request("GET", "/", {{"connection", "close"}}).header("x-upstream");
  }
  // Writes in place (truncate + write), as `cat > file` or a careless editor would.
  static void rewrite(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }
  bool eventuallyServedBy(const std::string& name) const {
    return waitUntil([&] { return servedBy() == name; }, std::chrono::seconds(5));
  }

  DemoUpstream alpha_{"alpha"};
  DemoUpstream beta_{"beta"};
  uint16_t port_ = freePort();
  uint16_t admin_ = freePort();
  uint16_t control_ = freePort();  // the same in every version, so equal texts stay equal
};

TEST_F(ConfigWatchTest, PlainRewriteApplies) {
  RemoraProcess remora(yaml(alpha_));
  EXPECT_EQ(servedBy(), "alpha");
  rewrite(remora.configPath(), yaml(beta_));
  ASSERT_TRUE(eventuallyServedBy("beta"));
  const json history = bodyJson(adminGet(admin_, "/config/history"));
  EXPECT_EQ(history["version"], 2);
  EXPECT_EQ(history["history"].back()["source"], "file");
  // Touching the file with the same content applies nothing.
  rewrite(remora.configPath(), yaml(beta_));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(configVersion(admin_), 2u);
}

TEST_F(ConfigWatchTest, InvalidWriteIsRefusedThenTheFixApplies) {
  RemoraProcess remora(yaml(alpha_));
  // Half a file, as a reader could see it mid-write.
  const std::string good = yaml(beta_);
  rewrite(remora.configPath(), good.substr(0, good.find("clusters:")) + "clusters:\n  - name: a");
  ASSERT_TRUE(waitUntil(
      [&] {
        return scrapeMetric(admin_, "remora_config_applies_total",
                            {"source=\"file\"", "result=\"rejected\""}) == 1;
      },
      std::chrono::seconds(5)));
  const json history = bodyJson(adminGet(admin_, "/config/history"));
  EXPECT_EQ(history["version"], 1);
  EXPECT_EQ(history["last_rejected"]["source"], "file");
  EXPECT_FALSE(history["last_rejected"]["errors"].empty());
  EXPECT_EQ(servedBy(), "alpha");
  EXPECT_TRUE(
      remora.process().waitForOutput("config change from file refused", std::chrono::seconds(2)));

  rewrite(remora.configPath(), good);
  ASSERT_TRUE(eventuallyServedBy("beta"));
  EXPECT_EQ(configVersion(admin_), 2u);
}

TEST_F(ConfigWatchTest, ConfigMapSymlinkSwap) {
  // The layout a ConfigMap volume has: config.yaml → ..data/config.yaml, ..data → ..<timestamp>.
  TempDir dir;
  const fs::path root = dir.path();
  fs::create_directory(root / "..2026_11_25_a");
  rewrite((root / "..2026_11_25_a" / "config.yaml").string(), yaml(alpha_));
  fs::create_directory_symlink("..2026_11_25_a", root / "..data");
  fs::create_symlink("..data/config.yaml", root / "config.yaml");
  RemoraOptions options;
  options.extra_args = {"--config", (root / "config.yaml").string()};  // the last --config wins
  RemoraProcess remora(yaml(alpha_), options);
  EXPECT_EQ(servedBy(), "alpha");

  // The kubelet's update: a new timestamped dir, a new symlink renamed over ..data, old dir gone.
  fs::create_directory(root / "..2026_11_25_b");
  rewrite((root / "..2026_11_25_b" / "config.yaml").string(), yaml(beta_));
  fs::create_directory_symlink("..2026_11_25_b", root / "..data_tmp");
  fs::rename(root / "..data_tmp", root / "..data");
  fs::remove_all(root / "..2026_11_25_a");
  ASSERT_TRUE(eventuallyServedBy("beta"));
  EXPECT_EQ(configVersion(admin_), 2u);
}

TEST_F(ConfigWatchTest, WatchCanBeTurnedOff) {
  RemoraProcess remora(yaml(alpha_, "config_watch: false\n"));
  rewrite(remora.configPath(), yaml(beta_, "config_watch: false\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(servedBy(), "alpha");
  EXPECT_EQ(configVersion(admin_), 1u);
  // SIGHUP still reloads it.
  ASSERT_EQ(::kill(remora.process().pid(), SIGHUP), 0);
  ASSERT_TRUE(eventuallyServedBy("beta"));
}

}  // namespace
}  // namespace remora::test
