#include "admin/admin_server.h"

#include "kernel/lazy_timer.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string_view>
#include <utility>

#include "admin/config_json.h"
#include "config/loader.h"
#include "stats/collector.h"
#include "stats/stats.h"

namespace remora::admin {
namespace {

struct EvhttpDeleter {
  void operator()(evhttp* h) const { evhttp_free(h); }
};

constexpr std::string_view kEndpointList =
    "endpoints:\n  /ready\n  /healthz\n  /metrics\n  /config[?format=yaml]\n  /clusters\n"
    "  /plugins\n";

// Sends `body` with `code`. evhttp 2.1 would send a body even in reply to HEAD, so the body is
// left out here; Content-Length still says what a GET would carry.
void reply(evhttp_request* req, int code, const char* reason, std::string_view content_type,
           std::string_view body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", std::string(content_type).c_str());
  evhttp_add_header(headers, "Content-Length", std::to_string(body.size()).c_str());
  evhttp_add_header(headers, "Cache-Control", "no-cache");
  evbuffer* buf = evbuffer_new();
  if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
    evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(req, code, reason, buf);
  evbuffer_free(buf);
}

void replyText(evhttp_request* req, int code, const char* reason, std::string_view body) {
  reply(req, code, reason, "text/plain; charset=utf-8", body);
}

std::string queryParam(const evhttp_uri* uri, const char* name) {
  const char* query = uri ? evhttp_uri_get_query(uri) : nullptr;
  if (!query) return {};
  evkeyvalq params;
  if (evhttp_parse_query_str(query, &params) != 0) return {};
  const char* v = evhttp_find_header(&params, name);
  std::string out = v ? v : "";
  evhttp_clear_headers(&params);
  return out;
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
    static const std::map<std::string, Handler, std::less<>> kRoutes = {
        {"/ready", &Impl::ready},   {"/healthz", &Impl::healthz},   {"/metrics", &Impl::metrics},
        {"/config", &Impl::config}, {"/clusters", &Impl::clusters}, {"/plugins", &Impl::plugins},
    };
    auto it = kRoutes.find(path);
    if (it == kRoutes.end()) {
      replyText(req, HTTP_NOTFOUND, "Not Found", "not found\n" + std::string(kEndpointList));
      return;
    }
    const evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
      evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
      replyText(req, HTTP_BADMETHOD, "Method Not Allowed", "method not allowed\n");
      return;
    }
    (this->*(it->second))(req, uri);
  }

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
      for (const auto& e : c.endpoints) {
        const std::string address = addressString(e);
        auto it = gauges.find({c.name, address});
        const auto [active, idle] =
            it == gauges.end() ? std::pair<int64_t, int64_t>{0, 0} : it->second;
        // Health checking is not there yet: an endpoint is healthy unless a filter ejected it.
        auto ej = ejected_until.find({c.name, address});
        const uint64_t now = LazyTimer::nowMs();
        const bool ejected = ej != ejected_until.end() && ej->second > now;
        nlohmann::json ep = {{"address", address},
                             {"state", ejected ? "ejected" : "healthy"},
                             {"cx_active", active},
                             {"cx_idle", idle}};
        if (c.protocol == config::UpstreamProtocol::kHttp2) {
          auto st = streams.find({c.name, address});
          ep["streams_active"] = st == streams.end() ? 0 : st->second;
        }
        if (ejected)
          ep["reason"] = "outlier ejection for " + std::to_string(ej->second - now) + " ms";
        endpoints.push_back(std::move(ep));
      }
      list.push_back(
          {{"name", c.name},
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
