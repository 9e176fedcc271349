// The harness's own pieces that do not need the remora binary to be complete.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "common/harness.h"

namespace remora::test {
namespace {

TEST(Harness, ProcessCapturesOutputAndExitCode) {
  Process p({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  auto st = p.waitExit(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->exitedWith(3)) << st->describe();
  EXPECT_EQ(p.output(), "out\nerr\n");
}

TEST(Harness, ProcessSeparatesStderrOnRequest) {
  Process p({"/bin/sh", "-c", "echo out; echo err >&2"}, /*merge_stderr=*/false);
  ASSERT_TRUE(p.waitExit(std::chrono::seconds(10)).has_value());
  EXPECT_EQ(p.output(), "out\n");
  EXPECT_EQ(p.errorOutput(), "err\n");
}

TEST(Harness, ProcessKillReportsTheSignal) {
  Process p({"/bin/sleep", "30"});
  EXPECT_TRUE(p.running());
  EXPECT_FALSE(p.waitExit(std::chrono::milliseconds(20)).has_value());
  p.kill(SIGTERM);
  auto st = p.waitExit(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->signal, SIGTERM);
}

TEST(Harness, ProcessReportsAMissingExecutable) {
  Process p({"/nonexistent/binary"});
  auto st = p.waitExit(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->exitedWith(127));
}

TEST(Harness, FreePortCanBeBound) {
  uint16_t port = freePort();
  EXPECT_GT(port, 0);
  HttpClient nobody(port, std::chrono::seconds(1));
  EXPECT_FALSE(nobody.connected());
}

TEST(Harness, BasicConfigFollowsTheSchema) {
  std::string yaml = basicConfig(8080, 9901, {"127.0.0.1:1", "127.0.0.1:2"},
                                 "filters:\n  - name: access_log", "lb: round_robin");
  YAML::Node n = YAML::Load(yaml);
  EXPECT_EQ(n["workers"].as<int>(), 1);
  EXPECT_EQ(n["admin"]["address"].as<std::string>(), "127.0.0.1:9901");
  EXPECT_EQ(n["drain"]["grace_period"].as<std::string>(), "0s");
  EXPECT_EQ(n["drain"]["deadline"].as<std::string>(), "5s");
  YAML::Node listener = n["listeners"][0];
  EXPECT_EQ(listener["name"].as<std::string>(), "ingress");
  EXPECT_EQ(listener["address"].as<std::string>(), "127.0.0.1:8080");
  EXPECT_EQ(listener["routes"][0]["prefix"].as<std::string>(), "/");
  EXPECT_EQ(listener["routes"][0]["cluster"].as<std::string>(), "app");
  EXPECT_EQ(listener["filters"][0]["name"].as<std::string>(), "access_log");
  YAML::Node cluster = n["clusters"][0];
  EXPECT_EQ(cluster["name"].as<std::string>(), "app");
  ASSERT_EQ(cluster["endpoints"].size(), 2u);
  EXPECT_EQ(cluster["endpoints"][1].as<std::string>(), "127.0.0.1:2");
  EXPECT_EQ(cluster["lb"].as<std::string>(), "round_robin");
}

// RemoraProcess against a stand-in that answers GET /ready with 200 on the admin port (the
// demo upstream answers 200 on any unknown path), so its start, readiness polling, config
// file and signalling are checked independently of the proxy itself.
TEST(Harness, RemoraProcessWaitsForReadyAndSignals) {
  TempDir dir;
  uint16_t admin = freePort();
  std::string script = dir.file("fake-remora");
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nexec " << REMORA_DEMO_UPSTREAM << " --listen 127.0.0.1:" << admin
        << " --name fake\n";
  }
  ::chmod(script.c_str(), 0755);
  std::string yaml = basicConfig(freePort(), admin, {"127.0.0.1:1"});
  RemoraOptions options;
  options.binary = script;
  RemoraProcess remora(yaml, options);
  EXPECT_EQ(remora.adminPort(), admin);
  EXPECT_EQ(readFile(remora.configPath()), yaml);
  EXPECT_EQ(httpGet(admin, "/ready"), "hello from fake\n");

  std::string next = basicConfig(freePort(), admin, {"127.0.0.1:2"});
  remora.reload(next);
  EXPECT_EQ(readFile(remora.configPath()), next);
  // The stand-in does not handle SIGHUP, so it dies of it: proof the signal was sent.
  auto st = remora.process().waitExit(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->signal, SIGHUP);
}

TEST(Harness, RemoraProcessReportsAnEarlyExit) {
  RemoraOptions options;
  options.binary = "/bin/false";
  EXPECT_THROW(RemoraProcess(basicConfig(freePort(), freePort(), {}), options), std::runtime_error);
}

}  // namespace
}  // namespace remora::test
