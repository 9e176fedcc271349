// The plugin loader's error paths, driven through the real binary: `remora --validate` and a
// real start-up must each refuse a broken plugin with a clear message naming the field and cause.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/harness.h"

namespace remora::test {
namespace {

namespace fs = std::filesystem;

class PluginLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_dir_ = dir_.path() + "/plugins";
    fs::create_directories(plugin_dir_);
  }

  void addPlugin(const std::string& name) {
    fs::copy_file(std::string(REMORA_TEST_PLUGIN_DIR) + "/" + name + ".so",
                  plugin_dir_ + "/" + name + ".so");
  }

  // A config whose only listener runs `filters_yaml` (a YAML list).
  std::string config(const std::string& filters_yaml) {
    return "admin: { address: 127.0.0.1:" + std::to_string(freePort()) +
           " }\n"
           "plugins: { dir: " +
           plugin_dir_ + ", cache_dir: " + dir_.path() +
           "/cache }\n"
           "listeners:\n"
           "  - name: ingress\n"
           "    address: 127.0.0.1:" +
           std::to_string(freePort()) + "\n    filters: " + filters_yaml +
           "\n"
           "clusters:\n"
           "  - name: app\n"
           "    endpoints: [127.0.0.1:1]\n";
  }

  // Runs `remora --validate` on `yaml`; returns its exit code and fills `output`.
  int validate(const std::string& yaml, std::string& output) {
    std::string path = dir_.path() + "/remora.yaml";
    std::ofstream(path) << yaml;
    Process p({REMORA_BINARY, "--validate", "--config", path});
    auto status = p.waitExit(std::chrono::seconds(20));
    output = p.output();
    return status ? status->code : -1;
  }

  TempDir dir_;
  std::string plugin_dir_;
};

TEST_F(PluginLoaderTest, UnknownPluginNamesTheFieldAndWhatIsLoaded) {
  addPlugin("faulty");
  std::string out;
  EXPECT_EQ(validate(config("[{ name: nope }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].name: unknown plugin \"nope\" (loaded: faulty)"),
            std::string::npos)
      << out;
}

TEST_F(PluginLoaderTest, AbiMajorMismatchNamesBothVersions) {
  addPlugin("bad_abi");
  std::string out;
  EXPECT_EQ(validate(config("[{ name: bad_abi }]"), out), 1);
  EXPECT_NE(out.find("plugin ABI 2.0 is not supported by this kernel (ABI 1.1)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("listeners[0].filters[0].name: plugin \"bad_abi\" failed to load"),
            std::string::npos)
      << out;
}

TEST_F(PluginLoaderTest, MissingDescriptorSymbol) {
  addPlugin("no_descriptor");
  std::string out;
  EXPECT_EQ(validate(config("[{ name: no_descriptor }]"), out), 1);
  EXPECT_NE(out.find("missing symbol remora_plugin_descriptor"), std::string::npos) << out;
}

TEST_F(PluginLoaderTest, NotASharedObject) {
  std::ofstream(plugin_dir_ + "/junk.so") << "this is not an ELF file\n";
  std::string out;
  EXPECT_EQ(validate(config("[{ name: junk }]"), out), 1);
  EXPECT_NE(out.find("junk.so: not a loadable shared object"), std::string::npos) << out;
}

TEST_F(PluginLoaderTest, PluginRejectingItsConfigIsReportedWithThePath) {
  addPlugin("faulty");
  std::string out;
  EXPECT_EQ(validate(config("[{ name: faulty, config: { reject: true } }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].config: faulty: this config is rejected on purpose"),
            std::string::npos)
      << out;
}

TEST_F(PluginLoaderTest, ChainMustIncludeTheRouter) {
  addPlugin("faulty");
  std::string out;
  EXPECT_EQ(validate(config("[{ name: faulty }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters: the chain must include the router filter"),
            std::string::npos)
      << out;
}

// A chain entry naming a specific build with `path` (and a canary build): each way the file can
// be wrong is reported at that field.
std::string testBuild(const std::string& name) {
  return std::string(REMORA_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

TEST_F(PluginLoaderTest, EntryPathErrorsNameTheField) {
  addPlugin("faulty");
  std::string out;
  EXPECT_EQ(validate(config("[{ name: faulty, path: /nonexistent/faulty.so }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].path: /nonexistent/faulty.so: No such file"),
            std::string::npos)
      << out;

  std::string junk = dir_.path() + "/junk.so";
  std::ofstream(junk) << "not ELF\n";
  EXPECT_EQ(validate(config("[{ name: faulty, path: " + junk + " }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].path: " + junk + ": not a loadable shared object"),
            std::string::npos)
      << out;

  EXPECT_EQ(validate(config("[{ name: bad_abi, path: " + testBuild("bad_abi") + " }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].path: " + testBuild("bad_abi") +
                     ": plugin ABI 2.0 is not supported by this kernel (ABI 1.1)"),
            std::string::npos)
      << out;

  EXPECT_EQ(validate(config("[{ name: router, path: " + testBuild("faulty_v2") + " }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].path: " + testBuild("faulty_v2") +
                     " is plugin \"faulty\", not \"router\""),
            std::string::npos)
      << out;

  EXPECT_EQ(validate(config("[{ name: faulty, canary: { path: " + testBuild("no_descriptor") +
                            ", percent: 5 } }]"),
                     out),
            1);
  EXPECT_NE(out.find("listeners[0].filters[0].canary.path: " + testBuild("no_descriptor") +
                     ": missing symbol remora_plugin_descriptor"),
            std::string::npos)
      << out;
}

TEST_F(PluginLoaderTest, CanaryAndFaultPolicyFieldsAreChecked) {
  addPlugin("faulty");
  std::string out;
  EXPECT_EQ(validate(config("[{ name: faulty, path: relative/faulty.so }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].path: expected an absolute path to a plugin .so"),
            std::string::npos)
      << out;
  EXPECT_EQ(validate(config("[{ name: faulty, canary: { path: /x.so, percent: 101 } }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].canary.percent"), std::string::npos) << out;
  EXPECT_EQ(validate(config("[{ name: faulty, canary: { path: /x.so } }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].canary: sends no traffic"), std::string::npos) << out;
  EXPECT_EQ(validate(config("[{ name: faulty, on_error: maybe }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].on_error: expected one of fail_closed, fail_open"),
            std::string::npos)
      << out;
  EXPECT_EQ(validate(config("[{ name: faulty, quarantine: { after_errors: -1 } }]"), out), 1);
  EXPECT_NE(out.find("listeners[0].filters[0].quarantine.after_errors"), std::string::npos) << out;
}

TEST_F(PluginLoaderTest, StartupRefusesABrokenChainAndExits) {
  addPlugin("bad_abi");
  std::string path = dir_.path() + "/remora.yaml";
  std::ofstream(path) << config("[{ name: bad_abi }]");
  Process p({REMORA_BINARY, "--config", path});
  auto status = p.waitExit(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exitedWith(1)) << status->describe();
  EXPECT_NE(p.output().find("cannot start"), std::string::npos) << p.output();
}

}  // namespace
}  // namespace remora::test
