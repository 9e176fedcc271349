// Admin /plugins with the real plugins loaded, and a new generation after a plugin file changes:
// a .so with bytes appended still loads but has another sha256, so SIGHUP loads it as a new
// generation while the unchanged plugins keep theirs.

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <set>

#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

const char* const kFilters[] = {"access_log", "auth",       "circuit_breaker",
                                "headers",    "rate_limit", "router"};

std::string sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// name -> the plugin entries /plugins lists under that name.
std::map<std::string, std::vector<json>> pluginsByName(uint16_t admin_port) {
  std::map<std::string, std::vector<json>> out;
  json body = adminJson(admin_port, "/plugins");
  if (!body.is_object()) return out;
  // Live generations only: /plugins also lists the last unloaded ones.
  for (const json& p : body["plugins"])
    if (p["state"] != "unloaded") out[p["name"].get<std::string>()].push_back(p);
  return out;
}

class PluginsAdminTest : public ::testing::Test {
 protected:
  PluginsAdminTest() {
    for (const char* f : kFilters) plugins_.addFilter(f);
    plugins_.addTestPlugin("faulty");
  }

  std::vector<FilterSpec> chain(const std::string& tag) const {
    json router = {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
    json headers = {{"response", {{"set", {{"x-tag", tag}}}}}};
    return {{"headers", headers}, {"router", router}};
  }

  PluginDir plugins_;
  DemoUpstream app_{"app"};
};

TEST_F(PluginsAdminTest, ListsEveryLoadedPluginWithVersionShaAndGeneration) {
  FilterProxy proxy(plugins_, chain("one"), {{"app", {app_.address()}, ""}});
  auto listed = pluginsByName(proxy.adminPort());
  std::set<uint64_t> generations;
  std::vector<std::string> names(std::begin(kFilters), std::end(kFilters));
  names.push_back("faulty");
  for (const std::string& name : names) {
    ASSERT_EQ(listed[name].size(), 1u) << name;
    const json& p = listed[name][0];
    EXPECT_EQ(p["version"], "1.0.0") << p.dump();
    EXPECT_EQ(p["sha256"], sha256OfFile(plugins_.pluginFile(name))) << p.dump();
    EXPECT_EQ(p["path"], plugins_.pluginFile(name));
    EXPECT_EQ(p["state"], "active");
    // faulty is kept an ABI 1.0 plugin on purpose (test/plugins/faulty.c).
    EXPECT_EQ(p["abi"], name == "faulty" ? "1.0" : "1.1");
    ASSERT_TRUE(p["generation"].is_number_unsigned()) << p.dump();
    generations.insert(p["generation"].get<uint64_t>());
  }
  EXPECT_EQ(generations.size(), names.size()) << "generations are distinct";
  EXPECT_EQ(listed.size(), names.size());
}

TEST_F(PluginsAdminTest, ChangedFileAndSighupLoadANewGeneration) {
  FilterProxy proxy(plugins_, chain("one"), {{"app", {app_.address()}, ""}});
  EXPECT_EQ(proxy.get("/").header("x-tag"), "one");
  auto before = pluginsByName(proxy.adminPort());
  ASSERT_EQ(before["headers"].size(), 1u);
  const uint64_t old_generation = before["headers"][0]["generation"];
  const std::string old_sha = before["headers"][0]["sha256"];

  // A different build of the same plugin: trailing bytes change the hash, not what loads.
  // Written beside and renamed in, as a deployment would, so a scan never reads half a file.
  std::string staged = plugins_.file("headers.so.new");
  {
    std::ifstream in(plugins_.pluginFile("headers"), std::ios::binary);
    std::ofstream out(staged, std::ios::binary);
    out << in.rdbuf() << "\nremora test build 2\n";
  }
  ASSERT_EQ(std::rename(staged.c_str(), plugins_.pluginFile("headers").c_str()), 0);
  const std::string new_sha = sha256OfFile(plugins_.pluginFile("headers"));
  ASSERT_NE(new_sha, old_sha);

  proxy.remora().reload(proxy.config(chain("two"), {{"app", {app_.address()}, ""}}));
  // The new config (and so the new generation) is in service once responses carry its tag.
  ASSERT_TRUE(eventually([&] { return proxy.get("/").header("x-tag") == "two"; }))
      << proxy.remora().output();

  std::map<std::string, std::vector<json>> after;
  // The old generation goes once the old snapshot and its streams are gone.
  ASSERT_TRUE(eventually([&] {
    after = pluginsByName(proxy.adminPort());
    return after["headers"].size() == 1;
  })) << json(after["headers"]).dump(2);
  const json& headers = after["headers"][0];
  EXPECT_EQ(headers["sha256"], new_sha);
  EXPECT_GT(headers["generation"].get<uint64_t>(), old_generation);
  EXPECT_EQ(headers["state"], "active");
  // Unchanged files keep their generation.
  for (const char* name : {"router", "auth", "faulty"})
    EXPECT_EQ(after[name][0]["generation"], before[name][0]["generation"]) << name;
  EXPECT_NE(proxy.remora().output().find("generation " +
                                         std::to_string(headers["generation"].get<uint64_t>()) +
                                         " replaces " + std::to_string(old_generation)),
            std::string::npos)
      << proxy.remora().output();
}

}  // namespace
}  // namespace remora::test
