// The remora command line: --validate (like nginx -t), --version, --help, bad arguments, and
// start-up failures that must exit non-zero with the reason.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::seconds;

struct CliRun {
  ExitStatus status;
  std::string out;
  std::string err;
};

CliRun runRemora(const std::vector<std::string>& args) {
  std::vector<std::string> argv{REMORA_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, /*merge_stderr=*/false);
  auto st = p.waitExit(seconds(10));
  return {st.value_or(ExitStatus{}), p.output(), p.errorOutput()};
}

TEST(Cli, ValidateAcceptsAGoodConfig) {
  TempDir dir;
  std::string path = dir.file("good.yaml");
  writeFileAtomically(path, basicConfig(freePort(), freePort(), {"127.0.0.1:8080"}));
  CliRun r = runRemora({"--validate", "--config", path});
  EXPECT_TRUE(r.status.exitedWith(0)) << r.status.describe() << r.err;
  EXPECT_NE(r.out.find("is valid"), std::string::npos) << r.out;
}

TEST(Cli, ValidateRejectsABadConfigWithTheFieldPath) {
  TempDir dir;
  std::string path = dir.file("bad.yaml");
  std::string yaml = basicConfig(freePort(), freePort(), {"127.0.0.1:8080"}, "",
                                 "lb_policy: fastest\nconnect_timeout: soon");
  writeFileAtomically(path, yaml);
  CliRun r = runRemora({"--validate", "--config", path});
  EXPECT_TRUE(r.status.exitedWith(1)) << r.status.describe();
  // Every error, each with its path.
  EXPECT_NE(r.err.find("clusters[0].lb_policy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("clusters[0].connect_timeout"), std::string::npos) << r.err;

  writeFileAtomically(path, "listeners: [\n");
  CliRun syntax = runRemora({"--validate", "--config", path});
  EXPECT_TRUE(syntax.status.exitedWith(1)) << syntax.status.describe();
  EXPECT_NE(syntax.err.find(path), std::string::npos) << syntax.err;

  CliRun missing = runRemora({"--validate", "--config", dir.file("absent.yaml")});
  EXPECT_TRUE(missing.status.exitedWith(1)) << missing.status.describe();
}

TEST(Cli, VersionAndHelp) {
  CliRun version = runRemora({"--version"});
  EXPECT_TRUE(version.status.exitedWith(0));
  // "remora MAJOR.MINOR.PATCH\n"
  unsigned major = 0, minor = 0, patch = 0;
  char end = 0;
  EXPECT_EQ(std::sscanf(version.out.c_str(), "remora %u.%u.%u%c", &major, &minor, &patch, &end), 4)
      << version.out;
  EXPECT_EQ(end, '\n');
  CliRun help = runRemora({"--help"});
  EXPECT_TRUE(help.status.exitedWith(0));
  EXPECT_NE(help.out.find("Usage: remora"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--validate"), std::string::npos);
}

TEST(Cli, BadArgumentsExit2WithUsage) {
  CliRun none = runRemora({});
  EXPECT_TRUE(none.status.exitedWith(2)) << none.status.describe();
  EXPECT_NE(none.err.find("--config FILE is required"), std::string::npos) << none.err;
  CliRun unknown = runRemora({"--frobnicate"});
  EXPECT_TRUE(unknown.status.exitedWith(2)) << unknown.status.describe();
  EXPECT_NE(unknown.err.find("--frobnicate"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("Usage:"), std::string::npos);
}

TEST(Cli, StartWithAnInvalidConfigExits1) {
  TempDir dir;
  std::string path = dir.file("bad.yaml");
  writeFileAtomically(path, basicConfig(freePort(), freePort(), {"nowhere"}));
  CliRun r = runRemora({"--config", path});
  EXPECT_TRUE(r.status.exitedWith(1)) << r.status.describe();
  EXPECT_NE(r.err.find("clusters[0].endpoints[0]"), std::string::npos) << r.err;
}

TEST(Cli, StartFailsWhenTheListenerPortIsTaken) {
  // A plain listening socket (no SO_REUSEPORT), so remora cannot share the port.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  uint16_t taken = ntohs(addr.sin_port);

  TempDir dir;
  std::string path = dir.file("remora.yaml");
  writeFileAtomically(path, basicConfig(taken, freePort(), {"127.0.0.1:8080"}));
  CliRun r = runRemora({"--config", path});
  ::close(fd);
  EXPECT_TRUE(r.status.exitedWith(1)) << r.status.describe();
  const std::string all = r.out + r.err;
  EXPECT_NE(all.find("Address already in use"), std::string::npos) << all;
}

}  // namespace
}  // namespace remora::test
