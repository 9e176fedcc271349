#include "admin/admin_server.h"

#include "config/cluster_fields.h"

#include "event/lazy_timer.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>
#include <string_view>
#include <utility>

#include "admin/admin_http.h"
#include "admin/admin_listen.h"
#include "admin/config_endpoints.h"
#include "admin/config_json.h"
#include "admin/control_auth.h"
#include "config/loader.h"
#include "kernel/config_service.h"
#include "stats/collector.h"
#include "stats/stats.h"

namespace remora::admin {
namespace {

struct EvhttpDeleter {
  void operator()(evhttp* h) const { evhttp_free(h); }
};

constexpr std::string_view kObserveEndpoints =
    "endpoints:\n  /ready\n  /healthz\n  /metrics\n  /config[?format=yaml]\n  /config/history\n"
    "  /clusters\n  /plugins\n  /certs\n  /logging\n"
    "changes (PUT /config, /config/rollback, /drain, POST /logging) go to the control listener\n";
constexpr std::string_view kControlEndpoints =
    "endpoints:\n  /ready\n  /healthz\n  /metrics\n  /config[?format=yaml] (GET, PUT)\n"
    "  /config/history\n  /config/rollback[?version=N] (POST)\n  /clusters\n  /plugins\n  /certs\n"
    "  /drain (POST)\n  /logging[?level=L] (GET, POST)\n";

constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

// Which methods each path takes on the control listener and, of those, on the observe listener;
// HEAD goes with GET.
struct Route {
  enum Methods { kGet = 1, kPost = 2, kPut = 4 };
  int methods;
  const char* allow;
  int observe_methods;  // only reads: nothing reachable there changes the sidecar
  const char* observe_allow;
};

// The methods that can change the sidecar, for the body of a refusal on the observe listener.
const char* methodName(evhttp_cmd_type method) {
  return method == EVHTTP_REQ_PUT ? "PUT" : "POST";
}

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
  AdminListener listener;
  std::unique_ptr<evhttp, EvhttpDeleter> http;
  uint16_t port = 0;
  prometheus::Counter* auth_missing = nullptr;
  prometheus::Counter* auth_invalid = nullptr;

  static void onRequest(evhttp_request* req, void* arg) { static_cast<Impl*>(arg)->handle(req); }

  bool observe() const { return listener.role == AdminRole::kObserve; }

  // A control listener with a token answers 401 to any request without it, unknown paths too,
  // so a client without the token learns nothing about what is served.
  bool authorized(evhttp_request* req) {
    if (observe() || listener.token.empty()) return true;
    const AuthOutcome outcome = checkBearer(requestHeader(req, "Authorization"), listener.token);
    if (outcome == AuthOutcome::kOk) return true;
    const bool missing = outcome == AuthOutcome::kMissing;
    if (prometheus::Counter* failures = missing ? auth_missing : auth_invalid)
      failures->Increment();
    addHeader(req, "WWW-Authenticate",
              missing ? "Bearer realm=\"remora-admin\""
                      : "Bearer realm=\"remora-admin\", error=\"invalid_token\"");
    replyText(req, 401, "Unauthorized",
              missing ? "this control listener needs Authorization: Bearer <token>\n"
                      : "invalid token\n");
    return false;
  }

  // A change asked of the observe listener: 404 for a path that only changes things (rollback,
  // drain), else 405 (PUT /config, POST /logging); both say where changes go.
  void refuseChange(evhttp_request* req, const std::string& path, const Route& route) {
    const std::string where =
        " changes the sidecar and is served only on the control listener "
        "(admin.control, here " +
        listener.control_hint + "), not on this observe listener\n";
    if (route.observe_methods == 0) {
      replyText(req, HTTP_NOTFOUND, "Not Found", path + where);
      return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", route.observe_allow);
    replyText(req, HTTP_BADMETHOD, "Method Not Allowed",
              std::string(methodName(evhttp_request_get_command(req))) + " " + path + where);
  }

  void handle(evhttp_request* req) {
    if (!authorized(req)) return;
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
    const char* raw_path = uri ? evhttp_uri_get_path(uri) : nullptr;
    const std::string path = raw_path && *raw_path ? raw_path : "/";

    using Handler = void (Impl::*)(evhttp_request*, const evhttp_uri*);
    constexpr int kGet = Route::kGet;
    static const std::map<std::string, std::pair<Handler, Route>, std::less<>> kRoutes = {
        {"/ready", {&Impl::ready, {kGet, "GET, HEAD", kGet, "GET, HEAD"}}},
        {"/healthz", {&Impl::healthz, {kGet, "GET, HEAD", kGet, "GET, HEAD"}}},
        {"/metrics", {&Impl::metrics, {kGet, "GET, HEAD", kGet, "GET, HEAD"}}},
        {"/config", {&Impl::config, {kGet | Route::kPut, "GET, HEAD, PUT", kGet, "GET, HEAD"}}},
        {"/config/history", {&Impl::history, {kGet, "GET, HEAD", kGet, "GET, HEAD"}}},
        {"/config/rollback", {&Impl::rollback, {Route::kPost, "POST", 0, ""}}},
        {"/clusters", {&Impl::clusters, {kGet, "GET, HEAD", kGet, "GET, HEAD"}}},
        {"/plugins", {&Impl::plugins, {kGet, "GET, HEAD", kGet, "GET, HEAD"}}},
        {"/certs", {&Impl::certs, {kGet, "GET, HEAD", kGet, "GET, HEAD"}}},
        {"/drain", {&Impl::drain, {Route::kPost, "POST", 0, ""}}},
        {"/logging", {&Impl::logging, {kGet | Route::kPost, "GET, HEAD, POST", kGet, "GET, HEAD"}}},
    };
    auto it = kRoutes.find(path);
    if (it == kRoutes.end()) {
      replyText(req, HTTP_NOTFOUND, "Not Found",
                "not found\n" + std::string(observe() ? kObserveEndpoints : kControlEndpoints));
      return;
    }
    const auto& [handler, route] = it->second;
    const evhttp_cmd_type method = evhttp_request_get_command(req);
    const int bit = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD ? Route::kGet
                    : method == EVHTTP_REQ_POST                           ? Route::kPost
                    : method == EVHTTP_REQ_PUT                            ? Route::kPut
                                                                          : 0;
    if (observe() && (route.observe_methods == 0 ||
                      ((route.methods & bit) != 0 && (route.observe_methods & bit) == 0))) {
      refuseChange(req, path, route);
      return;
    }
    const int allowed = observe() ? route.observe_methods : route.methods;
    if ((allowed & bit) == 0) {
      evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                        observe() ? route.observe_allow : route.allow);
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

  void certs(evhttp_request* req, const evhttp_uri*) {
    nlohmann::json body = context.certs ? context.certs() : nlohmann::json::object();
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

AdminListener AdminListener::observe(const config::Admin& admin) {
  AdminListener out;
  out.role = AdminRole::kObserve;
  out.address = admin.address;
  const config::AdminControl& control = admin.control;
  out.control_hint =
      control.unix_path.empty() ? control.address.str() : "unix:" + control.unix_path;
  return out;
}

AdminListener AdminListener::control(const config::Admin& admin, std::string token) {
  AdminListener out;
  out.role = AdminRole::kControl;
  out.address = admin.control.address;
  out.unix_path = admin.control.unix_path;
  out.mode = admin.control.mode;
  out.token = std::move(token);
  return out;
}

Result<std::unique_ptr<AdminServer>> AdminServer::create(event_base* base,
                                                         const AdminListener& listener,
                                                         AdminContext context) {
  std::unique_ptr<AdminServer> server(new AdminServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.context = std::move(context);
  impl.listener = listener;
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

  if (listener.role == AdminRole::kControl && impl.context.registry) {
    auto& failures = prometheus::BuildCounter()
                         .Name("remora_admin_auth_failures_total")
                         .Help("Control listener requests refused with 401, by reason")
                         .Register(*impl.context.registry);
    impl.auth_missing = &failures.Add({{"reason", "missing"}});
    impl.auth_invalid = &failures.Add({{"reason", "invalid"}});
  }

  if (!listener.unix_path.empty()) {
    Status bound =
        bindUnix(base, impl.http.get(), "admin.control.unix", listener.unix_path, listener.mode);
    if (!bound) return Error{bound.error()};
    return server;
  }
  const std::string field =
      listener.role == AdminRole::kObserve ? "admin.address" : "admin.control.address";
  Result<uint16_t> port = bindTcp(impl.http.get(), field, listener.address);
  if (!port) return Error{port.error()};
  impl.port = port.value();
  return server;
}

// Frees the evhttp server, closing the listening socket and any open admin connections; call it
// on the thread that runs `base`, or once that loop has stopped. A Unix socket's file goes too.
AdminServer::~AdminServer() {
  if (!impl_) return;
  impl_->http.reset();
  if (!impl_->listener.unix_path.empty()) ::unlink(impl_->listener.unix_path.c_str());
}

uint16_t AdminServer::port() const {
  return impl_->port;
}

std::string AdminServer::where() const {
  const AdminListener& l = impl_->listener;
  if (!l.unix_path.empty()) return "unix:" + l.unix_path;
  return config::SocketAddress{l.address.host, impl_->port}.str();
}

}  // namespace remora::admin
