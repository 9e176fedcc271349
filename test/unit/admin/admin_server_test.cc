#include "admin/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "common/c_handles.h"
#include "event/lazy_timer.h"
#include "stats/collector.h"
#include "stats/stats.h"
#include "unit/admin/admin_loop.h"

namespace remora::admin {
namespace {

struct HttpResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;

  bool hasHeader(const std::string& line) const {
    return head.find("\r\n" + line + "\r\n") != std::string::npos;
  }
};

// A blocking HTTP/1.0 exchange: the server closes the connection after the response, so the
// response is everything read until EOF. Bounded by 5 s socket timeouts.
HttpResponse httpRequest(uint16_t port, const std::string& method, const std::string& target) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  if (!fd.valid()) throw std::runtime_error("socket");
  timeval tv{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
    throw std::runtime_error("connect");
  const std::string request = method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    throw std::runtime_error("send");
  std::string raw;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) throw std::runtime_error("recv (timeout?)");
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  HttpResponse r;
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 7, "HTTP/1.") != 0)
    throw std::runtime_error("bad response: " + raw);
  r.head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  r.status = std::stoi(raw.substr(9, 3));
  return r;
}

HttpResponse get(uint16_t port, const std::string& target) {
  return httpRequest(port, "GET", target);
}

// An admin server on a real event_base, looping on its own thread as the main thread would.
class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = std::make_shared<config::Config>();
    cfg->workers = 2;
    config::Cluster backend;
    backend.name = "backend";
    backend.lb_policy = config::LbPolicy::kLeastRequest;
    backend.endpoints = {{"127.0.0.1", 8080}, {"127.0.0.1", 8081}};
    cfg->clusters.push_back(backend);
    config::Listener ingress;
    ingress.name = "ingress";
    ingress.address = {"127.0.0.1", 15001};
    ingress.routes = {{"/", "backend"}};
    cfg->listeners.push_back(ingress);
    config_ = cfg;

    for (size_t w = 0; w < 2; ++w) {
      // Endpoint keys are SocketAddress::str() form.
      store_.endpoint(w, "backend", "127.0.0.1:8080").cx_active.add(static_cast<int64_t>(w) + 1);
      store_.endpoint(w, "backend", "127.0.0.1:8080").cx_idle.add(2);
      store_.listener(w, "ingress").downstream_cx_total.inc(5);
    }

    ASSERT_TRUE(admin_.base());
    AdminContext context;
    context.ready = [this] { return ready_.load(); };
    context.config = [this] { return config_; };
    context.registry = stats::makeRegistry(store_);
    context.stats = &store_;
    // 127.0.0.1:8081 failed its health checks; 127.0.0.1:8080 is not health checked.
    context.endpoint_health = [](const std::string& cluster, const std::string& address) {
      if (cluster != "backend" || address != "127.0.0.1:8081") return nlohmann::json();
      return nlohmann::json({{"healthy", false},
                             {"reason", "health check failed: status 503"},
                             {"last_result", "status 503"}});
    };
    ASSERT_EQ(admin_.start(std::move(context)), "");
  }

  uint16_t port() const { return admin_.port(); }

  stats::Store store_{2};
  std::shared_ptr<const config::Config> config_;
  std::atomic<bool> ready_{true};
  AdminLoop admin_;
};

TEST_F(AdminServerTest, Healthz) {
  const auto r = get(port(), "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(AdminServerTest, ReadyFlipsTo503WhileDraining) {
  auto r = get(port(), "/ready");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready\n");
  ready_ = false;
  r = get(port(), "/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "draining\n");
  ready_ = true;
  EXPECT_EQ(get(port(), "/ready").status, 200);
}

TEST_F(AdminServerTest, MetricsInPrometheusTextFormat) {
  const auto r = get(port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.hasHeader("Content-Type: text/plain; version=0.0.4")) << r.head;
  EXPECT_NE(r.body.find("remora_build_info{version=\"" REMORA_VERSION "\"} 1\n"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("remora_downstream_connections_total{listener=\"ingress\"} 10\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("remora_upstream_connections_active{cluster=\"backend\",endpoint="
                        "\"127.0.0.1:8080\"} 3\n"),
            std::string::npos);
}

TEST_F(AdminServerTest, ConfigAsJsonByDefault) {
  const auto r = get(port(), "/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.hasHeader("Content-Type: application/json")) << r.head;
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["workers"], 2);
  EXPECT_EQ(j["admin"]["address"], "127.0.0.1:9901");
  EXPECT_EQ(j["listeners"][0]["name"], "ingress");
  EXPECT_EQ(j["listeners"][0]["address"], "127.0.0.1:15001");
  EXPECT_EQ(j["clusters"][0]["lb_policy"], "least_request");
  EXPECT_EQ(j["clusters"][0]["endpoints"][1], "127.0.0.1:8081");
  EXPECT_EQ(get(port(), "/config?format=json").body, r.body);
}

TEST_F(AdminServerTest, ConfigRejectsUnknownFormat) {
  const auto r = get(port(), "/config?format=xml");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "format: expected json or yaml\n");
}

TEST_F(AdminServerTest, ClustersSumsEndpointGaugesOverWorkers) {
  const auto r = get(port(), "/clusters");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.hasHeader("Content-Type: application/json")) << r.head;
  const auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["clusters"].size(), 1u);
  const auto& c = j["clusters"][0];
  EXPECT_EQ(c["name"], "backend");
  EXPECT_EQ(c["lb_policy"], "least_request");
  ASSERT_EQ(c["endpoints"].size(), 2u);
  EXPECT_EQ(
      c["endpoints"][0],
      nlohmann::json(
          {{"address", "127.0.0.1:8080"}, {"state", "healthy"}, {"cx_active", 3}, {"cx_idle", 4}}));
  // An endpoint no worker has used yet reports zeros.
  EXPECT_EQ(c["endpoints"][1]["address"], "127.0.0.1:8081");
  EXPECT_EQ(c["endpoints"][1]["cx_active"], 0);
  EXPECT_EQ(c["endpoints"][1]["cx_idle"], 0);
}

TEST_F(AdminServerTest, ClustersSaysWhyAnEndpointIsOut) {
  auto endpoint = [this](size_t i) {
    return nlohmann::json::parse(get(port(), "/clusters").body)["clusters"][0]["endpoints"][i];
  };
  nlohmann::json e = endpoint(1);
  EXPECT_EQ(e["state"], "unhealthy") << e.dump();
  EXPECT_EQ(e["reason"], "health check failed: status 503");
  EXPECT_EQ(e["health_check"]["last_result"], "status 503");
  EXPECT_FALSE(endpoint(0).contains("health_check"));

  // Ejected by outlier detection as well (on one worker): both reasons, with the deadline.
  store_.endpoint(1, "backend", "127.0.0.1:8081")
      .ejected_until_ms.store(LazyTimer::nowMs() + 60000, std::memory_order_relaxed);
  e = endpoint(1);
  EXPECT_EQ(e["state"], "unhealthy");
  const std::string reason = e["reason"];
  EXPECT_EQ(reason.rfind("health check failed: status 503; outlier ejection for ", 0), 0u)
      << reason;
  EXPECT_NE(reason.find(" ms (until 20"), std::string::npos) << reason;
  EXPECT_EQ(reason.back(), ')') << reason;
}

TEST_F(AdminServerTest, UnknownPathIs404WithTheEndpointList) {
  const auto r = get(port(), "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("/metrics"), std::string::npos);
  EXPECT_NE(r.body.find("/clusters"), std::string::npos);
}

TEST_F(AdminServerTest, OtherMethodsAre405) {
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    const auto r = httpRequest(port(), method, "/ready");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_TRUE(r.hasHeader("Allow: GET, HEAD")) << r.head;
  }
}

TEST_F(AdminServerTest, HeadHasNoBody) {
  const auto r = httpRequest(port(), "HEAD", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.hasHeader("Content-Length: 3")) << r.head;
  EXPECT_EQ(r.body, "");
}

TEST_F(AdminServerTest, BindErrorNamesTheField) {
  AdminListener observe;
  observe.address = {"127.0.0.1", port()};
  auto second = AdminServer::create(admin_.base(), observe, AdminContext{});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error(),
            "admin.address 127.0.0.1:" + std::to_string(port()) + ": Address already in use");
  AdminListener control = observe;
  control.role = AdminRole::kControl;
  auto third = AdminServer::create(admin_.base(), control, AdminContext{});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error(), "admin.control.address 127.0.0.1:" + std::to_string(port()) +
                               ": Address already in use");
}

}  // namespace
}  // namespace remora::admin
