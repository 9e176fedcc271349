// The filter SDK must be usable outside this repository: install it (component filter_sdk) into a
// temp prefix, build examples/hello_filter against that prefix the way a plugin team would (CMake
// package, then pkg-config), and check the artifact is a loadable plugin that exports nothing but
// its descriptor.

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/temp_dir.h"
#include "plugin/abi/remora_filter.h"

namespace remora::test {
namespace {

struct RunResult {
  bool ok = false;
  std::string output;
};

// Runs argv to completion (bounded), returning whether it exited 0 and what it printed.
RunResult run(std::vector<std::string> argv, std::chrono::seconds timeout) {
  Process p(std::move(argv));
  std::optional<ExitStatus> st = p.waitExit(timeout);
  RunResult r;
  r.output = p.output();
  r.ok = st && st->exitedWith(0);
  if (!st) r.output += "\n(timed out)";
  return r;
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += a + " ";
  return s;
}

#define RUN_OK(argv, secs)                                  \
  do {                                                      \
    std::vector<std::string> args_ = argv;                  \
    RunResult r_ = run(args_, std::chrono::seconds(secs));  \
    ASSERT_TRUE(r_.ok) << join(args_) << "\n" << r_.output; \
  } while (0)

// The dynamic symbols a shared object defines, via nm.
std::set<std::string> definedDynamicSymbols(const std::string& so) {
  RunResult r =
      run({"/usr/bin/nm", "-D", "--defined-only", "--format=posix", so}, std::chrono::seconds(30));
  std::set<std::string> names;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (!name.empty()) names.insert(name);
  }
  return names;
}

// dlopens `so`, calls its descriptor and checks what a kernel would check first.
void expectLoadablePlugin(const std::string& so, const std::string& name) {
  ASSERT_TRUE(std::filesystem::exists(so)) << so;
  EXPECT_EQ(definedDynamicSymbols(so), std::set<std::string>{"remora_plugin_descriptor"});
  void* handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto fn =
      reinterpret_cast<remora_plugin_descriptor_fn>(dlsym(handle, REMORA_PLUGIN_DESCRIPTOR_SYMBOL));
  ASSERT_NE(fn, nullptr);
  const remora_plugin_descriptor_t* d = fn();
  ASSERT_NE(d, nullptr);
  EXPECT_STREQ(d->name, name.c_str());
  EXPECT_STREQ(d->version, "1.0.0");
  EXPECT_EQ(d->abi_major, REMORA_FILTER_ABI_MAJOR);
  EXPECT_EQ(d->abi_minor, REMORA_FILTER_ABI_MINOR);
  EXPECT_EQ(d->struct_size, sizeof(remora_plugin_descriptor_t));
  EXPECT_EQ(d->priority, 500);
  EXPECT_NE(d->start, nullptr);
  EXPECT_NE(d->config_new, nullptr);
  EXPECT_NE(d->on_request_headers, nullptr);
  EXPECT_NE(d->on_response_headers, nullptr);
  EXPECT_EQ(d->on_request_body, nullptr) << "hooks the filter does not override stay NULL";
  dlclose(handle);
}

class SdkInstall : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = dir_.file("prefix");
    RUN_OK((std::vector<std::string>{REMORA_CMAKE_COMMAND, "--install", REMORA_BUILD_DIR,
                                     "--prefix", prefix_, "--component", "filter_sdk"}),
           120);
  }

  TempDir dir_;
  std::string prefix_;
};

TEST_F(SdkInstall, InstallsHeadersPackageAndPkgConfig) {
  for (const char* f : {"include/remora/remora_filter.h", "include/remora/sdk/filter.h",
                        "include/remora/sdk/stream.h", "include/remora/sdk/per_worker.h",
                        "include/remora/sdk/config_reader.h", "include/remora/sdk/config_util.h",
                        "include/remora/sdk/result.h", "include/remora/sdk/query.h",
                        "lib/cmake/RemoraFilterSDK/RemoraFilterSDKConfig.cmake",
                        "lib/cmake/RemoraFilterSDK/RemoraFilterSDKConfigVersion.cmake",
                        "lib/cmake/RemoraFilterSDK/RemoraFilter.cmake",
                        "lib/cmake/RemoraFilterSDK/remora_filter.map"}) {
    EXPECT_TRUE(std::filesystem::exists(prefix_ + "/" + f)) << f;
  }
  // The libdir depends on the prefix (GNUInstallDirs): find the .pc file wherever it went.
  bool found_pc = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(prefix_)) {
    found_pc = found_pc || e.path().filename() == "remora-filter-sdk.pc";
  }
  EXPECT_TRUE(found_pc);
}

TEST_F(SdkInstall, OutOfTreeFilterBuildsWithFindPackage) {
  std::string build = dir_.file("hello-build");
  RUN_OK((std::vector<std::string>{
             REMORA_CMAKE_COMMAND, "-S", std::string(REMORA_SOURCE_DIR) + "/examples/hello_filter",
             "-B", build, "-G", REMORA_CMAKE_GENERATOR, "-DCMAKE_MAKE_PROGRAM=" REMORA_MAKE_PROGRAM,
             "-DCMAKE_CXX_COMPILER=" REMORA_CXX_COMPILER, "-DCMAKE_PREFIX_PATH=" + prefix_,
             "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror"}),
         120);
  RUN_OK((std::vector<std::string>{REMORA_CMAKE_COMMAND, "--build", build}), 300);
  expectLoadablePlugin(build + "/filters/hello.so", "hello");
}

TEST_F(SdkInstall, OutOfTreeFilterBuildsWithPkgConfig) {
  std::string pc_dir;
  for (const auto& e : std::filesystem::recursive_directory_iterator(prefix_)) {
    if (e.path().filename() == "remora-filter-sdk.pc") pc_dir = e.path().parent_path().string();
  }
  ASSERT_FALSE(pc_dir.empty());
  auto pkg = [&](const std::string& arg) {
    RunResult r =
        run({"/usr/bin/env", "PKG_CONFIG_PATH=" + pc_dir, "pkg-config", arg, "remora-filter-sdk"},
            std::chrono::seconds(30));
    EXPECT_TRUE(r.ok) << r.output;
    while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == ' ')) {
      r.output.pop_back();
    }
    return r.output;
  };
  std::vector<std::string> cmd = {REMORA_CXX_COMPILER, "-shared", "-fPIC", "-O1", "-Wall",
                                  "-Wextra",           "-Werror"};
  for (const std::string& flags : {pkg("--cflags"), pkg("--libs")}) {
    std::istringstream in(flags);
    std::string word;
    while (in >> word) cmd.push_back(word);
  }
  std::string so = dir_.file("hello.so");
  cmd.insert(cmd.end(), {std::string(REMORA_SOURCE_DIR) + "/examples/hello_filter/hello_filter.cc",
                         "-Wl,--version-script=" + pkg("--variable=version_script"), "-o", so});
  RUN_OK(cmd, 300);
  expectLoadablePlugin(so, "hello");
}

}  // namespace
}  // namespace remora::test
