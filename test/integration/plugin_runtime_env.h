#pragma once
// What the plugin runtime tests share (canary, fault policy, state hand-off, lifecycle): a plugin
// directory with the real router and the `faulty` test plugin (built as 1.0.0 and 2.0.0), a demo
// upstream, and remora running one listener whose chain is `<entries> + router`, reloaded by
// rewriting the config file and sending SIGHUP.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {

class PluginRuntimeEnv : public ::testing::Test {
 protected:
  PluginRuntimeEnv() {
    plugins_.addFilter("router");
    plugins_.addTestPlugin("faulty");
  }

  // build/test/plugins/NAME.so, outside the scanned directory.
  static std::string testBuild(const std::string& name) {
    return std::string(REMORA_TEST_PLUGIN_DIR) + "/" + name + ".so";
  }

  // A new build of the real filter NAME: the same code with bytes appended, so a new sha256 and
  // a new generation (as a rebuilt .so would be), outside plugins.dir.
  std::string rebuilt(const std::string& name) {
    std::string path = plugins_.file(name + "-rebuilt-" + std::to_string(++rebuilds_) + ".so");
    std::filesystem::copy_file(std::string(REMORA_FILTER_DIR) + "/" + name + ".so", path);
    std::ofstream(path, std::ios::app) << "rebuilt " << rebuilds_;
    return path;
  }

  // `entries` is YAML for the chain entries before the router, each starting "- name: ...",
  // indented by 6 spaces.
  std::string config(const std::string& entries, int workers = 1) const {
    std::ostringstream y;
    y << "workers: " << workers << "\n"
      << "admin: { address: 127.0.0.1:" << admin_port_ << " }\n"
      << "drain: { grace_period: 0s, deadline: 5s }\n"
      << "plugins: { dir: " << plugins_.path() << ", cache_dir: " << plugins_.cacheDir() << " }\n"
      << "listeners:\n"
      << "  - name: ingress\n"
      << "    address: 127.0.0.1:" << port_ << "\n"
      << "    filters:\n"
      << entries << "      - name: router\n"
      << "        config: {routes: [{match: {prefix: /}, cluster: app, retry: {attempts: 0}}]}\n"
      << after_router_ << "clusters:\n"
      << "  - name: app\n"
      << "    endpoints: [" << app_.address() << "]\n";
    return y.str();
  }

  void start(const std::string& entries, int workers = 1) {
    remora_ = std::make_unique<RemoraProcess>(config(entries, workers));
  }

  // Rewrites the config, sends SIGHUP and waits for "config version N applied".
  bool reload(const std::string& entries, int workers = 1) {
    ++version_;
    remora_->reload(config(entries, workers));
    return remora_->process().waitForOutput(
        "config version " + std::to_string(version_) + " applied", std::chrono::seconds(10));
  }

  HttpResponse get(const std::string& path,
                   std::vector<std::pair<std::string, std::string>> headers = {}) const {
    HttpClient client(port_);
    headers.emplace_back("connection", "close");
    return client.request("GET", path, headers);
  }

  std::string metrics() const { return adminBody(admin_port_, "/metrics"); }

  // The /plugins entries of plugin `name` with `version`.
  std::vector<nlohmann::json> generations(const std::string& name, const std::string& version) {
    std::vector<nlohmann::json> out;
    nlohmann::json all = adminJson(admin_port_, "/plugins");
    for (const nlohmann::json& p : all["plugins"])
      if (p["name"] == name && p["version"] == version) out.push_back(p);
    return out;
  }

  PluginDir plugins_;
  DemoUpstream app_{"app"};
  uint16_t port_ = freePort();
  uint16_t admin_port_ = freePort();
  int version_ = 1;
  std::string after_router_;  // chain entries after the router (same form as `entries`)
  std::unique_ptr<RemoraProcess> remora_;
  int rebuilds_ = 0;
};

}  // namespace remora::test
