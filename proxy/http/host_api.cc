#include "http/host_api.h"

#include <spdlog/spdlog.h>
#include <sys/time.h>
#include <time.h>

#include <cstddef>
#include <cstring>

#include "http/callout.h"
#include "http/proxy_stream.h"
#include "plugin/event_bus.h"
#include "plugin/plugin_metrics.h"
#include "plugin/plugin_scope.h"

namespace remora::plugin {
namespace {

using http::HeaderMap;
using http::MessageHead;

inline std::string_view sv(remora_str_t s) {
  return {s.data, s.len};
}
inline remora_str_t rs(std::string_view s) {
  return {s.data(), s.size()};
}
inline http::ProxyStream& stream(remora_stream_t* s) {
  return *s->stream;
}

HeaderMap* headers(remora_stream_t* s, remora_headers_kind_t kind) {
  http::ProxyStream& st = stream(s);
  switch (kind) {
    case REMORA_REQUEST_HEADERS:
      return st.requestHead() ? &st.requestHead()->headers : nullptr;
    case REMORA_RESPONSE_HEADERS:
      return st.responseHead() ? &st.responseHead()->headers : nullptr;
    case REMORA_REQUEST_TRAILERS:
      return st.requestTrailers();
    case REMORA_RESPONSE_TRAILERS:
      return st.responseTrailers();
  }
  return nullptr;
}

int headerGet(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name,
              remora_str_t* out) {
  HeaderMap* h = headers(s, kind);
  if (h == nullptr) return 0;
  auto v = h->get(sv(name));
  if (!v) return 0;
  *out = rs(*v);
  return 1;
}

size_t headerCount(remora_stream_t* s, remora_headers_kind_t kind) {
  HeaderMap* h = headers(s, kind);
  if (h == nullptr) return 0;
  size_t n = 0;
  for (const auto& e : h->entries()) n += !e.removed;
  return n;
}

int headerAt(remora_stream_t* s, remora_headers_kind_t kind, size_t i, remora_header_t* out) {
  HeaderMap* h = headers(s, kind);
  if (h == nullptr) return 0;
  for (const auto& e : h->entries()) {
    if (e.removed) continue;
    if (i-- == 0) {
      *out = {rs(h->name(e)), rs(h->value(e))};
      return 1;
    }
  }
  return 0;
}

// Names and values from plugins are checked like a client's: a filter cannot smuggle.
bool validHeader(remora_str_t name, remora_str_t value) {
  return http::isValidHeaderName(sv(name)) && http::isValidHeaderValue(sv(value));
}

void headerSet(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name,
               remora_str_t value) {
  HeaderMap* h = headers(s, kind);
  if (h && validHeader(name, value)) h->set(sv(name), sv(value));
}

void headerAdd(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name,
               remora_str_t value) {
  HeaderMap* h = headers(s, kind);
  if (h && validHeader(name, value)) h->add(sv(name), sv(value));
}

size_t headerRemove(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name) {
  HeaderMap* h = headers(s, kind);
  return h ? h->remove(sv(name)) : 0;
}

remora_str_t requestMethod(remora_stream_t* s) {
  MessageHead* h = stream(s).requestHead();
  return h ? rs(http_method_str(h->method)) : remora_str_t{"", 0};
}

remora_str_t requestPath(remora_stream_t* s) {
  MessageHead* h = stream(s).requestHead();
  return h ? rs(h->url) : remora_str_t{"", 0};
}

remora_str_t requestAuthority(remora_stream_t* s) {
  remora_str_t out{"", 0};
  headerGet(s, REMORA_REQUEST_HEADERS, rs("host"), &out);
  return out;
}

remora_str_t downstreamAddress(remora_stream_t* s) {
  return rs(stream(s).peerAddress());
}

remora_str_t listenerName(remora_stream_t* s) {
  const http::ListenerRuntime* rt = stream(s).runtime();
  return rt ? rs(rt->config.name) : remora_str_t{"", 0};
}

int responseStatus(remora_stream_t* s) {
  return stream(s).responseStatus();
}
uint64_t requestBytes(remora_stream_t* s) {
  return stream(s).requestBytes();
}
uint64_t responseBytes(remora_stream_t* s) {
  return stream(s).responseBytes();
}
remora_str_t upstreamAddress(remora_stream_t* s) {
  return rs(stream(s).upstreamAddress());
}

remora_str_t responseFlags(remora_stream_t* s) {
  const std::string& f = stream(s).responseFlags();
  return f.empty() ? rs("-") : rs(f);
}

uint64_t streamStartUs(remora_stream_t* s) {
  return stream(s).startUnixMicros();
}

int sendLocalReply(remora_stream_t* s, int status, remora_str_t body,
                   const remora_header_t* headers, size_t header_count) {
  http::ProxyStream& st = stream(s);
  if (!st.active() || st.responseStarted() || status < 200 || status > 599) return 0;
  st.sendLocalReply(status, sv(body), false, "LR", headers, header_count);
  return 1;
}

void resume(remora_stream_t* s) {
  stream(s).resumeFilters();
}

int setRoute(remora_stream_t* s, const remora_route_t* route, char* err, size_t err_len) {
  std::string why;
  if (route == nullptr || route->struct_size < offsetof(remora_route_t, path)) {
    why = "invalid route struct";
  } else if (stream(s).setRoute(*route, why)) {
    return 1;
  }
  if (err && err_len) std::snprintf(err, err_len, "%s", why.c_str());
  return 0;
}

void setUpstreamLimits(remora_stream_t* s, const remora_upstream_limits_t* limits) {
  if (limits == nullptr) return;
  // A field the plugin's struct lacks is no bound (and is not read).
  auto has = [&](size_t offset) { return limits->struct_size >= offset + sizeof(uint32_t); };
  uint32_t max_pending = REMORA_NO_LIMIT, max_retries = REMORA_NO_LIMIT;
  if (has(offsetof(remora_upstream_limits_t, max_pending))) max_pending = limits->max_pending;
  if (has(offsetof(remora_upstream_limits_t, max_retries))) max_retries = limits->max_retries;
  stream(s).setUpstreamLimits(max_pending, max_retries);
}

uint32_t upstreamLimitsHit(remora_stream_t* s) {
  return stream(s).upstreamLimitsHit();
}

void metadataSet(remora_stream_t* s, remora_str_t key, remora_str_t value) {
  auto& md = stream(s).metadata();
  for (auto& [k, v] : md) {
    if (k == sv(key)) {
      v.assign(value.data, value.len);
      return;
    }
  }
  md.emplace_back(std::string(sv(key)), std::string(sv(value)));
}

int metadataGet(remora_stream_t* s, remora_str_t key, remora_str_t* out) {
  // Kernel-provided keys are computed, so routing a request allocates nothing for them.
  if (sv(key) == "remora.cluster") {
    const std::string* name = stream(s).clusterName();
    if (name == nullptr) return 0;
    *out = rs(*name);
    return 1;
  }
  if (sv(key) == "remora.original_dst") {
    const http::OriginalDst* dst = stream(s).originalDst();
    if (dst == nullptr) return 0;
    *out = rs(dst->text);
    return 1;
  }
  if (sv(key) == "remora.peer.identity" || sv(key) == "remora.peer.cert_sha256") {
    const network::PeerIdentity* peer = stream(s).peerIdentity();
    if (peer == nullptr) return 0;
    *out = rs(sv(key) == "remora.peer.identity" ? peer->identity : peer->cert_sha256);
    return 1;
  }
  if (sv(key) == "remora.original_path") {
    // The target as the client sent it, before normalization or a route's rewrite.
    const MessageHead* h = stream(s).requestHead();
    if (h == nullptr) return 0;
    *out = rs(h->original_url.empty() ? h->url : h->original_url);
    return 1;
  }
  if (sv(key) == "remora.grpc_status") {
    std::string_view status = stream(s).grpcStatusText();
    if (status.empty()) return 0;
    *out = rs(status);
    return 1;
  }
  if (sv(key) == "remora.chain") {
    const http::ListenerRuntime* rt = stream(s).runtime();
    if (rt == nullptr || !rt->chain) return 0;
    *out = rs(rt->chain->description);
    return 1;
  }
  for (const auto& [k, v] : stream(s).metadata()) {
    if (k == sv(key)) {
      *out = rs(v);
      return 1;
    }
  }
  return 0;
}

upstream::WorkerCluster* clusterOf(remora_stream_t* s, remora_str_t name) {
  const http::ListenerRuntime* rt = stream(s).runtime();
  if (rt == nullptr) return nullptr;
  auto it = rt->clusters.find(std::string(sv(name)));
  return it == rt->clusters.end() ? nullptr : it->second.get();
}

size_t clusterEndpointCount(remora_stream_t* s, remora_str_t cluster) {
  upstream::WorkerCluster* c = clusterOf(s, cluster);
  return c ? c->endpointCount() : 0;
}

int clusterEndpointAt(remora_stream_t* s, remora_str_t cluster, size_t i,
                      remora_endpoint_info_t* out) {
  upstream::WorkerCluster* c = clusterOf(s, cluster);
  if (c == nullptr || i >= c->endpointCount() || out == nullptr) return 0;
  upstream::EndpointPool& ep = c->endpoint(i);
  out->struct_size = sizeof(remora_endpoint_info_t);
  out->address = rs(ep.name());
  out->active_requests = ep.activeRequests();
  out->ejected = ep.ejected() ? 1 : 0;
  return 1;
}

void ejectEndpoint(remora_str_t cluster, remora_str_t address, uint32_t ms) {
  const HostContext* host = currentHost();
  if (host && host->eject) host->eject(std::string(sv(cluster)), std::string(sv(address)), ms);
}

void log(remora_log_level_t level, remora_str_t message) {
  static const spdlog::level::level_enum kLevels[] = {spdlog::level::trace, spdlog::level::debug,
                                                      spdlog::level::info, spdlog::level::warn,
                                                      spdlog::level::err};
  auto lvl = kLevels[level >= 0 && level <= REMORA_LOG_ERROR ? level : REMORA_LOG_INFO];
  std::string_view who = currentPlugin();
  spdlog::log(lvl, "[filter {}] {}", who.empty() ? "?" : who, sv(message));
}

int32_t metricDefine(remora_config_ctx_t* c, remora_metric_kind_t kind, remora_str_t name,
                     remora_str_t help, remora_str_t label_name) {
  if (c == nullptr || c->metrics == nullptr) return -1;
  auto r = c->metrics->define(c->generation->name(), kind, std::string(sv(name)),
                              std::string(sv(help)), std::string(sv(label_name)));
  if (!r) {
    c->error = r.error();
    spdlog::warn("[filter {}] metric_define: {}", c->generation->name(), r.error());
    return -1;
  }
  return *r;
}

int32_t metricSeries(remora_config_ctx_t* c, int32_t metric, remora_str_t label_value) {
  if (c == nullptr || c->metrics == nullptr) return -1;
  auto r = c->metrics->series(metric, std::string(sv(label_value)));
  if (!r) {
    c->error = r.error();
    spdlog::warn("[filter {}] metric_series: {}", c->generation->name(), r.error());
    return -1;
  }
  return *r;
}

// The calls below carry no context of their own: they reach the services of the kernel whose
// plugin code is running on this thread (PluginScope), and do nothing outside plugin code.
PluginMetrics* metrics() {
  const HostContext* host = currentHost();
  return host ? host->metrics : nullptr;
}

EventBus* bus() {
  const HostContext* host = currentHost();
  return host ? host->bus : nullptr;
}

void metricAdd(remora_stream_t* s, int32_t series, int64_t delta) {
  if (PluginMetrics* m = metrics()) m->add(stream(s).dispatcher().workerIndex(), series, delta);
}

void metricObserve(remora_stream_t* s, int32_t series, double value) {
  if (PluginMetrics* m = metrics()) m->observe(stream(s).dispatcher().workerIndex(), series, value);
}

void publish(remora_str_t topic, remora_str_t payload) {
  if (EventBus* b = bus()) b->publish(std::string(sv(topic)), std::string(sv(payload)));
}

uint64_t subscribe(remora_str_t topic, remora_event_cb cb, void* user) {
  EventBus* b = bus();
  if (b == nullptr || cb == nullptr) return 0;
  // Deliveries run outside any hook: remember who subscribed, so its log lines name it and its
  // host calls reach the same kernel.
  return b->subscribe(std::string(sv(topic)),
                      [cb, user, who = std::string(currentPlugin()), host = currentHost()](
                          const std::string& t, const std::string& p) {
                        PluginScope scope(who, host);
                        cb(user, rs(t), rs(p));
                      });
}

void unsubscribe(uint64_t id) {
  if (EventBus* b = bus()) b->unsubscribe(id);
}

int httpCall(remora_stream_t* s, remora_str_t cluster, remora_str_t method, remora_str_t path,
             const remora_header_t* headers, size_t header_count, remora_str_t body,
             uint32_t timeout_ms, remora_callout_cb cb, void* user) {
  upstream::WorkerCluster* c = clusterOf(s, cluster);
  if (c == nullptr || cb == nullptr) return 0;
  return startCallout(stream(s), *c, sv(method), sv(path), headers, header_count, sv(body),
                      timeout_ms, cb, user)
             ? 1
             : 0;
}

uint64_t nowUnixUs() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return uint64_t(tv.tv_sec) * 1000000 + uint64_t(tv.tv_usec);
}

uint64_t nowMonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

const remora_host_api_t kHostApi = {
    sizeof(remora_host_api_t),
    REMORA_FILTER_ABI_MAJOR,
    REMORA_FILTER_ABI_MINOR,
    headerGet,
    headerCount,
    headerAt,
    headerSet,
    headerAdd,
    headerRemove,
    requestMethod,
    requestPath,
    requestAuthority,
    downstreamAddress,
    listenerName,
    responseStatus,
    requestBytes,
    responseBytes,
    upstreamAddress,
    responseFlags,
    streamStartUs,
    sendLocalReply,
    resume,
    setRoute,
    metadataSet,
    metadataGet,
    clusterEndpointCount,
    clusterEndpointAt,
    ejectEndpoint,
    log,
    metricDefine,
    metricSeries,
    metricAdd,
    metricObserve,
    publish,
    subscribe,
    unsubscribe,
    httpCall,
    nowUnixUs,
    nowMonotonicUs,
    setUpstreamLimits,
    upstreamLimitsHit,
};

}  // namespace

const remora_host_api_t* hostApi() {
  return &kHostApi;
}

}  // namespace remora::plugin
