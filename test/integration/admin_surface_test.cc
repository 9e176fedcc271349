// The two admin listeners of the real binary: the observe listener serves probes, metrics and
// read-only views and refuses every change; the control listener takes the changes, behind a
// bearer token when one is configured, on TCP or on a Unix socket; and the config checks that
// keep a control listener off the network without a token.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/config_push.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using ::testing::HasSubstr;

// basicConfig() with its admin line replaced by `admin` (a flow map's inside).
std::string withAdmin(uint16_t port, uint16_t admin_port, const std::string& upstream,
                      const std::string& admin) {
  std::string yaml = basicConfig(port, admin_port, {upstream});
  const size_t begin = yaml.find("admin: ");
  yaml.replace(begin, yaml.find('\n', begin) - begin, "admin: { " + admin + " }");
  return yaml;
}

HttpResponse request(uint16_t port, const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     const std::string& body = "") {
  HttpClient client(port, std::chrono::seconds(5));
  auto all = headers;
  all.emplace_back("connection", "close");
  return client.request(method, path, all, body);
}

TEST(AdminSurface, ObserveServesViewsAndRefusesChanges) {
  ProxyUnderTest proxy;
  const uint16_t observe = proxy.adminPort();
  const uint16_t control = proxy.controlPort();
  ASSERT_NE(control, 0);
  // Every read-only view answers on both listeners.
  for (const char* path : {"/ready", "/healthz", "/metrics", "/config", "/config/history",
                           "/clusters", "/plugins", "/logging", "/config?format=yaml"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(adminGet(observe, path).status, 200);
    EXPECT_EQ(adminGet(control, path).status, 200);
  }
  const std::string yaml = proxy.yaml();
  HttpResponse put =
      request(observe, "PUT", "/config", {{"content-type", "application/yaml"}}, yaml);
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("allow"), "GET, HEAD");
  EXPECT_THAT(put.body, HasSubstr("PUT /config changes the sidecar and is served only on the "
                                  "control listener (admin.control, here 127.0.0.1:" +
                                  std::to_string(control) + ")"));
  EXPECT_EQ(request(observe, "POST", "/logging?level=debug").status, 405);
  HttpResponse rollback = request(observe, "POST", "/config/rollback");
  EXPECT_EQ(rollback.status, 404);
  EXPECT_THAT(rollback.body, HasSubstr("control listener"));
  EXPECT_EQ(request(observe, "POST", "/drain").status, 404);
  EXPECT_EQ(adminGet(observe, "/drain").status, 404);
  // Nothing changed: same version, same log level, still ready.
  EXPECT_EQ(configVersion(observe), 1u);
  EXPECT_EQ(bodyJson(adminGet(observe, "/logging"))["level"], "info");
  EXPECT_EQ(adminGet(observe, "/ready").status, 200);

  // The same requests on the control listener work.
  EXPECT_EQ(putConfig(control, yaml).status, 200);
  EXPECT_EQ(configVersion(observe), 2u);
  EXPECT_EQ(bodyJson(adminPost(control, "/logging?level=debug"))["level"], "debug");
  EXPECT_EQ(adminPost(control, "/config/rollback").status, 200);
  EXPECT_EQ(configVersion(observe), 3u);
}

class ControlToken : public ::testing::Test {
 protected:
  ControlToken() {
    writeFileAtomically(token_file_, "s3cret-token\n");  // a final newline is not the token
    proxy_ = std::make_unique<RemoraProcess>(withAdmin(
        port_, observe_, upstream_.address(),
        "address: 127.0.0.1:" + std::to_string(observe_) + ", control: { address: 127.0.0.1:" +
            std::to_string(control_) + ", token_file: " + token_file_ + " }"));
  }
  double failures(const std::string& reason) {
    return scrapeMetric(observe_, "remora_admin_auth_failures_total",
                        {"reason=\"" + reason + "\""});
  }

  TempDir dir_;
  std::string token_file_ = dir_.file("token");
  DemoUpstream upstream_{"app"};
  uint16_t port_ = freePort();
  uint16_t observe_ = freePort();
  uint16_t control_ = freePort();
  std::unique_ptr<RemoraProcess> proxy_;
};

TEST_F(ControlToken, RequestsWithoutTheTokenGet401AndCount) {
  EXPECT_EQ(failures("missing"), 0);
  EXPECT_EQ(failures("invalid"), 0);
  const std::string yaml = basicConfig(port_, observe_, {upstream_.address()});

  HttpResponse none = request(control_, "PUT", "/config", {}, yaml);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"remora-admin\"");
  HttpResponse wrong = request(control_, "POST", "/drain", {{"authorization", "Bearer s3cret"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.header("www-authenticate"), HasSubstr("error=\"invalid_token\""));
  // Reads on the control listener need the token too; a longer token is as wrong.
  EXPECT_EQ(request(control_, "GET", "/config").status, 401);
  EXPECT_EQ(
      request(control_, "GET", "/config", {{"authorization", "Bearer s3cret-token-2"}}).status,
      401);
  EXPECT_EQ(request(control_, "GET", "/config", {{"authorization", "Basic czNjcmV0"}}).status, 401);
  EXPECT_EQ(failures("missing"), 3);
  EXPECT_EQ(failures("invalid"), 2);
  EXPECT_EQ(configVersion(observe_), 1u);
  EXPECT_EQ(adminGet(observe_, "/ready").status, 200);  // the drain was not started

  HttpResponse ok =
      request(control_, "PUT", "/config", {{"authorization", "Bearer s3cret-token"}}, yaml);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(configVersion(observe_), 2u);
  // The scheme is case-insensitive.
  EXPECT_EQ(request(control_, "GET", "/config/history", {{"authorization", "bearer s3cret-token"}})
                .status,
            200);
  EXPECT_EQ(failures("missing"), 3);
}

TEST(AdminSurface, ControlOnAUnixSocket) {
  TempDir dir;
  const std::string socket = dir.file("admin.sock");
  DemoUpstream upstream("app");
  const uint16_t port = freePort();
  const uint16_t observe = freePort();
  RemoraProcess proxy(withAdmin(port, observe, upstream.address(),
                                "address: 127.0.0.1:" + std::to_string(observe) +
                                    ", control: { unix: " + socket + ", mode: \"0600\" }"));
  EXPECT_EQ(proxy.controlPort(), 0);
  struct stat st {};
  ASSERT_EQ(::stat(socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string body_file = dir.file("push.yaml");
  writeFileAtomically(body_file, basicConfig(port, observe, {upstream.address()}));
  int code = -1;
  const std::string out =
      curl({"-s", "--unix-socket", socket, "-X", "PUT", "-H", "content-type: application/yaml",
            "--data-binary", "@" + body_file, "-w", "\n%{http_code}", "http://localhost/config"},
           &code);
  EXPECT_EQ(code, 0);
  EXPECT_THAT(out, HasSubstr("\"version\": 2"));
  EXPECT_THAT(out, HasSubstr("\n200"));
  EXPECT_EQ(curl({"-s", "--unix-socket", socket, "http://localhost/ready"}), "ready\n");
  EXPECT_EQ(configVersion(observe), 2u);

  // The socket file goes with the process.
  ASSERT_TRUE(proxy.stop().has_value());
  EXPECT_NE(::stat(socket.c_str(), &st), 0);
}

struct CliRun {
  ExitStatus status;
  std::string err;
};

CliRun validate(const std::string& yaml) {
  TempDir dir;
  const std::string path = dir.file("remora.yaml");
  writeFileAtomically(path, yaml);
  Process p({REMORA_BINARY, "--validate", "--config", path}, /*merge_stderr=*/false);
  auto st = p.waitExit(std::chrono::seconds(10));
  return {st.value_or(ExitStatus{}), p.errorOutput()};
}

TEST(AdminSurface, NonLoopbackControlNeedsATokenOrAnExplicitAllow) {
  const uint16_t port = freePort();
  const uint16_t observe = freePort();
  const uint16_t control = freePort();
  const std::string open = "address: 127.0.0.1:" + std::to_string(observe) +
                           ", control: { address: 0.0.0.0:" + std::to_string(control);
  CliRun refused = validate(withAdmin(port, observe, "127.0.0.1:8080", open + " }"));
  EXPECT_TRUE(refused.status.exitedWith(1)) << refused.status.describe();
  EXPECT_THAT(refused.err, HasSubstr("admin.control.address: 0.0.0.0:" + std::to_string(control) +
                                     ": a non-loopback control listener needs "
                                     "admin.control.token_file (or allow_insecure: true)"));

  CliRun allowed =
      validate(withAdmin(port, observe, "127.0.0.1:8080", open + ", allow_insecure: true }"));
  EXPECT_TRUE(allowed.status.exitedWith(0)) << allowed.err;

  TempDir dir;
  const std::string missing = dir.file("no-such-token");
  CliRun no_file = validate(
      withAdmin(port, observe, "127.0.0.1:8080", open + ", token_file: " + missing + " }"));
  EXPECT_TRUE(no_file.status.exitedWith(1)) << no_file.status.describe();
  EXPECT_THAT(no_file.err,
              HasSubstr("admin.control.token_file: " + missing + ": cannot open: No such file"));
  writeFileAtomically(dir.file("token"), "t0ken\n");
  CliRun with_token = validate(withAdmin(port, observe, "127.0.0.1:8080",
                                         open + ", token_file: " + dir.file("token") + " }"));
  EXPECT_TRUE(with_token.status.exitedWith(0)) << with_token.err;
}

// admin is read at start-up only, but a pushed config is checked whole: one that would open the
// control listener to the network without a token is refused like any invalid config.
TEST(AdminSurface, APushWithAnOpenControlListenerIsRefused) {
  ProxyUnderTest proxy;
  const std::string yaml =
      withAdmin(proxy.port(), proxy.adminPort(), "127.0.0.1:8080",
                "address: 127.0.0.1:" + std::to_string(proxy.adminPort()) +
                    ", control: { address: \"[::]:" + std::to_string(freePort()) + "\" }");
  HttpResponse r = putConfig(proxy.controlPort(), yaml);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(errorLines(r), ::testing::Contains(HasSubstr("admin.control.address: [::]:")));
  EXPECT_EQ(configVersion(proxy.adminPort()), 1u);
}

}  // namespace
}  // namespace remora::test
