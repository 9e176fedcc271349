// Config pushes under load, through the real binary. (a) 100 pushes alternating two builds of
// one filter while keep-alive clients keep thousands of requests per second flowing: no request
// fails, every response carries exactly one build's header, and the old plugin generations are
// unmapped at the end. (b) 1,000 pushes in a row leave resident memory and open descriptors
// where they were.

#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/config_push.h"
#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Distinct files under `cache_dir` that process `pid` has mapped (loaded plugin generations).
size_t mappedPlugins(pid_t pid, const std::string& cache_dir) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::set<std::string> files;
  for (std::string line; std::getline(maps, line);) {
    const size_t at = line.find(cache_dir);
    if (at != std::string::npos) files.insert(line.substr(at));
  }
  return files.size();
}

size_t openFds(pid_t pid) {
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    (void)entry;
    ++n;
  }
  return n;
}

// Keep-alive GET / in a loop on `threads` connections until stop(); bounded by a deadline.
class LoadClients {
 public:
  LoadClients(uint16_t port, size_t threads) {
    for (size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this, port] { run(port); });
    }
  }
  ~LoadClients() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  std::atomic<uint64_t> ok{0}, failed{0}, build_a{0}, build_b{0}, bad_build{0}, reconnects{0};
  std::string first_failure;  // written once, read after stop()

 private:
  void run(uint16_t port) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(50);
    auto client = std::make_unique<HttpClient>(port);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      HttpResponse r = client->request("GET", "/");
      if (!r.ok() || r.status != 200) {
        if (failed++ == 0) first_failure = r.ok() ? std::to_string(r.status) : r.error;
        client = std::make_unique<HttpClient>(port);
        continue;
      }
      ++ok;
      const std::string build = r.header("x-build");
      if (build == "a") {
        ++build_a;
      } else if (build == "b") {
        ++build_b;
      } else {
        ++bad_build;  // missing, or both ("a, b")
      }
      if (!r.keep_alive) {
        ++reconnects;
        client = std::make_unique<HttpClient>(port);
      }
    }
  }

  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

class ConfigPushLoadTest : public ::testing::Test {
 protected:
  static std::string buildFile(const std::string& tag) {
    return std::string(REMORA_TEST_PLUGIN_DIR) + "/build_tag_" + tag + ".so";
  }
  // Replaces plugins/build_tag.so the way a deploy would: a copy renamed into place.
  void installBuild(const std::string& tag) {
    const std::string tmp = plugins_.pluginFile("build_tag") + ".tmp";
    fs::copy_file(buildFile(tag), tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, plugins_.pluginFile("build_tag"));
  }
  static json routeTo(const std::string& cluster) {
    return {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", cluster}}}}};
  }

  PluginDir plugins_;
  DemoUpstream upstream_{"app"};
};

TEST_F(ConfigPushLoadTest, HundredPushesSwappingFilterBuildsUnderLoad) {
  plugins_.addFilter("router");
  installBuild("a");
  const std::vector<FilterSpec> chain = {{"build_tag", json::object()}, {"router", routeTo("app")}};
  const std::vector<ClusterSpec> clusters = {{"app", {upstream_.address()}, ""}};
  FilterProxy proxy(plugins_, chain, clusters, 2);
  const pid_t pid = proxy.remora().process().pid();
  const size_t baseline_maps = mappedPlugins(pid, plugins_.cacheDir());
  ASSERT_EQ(baseline_maps, 2u);  // router, build_tag
  const std::string yaml = proxy.config(chain, clusters);

  LoadClients load(proxy.port(), 4);
  ASSERT_TRUE(waitUntil([&] { return load.ok >= 200; }, std::chrono::seconds(5)));
  const auto started = std::chrono::steady_clock::now();
  const uint64_t ok_before = load.ok;
  for (int i = 0; i < 100; ++i) {
    const std::string tag = i % 2 == 0 ? "b" : "a";
    installBuild(tag);
    HttpResponse r = putConfig(proxy.controlPort(), yaml);
    ASSERT_EQ(r.status, 200) << r.body;
    // Applied on every worker before the reply: a new request sees the new build.
    ASSERT_EQ(proxy.get("/").header("x-build"), tag) << "push " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let traffic use it
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  load.stop();
  const double rps = static_cast<double>(load.ok - ok_before) / seconds;
  std::printf("100 pushes in %.2f s; %.0f requests/s during pushes; a=%lu b=%lu\n", seconds, rps,
              static_cast<unsigned long>(load.build_a.load()),
              static_cast<unsigned long>(load.build_b.load()));

  EXPECT_EQ(load.failed, 0u) << load.first_failure;
  EXPECT_EQ(load.bad_build, 0u);
  EXPECT_EQ(load.reconnects, 0u);
  EXPECT_GT(load.build_a, 0u);
  EXPECT_GT(load.build_b, 0u);
  EXPECT_GT(rps, 1000);
  // Idle connections pin no generation: once the streams are done the old builds unload.
  EXPECT_TRUE(waitUntil([&] { return mappedPlugins(pid, plugins_.cacheDir()) == baseline_maps; },
                        std::chrono::seconds(5)))
      << mappedPlugins(pid, plugins_.cacheDir()) << " plugin files mapped";
}

TEST_F(ConfigPushLoadTest, ThousandPushesKeepMemoryAndDescriptorsFlat) {
  plugins_.addFilter("router");
  DemoUpstream other{"other"};
  const std::vector<ClusterSpec> clusters = {{"app", {upstream_.address()}, ""},
                                             {"other", {other.address()}, ""}};
  FilterProxy proxy(plugins_, {{"router", routeTo("app")}}, clusters, 2);
  const pid_t pid = proxy.remora().process().pid();
  const std::string yaml[2] = {proxy.config({{"router", routeTo("other")}}, clusters),
                               proxy.config({{"router", routeTo("app")}}, clusters)};
  auto push = [&](int i) {
    HttpResponse r = putConfig(proxy.controlPort(), yaml[i % 2]);
    return r.status == 200;
  };
  // Warm-up fills the history (16 entries) and the allocator's pools.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(push(i));
  ASSERT_EQ(proxy.get("/").status, 200);
  const uint64_t rss = residentBytes(pid);
  const size_t fds = openFds(pid);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(push(i)) << "push " << i;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("1000 pushes in %.2f s; RSS %lu -> %lu KiB; fds %zu -> %zu\n", seconds,
              static_cast<unsigned long>(rss / 1024),
              static_cast<unsigned long>(residentBytes(pid) / 1024), fds, openFds(pid));
  // Counted before the request below: it may land on the other worker, which then opens (and
  // keeps, idle) its own upstream connection — one more descriptor that is no leak.
  EXPECT_TRUE(waitUntil([&] { return openFds(pid) <= fds; }, std::chrono::seconds(3)))
      << openFds(pid) << " fds, " << fds << " before";
  EXPECT_LE(residentBytes(pid), rss + 4 * 1024 * 1024);
  ASSERT_EQ(proxy.get("/").header("x-upstream"), "app");
  EXPECT_EQ(configVersion(proxy.adminPort()), 1051u);
}

}  // namespace
}  // namespace remora::test
