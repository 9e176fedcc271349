#include "admin/admin_server.h"

#include "config/cluster_fields.h"

#include "event/lazy_timer.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <string_view>
#include <utility>

#include "admin/admin_http.h"
#include "admin/config_endpoints.h"
#include "admin/config_json.h"
#include "config/loader.h"
#include "kernel/config_service.h"
#include "stats/collector.h"
#include "stats/stats.h"

namespace remora::admin {
namespace {

struct EvhttpDeleter {
  void operator()(evhttp* h) const { evhttp_free(h); }
};

constexpr std::string_view kEndpointList =
    "endpoints:\n  /ready\n  /healthz\n  /metrics\n  /config[?format=yaml] (GET, PUT)\n"
    "  /config/history\n  /config/rollback[?version=N] (POST)\n  /clusters\n  /plugins\n"
    "  /drain (POST)\n  /logging[?level=L] (GET, POST)\n";

constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

// Which methods each path takes; HEAD goes with GET.
struct Route {
  enum Methods { kGet = 1, kPost = 2, kPut = 4 };
  int methods;
  const char* allow;
};

// UTC wall-clock time `ms` from now, ISO 8601 ("2026-11-25T13:40:05Z"), for "ejected until".
std::string wallClockIn(uint64_t ms) {
  const auto t = std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

struct AdminServer::Impl {
  AdminContext context;
  std::unique_ptr<evhttp, EvhttpDeleter> http;
  uint16_t port = 0;

  static void onRequest(evhttp_request* req, void* arg) { static_cast<Impl*>(arg)->handle(req); }

  void handle(evhttp_request* req) {
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
    const char* raw_path = uri ? evhttp_uri_get_path(uri) : nullptr;
    const std::string path = raw_path && *raw_path ? raw_path : "/";

    using Handler = void (Impl::*)(evhttp_request*, const evhttp_uri*);
    static const std::map<std::string, std::pair<Handler, Route>, std::less<>> kRoutes = {
        {"/ready", {&Impl::ready, {Route::kGet, "GET, HEAD"}}},
        {"/healthz", {&Impl::healthz, {Route::kGet, "GET, HEAD"}}},
        {"/metrics", {&Impl::metrics, {Route::kGet, "GET, HEAD"}}},
        {"/config", {&Impl::config, {Route::kGet | Route::kPut, "GET, HEAD, PUT"}}},
        {"/config/history", {&Impl::history, {Route::kGet, "GET, HEAD"}}},
        {"/config/rollback", {&Impl::rollback, {Route::kPost, "POST"}}},
        {"/clusters", {&Impl::clusters, {Route::kGet, "GET, HEAD"}}},
        {"/plugins", {&Impl::plugins, {Route::kGet, "GET, HEAD"}}},
        {"/drain", {&Impl::drain, {Route::kPost, "POST"}}},
        {"/logging", {&Impl::logging, {Route::kGet | Route::kPost, "GET, HEAD, POST"}}},
    };
    auto it = kRoutes.find(path);
    if (it == kRoutes.end()) {
      replyText(req, HTTP_NOTFOUND, "Not Found", "not found\n" + std::string(kEndpointList));
      return;
    }
    const auto& [handler, route] = it->second;
    const evhttp_cmd_type method = evhttp_request_get_command(req);
    const int bit = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD ? Route::kGet
                    : method == EVHTTP_REQ_POST                           ? Route::kPost
                    : method == EVHTTP_REQ_PUT                            ? Route::kPut
                                                                          : 0;
    if ((route.methods & bit) == 0) {
      evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", route.allow);
      replyText(req, HTTP_BADMETHOD, "Method Not Allowed", "method not allowed\n");
      return;
    }
    (this->*handler)(req, uri);
  }

  bool needService(evhttp_request* req) {
    if (context.config_service) return true;
    replyText(req, HTTP_SERVUNAVAIL, "Service Unavailable", "no config service\n");
    return false;
  }

  void history(evhttp_request* req, const evhttp_uri*) {
    if (needService(req)) configHistory(req, *context.config_service);
  }

  void rollback(evhttp_request* req, const evhttp_uri* uri) {
    if (needService(req)) configRollback(req, uri, *context.config_service);
  }

  void drain(evhttp_request* req, const evhttp_uri*) { admin::drain(req, context.drain); }

  void logging(evhttp_request* req, const evhttp_uri* uri) { admin::logging(req, uri); }

  void ready(evhttp_request* req, const evhttp_uri*) {
    if (!context.ready || context.ready()) {
      replyText(req, HTTP_OK, "OK", "ready\n");
    } else {
      replyText(req, HTTP_SERVUNAVAIL, "Service Unavailable", "draining\n");
    }
  }

  void healthz(evhttp_request* req, const evhttp_uri*) { replyText(req, HTTP_OK, "OK", "ok\n"); }

  void metrics(evhttp_request* req, const evhttp_uri*) {
    if (!context.registry) {
      replyText(req, HTTP_SERVUNAVAIL, "Service Unavailable", "no metrics registry\n");
      return;
    }
    reply(req, HTTP_OK, "OK", "text/plain; version=0.0.4", stats::serialize(*context.registry));
  }

  void config(evhttp_request* req, const evhttp_uri* uri) {
    if (evhttp_request_get_command(req) == EVHTTP_REQ_PUT) {
      if (needService(req)) putConfig(req, *context.config_service);
      return;
    }
    if (context.config_service)
      addHeader(req, "ETag", "\"" + std::to_string(context.config_service->version()) + "\"");
    std::shared_ptr<const config::Config> cfg = context.config ? context.config() : nullptr;
    if (!cfg) {
      replyText(req, HTTP_SERVUNAVAIL, "Service Unavailable", "no config in service\n");
      return;
    }
    const std::string format = queryParam(uri, "format");
    if (format.empty() || format == "json") {
      reply(req, HTTP_OK, "OK", "application/json", toJson(*cfg).dump(2) + "\n");
    } else if (format == "yaml") {
      reply(req, HTTP_OK, "OK", "application/yaml", config::toYaml(*cfg));
    } else {
      replyText(req, HTTP_BADREQUEST, "Bad Request", "format: expected json or yaml\n");
    }
  }

  void plugins(evhttp_request* req, const evhttp_uri*) {
    nlohmann::json body = context.plugins ? context.plugins() : nlohmann::json::object();
    reply(req, HTTP_OK, "OK", "application/json", body.dump(2) + "\n");
  }

  void clusters(evhttp_request* req, const evhttp_uri*) {
    std::shared_ptr<const config::Config> cfg = context.config ? context.config() : nullptr;
    if (!cfg) {
      replyText(req, HTTP_SERVUNAVAIL, "Service Unavailable", "no config in service\n");
      return;
    }
    // (cluster, endpoint) → {active, idle}, summed over workers; HTTP/2 streams alike.
    std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> gauges;
    std::map<std::pair<std::string, std::string>, int64_t> streams;
    std::map<std::pair<std::string, std::string>, uint64_t> ejected_until;
    if (context.stats) {
      context.stats->forEachCluster(
          [&](const std::string& name, size_t, const stats::ClusterStats& s) {
            for (const auto& [address, e] : s.endpoints) {
              auto& g = gauges[{name, address}];
              g.first += e->cx_active.value();
              g.second += e->cx_idle.value();
              streams[{name, address}] += e->streams_active.value();
              uint64_t until = e->ejected_until_ms.load(std::memory_order_relaxed);
              auto& u = ejected_until[{name, address}];
              u = std::max(u, until);
            }
          });
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : cfg->clusters) {
      nlohmann::json endpoints = nlohmann::json::array();
      const bool discovered =
          c.type == config::ClusterType::kEtcd || c.type == config::ClusterType::kDns;
      std::shared_ptr<const std::vector<config::SocketAddress>> found;
      if (discovered && context.discovered) found = context.discovered(c.name);
      static const std::vector<config::SocketAddress> kNone;
      const auto& addresses = discovered ? (found ? *found : kNone) : c.endpoints;
      for (const auto& e : addresses) {
        const std::string address = addressString(e);
        auto it = gauges.find({c.name, address});
        const auto [active, idle] =
            it == gauges.end() ? std::pair<int64_t, int64_t>{0, 0} : it->second;
        // Out when active health checking failed it or a filter ejected it (or both).
        auto ej = ejected_until.find({c.name, address});
        const uint64_t now = LazyTimer::nowMs();
        const bool ejected = ej != ejected_until.end() && ej->second > now;
        nlohmann::json health =
            context.endpoint_health ? context.endpoint_health(c.name, address) : nullptr;
        const bool unhealthy = health.is_object() && !health.value("healthy", true);
        nlohmann::json ep = {{"address", address},
                             {"state", unhealthy ? "unhealthy"
                                       : ejected ? "ejected"
                                                 : "healthy"},
                             {"cx_active", active},
                             {"cx_idle", idle}};
        if (c.protocol == config::UpstreamProtocol::kHttp2) {
          auto st = streams.find({c.name, address});
          ep["streams_active"] = st == streams.end() ? 0 : st->second;
        }
        std::string reason;
        if (unhealthy) reason = health.value("reason", "health check failed");
        if (ejected) {
          if (!reason.empty()) reason += "; ";
          reason += "outlier ejection for " + std::to_string(ej->second - now) + " ms (until " +
                    wallClockIn(ej->second - now) + ")";
        }
        if (!reason.empty()) ep["reason"] = reason;
        if (health.is_object()) ep["health_check"] = std::move(health);
        endpoints.push_back(std::move(ep));
      }
      list.push_back(
          {{"name", c.name},
           {"type", config::clusterTypeName(c.type)},
           {"lb_policy", lbPolicyName(c.lb_policy)},
           {"protocol", c.protocol == config::UpstreamProtocol::kHttp2 ? "http2" : "http1"},
           {"endpoints", std::move(endpoints)}});
    }
    nlohmann::json body = {{"clusters", std::move(list)}};
    reply(req, HTTP_OK, "OK", "application/json", body.dump(2) + "\n");
  }
};

Result<std::unique_ptr<AdminServer>> AdminServer::create(event_base* base,
                                                         const config::SocketAddress& address,
                                                         AdminContext context) {
  std::unique_ptr<AdminServer> server(new AdminServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.context = std::move(context);
  impl.http.reset(evhttp_new(base));
  if (!impl.http) return Error{"admin: cannot create the HTTP server"};

  // Every method reaches the handler so that a wrong one gets 405, not evhttp's 501.
  evhttp_set_allowed_methods(impl.http.get(), EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                  EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                                  EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                                  EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
  evhttp_set_gencb(impl.http.get(), &Impl::onRequest, &impl);
  // A pushed config is a few KiB; far above that is a mistake, not a config.
  evhttp_set_max_body_size(impl.http.get(), kMaxBodyBytes);

  errno = 0;
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(impl.http.get(), address.host.c_str(), address.port);
  if (!bound) {
    const int err = errno;
    return Error{"admin.address " + addressString(address) + ": " +
                 (err ? std::strerror(err) : "cannot resolve or bind")};
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return Error{"admin.address " + addressString(address) + ": " + std::strerror(errno)};
  impl.port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return server;
}

// Frees the evhttp server, closing the listening socket and any open admin connections; call it
// on the thread that runs `base`, or once that loop has stopped.
AdminServer::~AdminServer() = default;

uint16_t AdminServer::port() const {
  return impl_->port;
}

}  // namespace remora::admin
