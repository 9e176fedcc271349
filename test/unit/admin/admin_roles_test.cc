// The observe and control roles of AdminServer on a real event_base: what each serves, the
// bearer token, and the control listener on a Unix socket.

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "common/c_handles.h"
#include "common/temp_dir.h"
#include "unit/admin/admin_loop.h"

namespace remora::admin {
namespace {

// One HTTP/1.0 exchange on a connected socket: the status code and the whole response.
std::pair<int, std::string> roundTrip(const Fd& fd, const std::string& request) {
  timeval tv{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    throw std::runtime_error("send");
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof(buf), 0)) > 0;)
    raw.append(buf, static_cast<size_t>(n));
  if (raw.compare(0, 7, "HTTP/1.") != 0) throw std::runtime_error("bad response: " + raw);
  return {std::stoi(raw.substr(9, 3)), raw};
}

std::string requestText(const std::string& method, const std::string& target,
                        const std::string& headers = "") {
  return method + " " + target + " HTTP/1.0\r\nHost: x\r\n" + headers + "\r\n";
}

std::pair<int, std::string> tcp(uint16_t port, const std::string& request) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
    throw std::runtime_error("connect");
  return roundTrip(fd, request);
}

std::pair<int, std::string> unixSocket(const std::string& path, const std::string& request) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
    throw std::runtime_error("connect " + path);
  return roundTrip(fd, request);
}

AdminContext withRegistry() {
  AdminContext context;
  context.registry = std::make_shared<prometheus::Registry>();
  return context;
}

TEST(AdminRolesTest, ObserveServesReadsAndRefusesChanges) {
  AdminLoop loop;
  AdminListener observe;
  observe.address = {"127.0.0.1", 0};
  observe.control_hint = "unix:/run/remora/admin.sock";
  ASSERT_EQ(loop.start(AdminContext{}, observe), "");
  EXPECT_EQ(tcp(loop.port(), requestText("GET", "/healthz")).first, 200);
  EXPECT_EQ(tcp(loop.port(), requestText("HEAD", "/logging")).first, 200);

  auto put = tcp(loop.port(), requestText("PUT", "/config"));
  EXPECT_EQ(put.first, 405);
  EXPECT_NE(put.second.find("Allow: GET, HEAD\r\n"), std::string::npos) << put.second;
  EXPECT_NE(put.second.find("PUT /config changes the sidecar and is served only on the control "
                            "listener (admin.control, here unix:/run/remora/admin.sock)"),
            std::string::npos)
      << put.second;
  EXPECT_EQ(tcp(loop.port(), requestText("POST", "/logging?level=trace")).first, 405);
  for (const char* method : {"GET", "POST", "DELETE"}) {
    SCOPED_TRACE(method);
    auto drain = tcp(loop.port(), requestText(method, "/drain"));
    EXPECT_EQ(drain.first, 404);
    EXPECT_NE(drain.second.find("/drain changes the sidecar"), std::string::npos);
    EXPECT_EQ(tcp(loop.port(), requestText(method, "/config/rollback")).first, 404);
  }
  // A method no listener takes stays a plain 405.
  EXPECT_EQ(tcp(loop.port(), requestText("DELETE", "/config")).first, 405);
  auto unknown = tcp(loop.port(), requestText("GET", "/nope"));
  EXPECT_EQ(unknown.first, 404);
  EXPECT_EQ(unknown.second.find("/drain (POST)"), std::string::npos) << unknown.second;
}

TEST(AdminRolesTest, ControlWithATokenChecksEveryRequest) {
  AdminLoop loop;
  AdminListener control = AdminLoop::defaultListener();
  control.token = "t0ken";
  AdminContext context = withRegistry();
  auto registry = context.registry;
  ASSERT_EQ(loop.start(std::move(context), control), "");
  auto none = tcp(loop.port(), requestText("GET", "/nope"));
  EXPECT_EQ(none.first, 401);
  EXPECT_NE(none.second.find("WWW-Authenticate: Bearer realm=\"remora-admin\"\r\n"),
            std::string::npos)
      << none.second;
  auto wrong = tcp(loop.port(), requestText("GET", "/healthz", "Authorization: Bearer t0k\r\n"));
  EXPECT_EQ(wrong.first, 401);
  EXPECT_NE(wrong.second.find("error=\"invalid_token\""), std::string::npos) << wrong.second;
  EXPECT_EQ(
      tcp(loop.port(), requestText("GET", "/healthz", "Authorization: Bearer t0ken\r\n")).first,
      200);
  // The failures are counted by reason.
  double missing = -1, invalid = -1;
  for (const auto& family : registry->Collect()) {
    if (family.name != "remora_admin_auth_failures_total") continue;
    for (const auto& metric : family.metric) {
      const double v = metric.counter.value;
      (metric.label.at(0).value == "missing" ? missing : invalid) = v;
    }
  }
  EXPECT_EQ(missing, 1);
  EXPECT_EQ(invalid, 1);
}

TEST(AdminRolesTest, ControlOnAUnixSocket) {
  test::TempDir dir;
  const std::string path = dir.file("admin.sock");
  std::ofstream(path) << "not a socket";
  AdminLoop refused;
  AdminListener control = AdminLoop::defaultListener();
  control.unix_path = path;
  control.mode = 0640;
  EXPECT_EQ(refused.start(AdminContext{}, control),
            "admin.control.unix " + path + ": exists and is not a socket");
  ::unlink(path.c_str());
  {
    AdminLoop first;
    ASSERT_EQ(first.start(AdminContext{}, control), "");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(unixSocket(path, requestText("GET", "/healthz")).first, 200);
    EXPECT_EQ(unixSocket(path, requestText("POST", "/logging?level=bogus")).first, 400);
    first.stop();
    EXPECT_NE(::stat(path.c_str(), &st), 0);  // removed with the server
  }
  // A socket file an earlier run left behind (killed before it could remove it) is replaced.
  Fd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  AdminLoop second;
  ASSERT_EQ(second.start(AdminContext{}, control), "");
  EXPECT_EQ(unixSocket(path, requestText("GET", "/ready")).first, 200);
}

}  // namespace
}  // namespace remora::admin
