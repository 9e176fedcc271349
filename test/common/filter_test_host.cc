#include "common/filter_test_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace remora::test {

namespace {

FilterTestHost* g_host = nullptr;  // for host calls that carry no stream or config handle

std::string_view view(remora_str_t s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.len);
}
remora_str_t str(std::string_view v) {
  return remora_str_t{v.data(), v.size()};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

TestStream* ts(remora_stream_t* s) {
  return reinterpret_cast<TestStream*>(s);
}

bool validMetricName(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string_view stripPrefix(std::string_view name) {
  constexpr std::string_view kPrefix = "remora_filter_";
  if (name.substr(0, kPrefix.size()) == kPrefix) name.remove_prefix(kPrefix.size());
  return name;
}

}  // namespace

// --- TestHeaders ------------------------------------------------------------------------------

std::optional<std::string> TestHeaders::get(std::string_view name) const {
  for (const auto& [n, v] : entries_) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> TestHeaders::getAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : entries_) {
    if (iequals(n, name)) out.push_back(v);
  }
  return out;
}

void TestHeaders::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void TestHeaders::add(std::string_view name, std::string_view value) {
  entries_.emplace_back(std::string(name), std::string(value));
}

size_t TestHeaders::remove(std::string_view name) {
  size_t before = entries_.size();
  std::erase_if(entries_, [&](const auto& e) { return iequals(e.first, name); });
  return before - entries_.size();
}

std::optional<std::string> LocalReply::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

// --- The host API table -----------------------------------------------------------------------

struct HostCalls {
  static TestHeaders& block(remora_stream_t* s, remora_headers_kind_t kind) {
    TestStream* t = ts(s);
    switch (kind) {
      case REMORA_REQUEST_HEADERS:
        return t->request_headers;
      case REMORA_RESPONSE_HEADERS:
        return t->response_headers;
      case REMORA_REQUEST_TRAILERS:
        return t->request_trailers;
      case REMORA_RESPONSE_TRAILERS:
        return t->response_trailers;
    }
    throw std::logic_error("bad header kind");
  }

  static int headerGet(remora_stream_t* s, remora_headers_kind_t k, remora_str_t name,
                       remora_str_t* out) {
    for (const auto& [n, v] : block(s, k).entries()) {
      if (iequals(n, view(name))) {
        *out = str(v);
        return 1;
      }
    }
    return 0;
  }
  static size_t headerCount(remora_stream_t* s, remora_headers_kind_t k) {
    return block(s, k).size();
  }
  static int headerAt(remora_stream_t* s, remora_headers_kind_t k, size_t i, remora_header_t* out) {
    const HeaderPairs& e = block(s, k).entries();
    if (i >= e.size()) return 0;
    *out = remora_header_t{str(e[i].first), str(e[i].second)};
    return 1;
  }
  static void headerSet(remora_stream_t* s, remora_headers_kind_t k, remora_str_t n,
                        remora_str_t v) {
    block(s, k).set(view(n), view(v));
  }
  static void headerAdd(remora_stream_t* s, remora_headers_kind_t k, remora_str_t n,
                        remora_str_t v) {
    block(s, k).add(view(n), view(v));
  }
  static size_t headerRemove(remora_stream_t* s, remora_headers_kind_t k, remora_str_t n) {
    return block(s, k).remove(view(n));
  }

  static remora_str_t method(remora_stream_t* s) { return str(ts(s)->method); }
  static remora_str_t path(remora_stream_t* s) { return str(ts(s)->path); }
  static remora_str_t authority(remora_stream_t* s) { return str(ts(s)->authority); }
  static remora_str_t downstream(remora_stream_t* s) { return str(ts(s)->client_address); }
  static remora_str_t listener(remora_stream_t* s) { return str(ts(s)->listener); }
  static int status(remora_stream_t* s) { return ts(s)->response_status; }
  static uint64_t reqBytes(remora_stream_t* s) { return ts(s)->request_bytes; }
  static uint64_t respBytes(remora_stream_t* s) { return ts(s)->response_bytes; }
  static remora_str_t upstream(remora_stream_t* s) { return str(ts(s)->upstream_address); }
  static remora_str_t flags(remora_stream_t* s) { return str(ts(s)->response_flags); }
  static void setUpstreamLimits(remora_stream_t* s, const remora_upstream_limits_t* limits) {
    if (limits != nullptr) ts(s)->upstream_limits = *limits;
  }
  static uint32_t upstreamLimitsHit(remora_stream_t* s) { return ts(s)->upstream_limits_hit; }
  static uint64_t startUs(remora_stream_t* s) { return ts(s)->start_us; }

  static int localReply(remora_stream_t* s, int status, remora_str_t body,
                        const remora_header_t* headers, size_t n) {
    TestStream* t = ts(s);
    if (t->response_started || t->local_reply) return 0;
    LocalReply r;
    r.status = status;
    r.body = std::string(view(body));
    for (size_t i = 0; i < n; ++i) {
      r.headers.emplace_back(std::string(view(headers[i].name)),
                             std::string(view(headers[i].value)));
    }
    t->local_reply = std::move(r);
    t->response_status = status;
    return 1;
  }
  static void resume(remora_stream_t* s) { ++ts(s)->resume_count; }
  static int setRoute(remora_stream_t* s, const remora_route_t* r, char* err, size_t len) {
    std::string cluster(view(r->cluster));
    if (!g_host->clusters_.contains(cluster)) {
      std::snprintf(err, len, "unknown cluster '%s'", cluster.c_str());
      return 0;
    }
    ts(s)->route = CapturedRoute{cluster,
                                 r->timeout_ms,
                                 r->per_try_timeout_ms,
                                 r->retry_max,
                                 r->retry_on,
                                 r->retry_non_idempotent != 0,
                                 std::string(view(r->path)),
                                 std::string(view(r->host))};
    return 1;
  }

  static void metadataSet(remora_stream_t* s, remora_str_t k, remora_str_t v) {
    ts(s)->metadata[std::string(view(k))] = std::string(view(v));
  }
  static int metadataGet(remora_stream_t* s, remora_str_t k, remora_str_t* out) {
    auto it = ts(s)->metadata.find(view(k));
    if (it == ts(s)->metadata.end()) return 0;
    *out = str(it->second);
    return 1;
  }

  static size_t endpointCount(remora_stream_t*, remora_str_t cluster) {
    auto it = g_host->clusters_.find(view(cluster));
    return it == g_host->clusters_.end() ? 0 : it->second.endpoints.size();
  }
  static int endpointAt(remora_stream_t*, remora_str_t cluster, size_t i,
                        remora_endpoint_info_t* out) {
    auto it = g_host->clusters_.find(view(cluster));
    if (it == g_host->clusters_.end() || i >= it->second.endpoints.size()) return 0;
    const std::string& addr = it->second.endpoints[i];
    out->address = str(addr);
    out->active_requests = 0;
    out->ejected = 0;
    for (const auto& e : g_host->ejections_) {
      if (e.cluster == it->first && e.address == addr) out->ejected = 1;
    }
    return 1;
  }
  static void eject(remora_str_t cluster, remora_str_t address, uint32_t ms) {
    g_host->ejections_.push_back({std::string(view(cluster)), std::string(view(address)), ms});
  }

  static void log(remora_log_level_t level, remora_str_t message) {
    std::lock_guard<std::mutex> lock(g_host->mu_);
    g_host->logs_.emplace_back(level, std::string(view(message)));
  }

  static int32_t metricDefine(remora_config_ctx_t* c, remora_metric_kind_t kind, remora_str_t name,
                              remora_str_t help, remora_str_t label) {
    if (c == nullptr) return -1;
    FilterTestHost& h = *g_host;
    std::string n(view(name));
    if (!validMetricName(n)) {
      log(REMORA_LOG_ERROR, str("invalid metric name '" + n + "'"));
      return -1;
    }
    for (size_t i = 0; i < h.metrics_.size(); ++i) {
      const MetricInfo& m = h.metrics_[i];
      if (m.name != n) continue;
      if (m.kind != kind || m.label != view(label)) return -1;  // redefined differently
      if (!m.label.empty()) return static_cast<int32_t>(i);
      for (size_t j = 0; j < h.series_.size(); ++j) {
        if (h.series_[j].metric == i) return static_cast<int32_t>(j);
      }
    }
    h.metrics_.push_back(MetricInfo{kind, n, std::string(view(help)), std::string(view(label))});
    size_t metric = h.metrics_.size() - 1;
    if (!h.metrics_.back().label.empty()) return static_cast<int32_t>(metric);
    h.series_.push_back(FilterTestHost::Series{metric, ""});
    return static_cast<int32_t>(h.series_.size() - 1);
  }
  static int32_t metricSeries(remora_config_ctx_t* c, int32_t metric, remora_str_t value) {
    FilterTestHost& h = *g_host;
    if (c == nullptr || metric < 0 || static_cast<size_t>(metric) >= h.metrics_.size() ||
        h.metrics_[metric].label.empty()) {
      return -1;
    }
    size_t count = 0;
    for (size_t j = 0; j < h.series_.size(); ++j) {
      if (h.series_[j].metric != static_cast<size_t>(metric)) continue;
      if (h.series_[j].label_value == view(value)) return static_cast<int32_t>(j);
      ++count;
    }
    if (count >= h.series_budget_) return -1;
    h.series_.push_back(
        FilterTestHost::Series{static_cast<size_t>(metric), std::string(view(value))});
    return static_cast<int32_t>(h.series_.size() - 1);
  }
  static void metricAdd(remora_stream_t*, int32_t series, int64_t delta) {
    if (series >= 0 && static_cast<size_t>(series) < g_host->series_.size()) {
      g_host->series_[series].value += delta;
    }
  }
  static void metricObserve(remora_stream_t*, int32_t series, double value) {
    if (series >= 0 && static_cast<size_t>(series) < g_host->series_.size()) {
      ++g_host->series_[series].count;
      g_host->series_[series].sum += value;
    }
  }

  static void publish(remora_str_t topic, remora_str_t payload) {
    g_host->publish(view(topic), view(payload));
  }
  static uint64_t subscribe(remora_str_t topic, remora_event_cb cb, void* user) {
    std::lock_guard<std::mutex> lock(g_host->mu_);
    uint64_t id = g_host->next_subscription_++;
    g_host->subscribers_.push_back({id, std::string(view(topic)), cb, user});
    return id;
  }
  static void unsubscribe(uint64_t id) {
    std::lock_guard<std::mutex> lock(g_host->mu_);
    std::erase_if(g_host->subscribers_, [&](const auto& s) { return s.id == id; });
  }

  static int httpCall(remora_stream_t* s, remora_str_t cluster, remora_str_t method,
                      remora_str_t path, const remora_header_t* headers, size_t n,
                      remora_str_t body, uint32_t timeout_ms, remora_callout_cb cb, void* user) {
    if (!g_host->clusters_.contains(view(cluster))) return 0;
    PendingCallout c;
    c.stream = ts(s);
    c.cluster = std::string(view(cluster));
    c.method = std::string(view(method));
    c.path = std::string(view(path));
    for (size_t i = 0; i < n; ++i) {
      c.headers.emplace_back(std::string(view(headers[i].name)),
                             std::string(view(headers[i].value)));
    }
    c.body = std::string(view(body));
    c.timeout_ms = timeout_ms;
    c.cb = cb;
    c.user = user;
    g_host->callouts_.push_back(std::move(c));
    return 1;
  }

  static uint64_t nowUnix() { return g_host->nowUnixUs(); }
  static uint64_t nowMono() { return g_host->nowMonotonicUs(); }
};

// --- FilterTestHost ---------------------------------------------------------------------------

std::string FilterTestHost::pluginPath(std::string_view name) {
  return std::string(REMORA_FILTER_DIR) + "/" + std::string(name) + ".so";
}

std::string FilterTestHost::testPluginPath(std::string_view name) {
  return std::string(REMORA_BUILD_DIR) + "/test_filters/" + std::string(name) + ".so";
}

FilterTestHost::FilterTestHost(const std::string& so_path) {
  if (g_host != nullptr) throw std::logic_error("only one FilterTestHost at a time");
  g_host = this;
  api_ = remora_host_api_t{
      .struct_size = sizeof(remora_host_api_t),
      .abi_major = REMORA_FILTER_ABI_MAJOR,
      .abi_minor = REMORA_FILTER_ABI_MINOR,
      .header_get = &HostCalls::headerGet,
      .header_count = &HostCalls::headerCount,
      .header_at = &HostCalls::headerAt,
      .header_set = &HostCalls::headerSet,
      .header_add = &HostCalls::headerAdd,
      .header_remove = &HostCalls::headerRemove,
      .request_method = &HostCalls::method,
      .request_path = &HostCalls::path,
      .request_authority = &HostCalls::authority,
      .downstream_address = &HostCalls::downstream,
      .listener_name = &HostCalls::listener,
      .response_status = &HostCalls::status,
      .request_bytes = &HostCalls::reqBytes,
      .response_bytes = &HostCalls::respBytes,
      .upstream_address = &HostCalls::upstream,
      .response_flags = &HostCalls::flags,
      .stream_start_us = &HostCalls::startUs,
      .send_local_reply = &HostCalls::localReply,
      .resume = &HostCalls::resume,
      .set_route = &HostCalls::setRoute,
      .metadata_set = &HostCalls::metadataSet,
      .metadata_get = &HostCalls::metadataGet,
      .cluster_endpoint_count = &HostCalls::endpointCount,
      .cluster_endpoint_at = &HostCalls::endpointAt,
      .eject_endpoint = &HostCalls::eject,
      .log = &HostCalls::log,
      .metric_define = &HostCalls::metricDefine,
      .metric_series = &HostCalls::metricSeries,
      .metric_add = &HostCalls::metricAdd,
      .metric_observe = &HostCalls::metricObserve,
      .publish = &HostCalls::publish,
      .subscribe = &HostCalls::subscribe,
      .unsubscribe = &HostCalls::unsubscribe,
      .http_call = &HostCalls::httpCall,
      .now_unix_us = &HostCalls::nowUnix,
      .now_monotonic_us = &HostCalls::nowMono,
      .set_upstream_limits = &HostCalls::setUpstreamLimits,
      .upstream_limits_hit = &HostCalls::upstreamLimitsHit,
  };

  dl_ = dlopen(so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (dl_ == nullptr) {
    error_ = std::string("dlopen: ") + dlerror();
    return;
  }
  auto fn =
      reinterpret_cast<remora_plugin_descriptor_fn>(dlsym(dl_, REMORA_PLUGIN_DESCRIPTOR_SYMBOL));
  if (fn == nullptr || (d_ = fn()) == nullptr) {
    error_ = "no descriptor in " + so_path;
    return;
  }
  if (d_->abi_major != REMORA_FILTER_ABI_MAJOR || d_->abi_minor > REMORA_FILTER_ABI_MINOR) {
    error_ = "plugin ABI " + std::to_string(d_->abi_major) + "." + std::to_string(d_->abi_minor) +
             " is not loadable by host ABI " + std::to_string(REMORA_FILTER_ABI_MAJOR) + "." +
             std::to_string(REMORA_FILTER_ABI_MINOR);
    return;
  }
  if (d_->start != nullptr && d_->start(&api_) == 0) {
    error_ = "start failed";
    return;
  }
  started_ = true;
}

FilterTestHost::~FilterTestHost() {
  if (started_ && d_->stop != nullptr) d_->stop();
  if (dl_ != nullptr) dlclose(dl_);
  g_host = nullptr;
}

std::unique_ptr<PluginConfig> FilterTestHost::newConfig(std::string_view json, std::string* error) {
  if (!started_) throw std::logic_error("newConfig on a host that did not start: " + error_);
  // A handle that exists only during config_new, as in the kernel.
  struct Ctx {
    int unused;
  } ctx{0};
  char err[512] = {0};
  void* c =
      d_->config_new(reinterpret_cast<remora_config_ctx_t*>(&ctx), str(json), err, sizeof(err));
  if (c == nullptr) {
    if (error != nullptr) *error = err;
    return nullptr;
  }
  return std::make_unique<PluginConfig>(this, c);
}

std::unique_ptr<TestStream> FilterTestHost::newStream(const PluginConfig& config) {
  return std::make_unique<TestStream>(this, config);
}

PluginConfig::~PluginConfig() {
  if (host_->d_->config_free != nullptr) host_->d_->config_free(config_);
}

std::optional<MetricInfo> FilterTestHost::metric(std::string_view name) const {
  for (const MetricInfo& m : metrics_) {
    if (m.name == stripPrefix(name)) return m;
  }
  return std::nullopt;
}

bool FilterTestHost::hasMetric(std::string_view name) const {
  return metric(name).has_value();
}

const FilterTestHost::Series* FilterTestHost::findSeries(std::string_view name,
                                                         std::string_view label_value) const {
  for (const Series& s : series_) {
    if (metrics_[s.metric].name == stripPrefix(name) && s.label_value == label_value) return &s;
  }
  return nullptr;
}

int64_t FilterTestHost::metricValue(std::string_view name, std::string_view label_value) const {
  const Series* s = findSeries(name, label_value);
  return s == nullptr ? 0 : s->value;
}

uint64_t FilterTestHost::histogramCount(std::string_view name, std::string_view label) const {
  const Series* s = findSeries(name, label);
  return s == nullptr ? 0 : s->count;
}

double FilterTestHost::histogramSum(std::string_view name, std::string_view label) const {
  const Series* s = findSeries(name, label);
  return s == nullptr ? 0 : s->sum;
}

std::vector<std::pair<remora_log_level_t, std::string>> FilterTestHost::logs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return logs_;
}

bool FilterTestHost::logContains(std::string_view needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::any_of(logs_.begin(), logs_.end(),
                     [&](const auto& l) { return l.second.find(needle) != std::string::npos; });
}

void FilterTestHost::publish(std::string_view topic, std::string_view payload) {
  std::vector<Subscriber> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    published_.emplace_back(std::string(topic), std::string(payload));
    for (const Subscriber& s : subscribers_) {
      if (s.topic == topic) targets.push_back(s);
    }
  }
  // Delivered outside the lock: a subscriber may publish or log in turn.
  for (const Subscriber& s : targets) s.cb(s.user, str(topic), str(payload));
}

size_t FilterTestHost::subscriberCount(std::string_view topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::count_if(subscribers_.begin(), subscribers_.end(),
                       [&](const Subscriber& s) { return s.topic == topic; });
}

std::vector<std::pair<std::string, std::string>> FilterTestHost::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

void FilterTestHost::advance(std::chrono::microseconds d) {
  unix_us_ += d.count();
  mono_us_ += d.count();
}

void FilterTestHost::addCluster(const std::string& name, std::vector<std::string> endpoints) {
  clusters_[name].endpoints = std::move(endpoints);
}

void FilterTestHost::completeCallout(size_t i, int status, const HeaderPairs& headers,
                                     std::string_view body) {
  if (i >= callouts_.size()) throw std::out_of_range("no such callout");
  PendingCallout c = std::move(callouts_[i]);
  callouts_.erase(callouts_.begin() + static_cast<std::ptrdiff_t>(i));
  std::vector<remora_header_t> h;
  for (const auto& [n, v] : headers) h.push_back(remora_header_t{str(n), str(v)});
  c.cb(c.user, status, h.data(), h.size(), str(body));
}

void FilterTestHost::cancelCallouts(TestStream* s) {
  std::erase_if(callouts_, [&](const PendingCallout& c) { return c.stream == s; });
}

// --- TestStream -------------------------------------------------------------------------------

TestStream::TestStream(FilterTestHost* host, const PluginConfig& config)
    : start_us(host->nowUnixUs()), host_(host), d_(host->d_) {
  if (d_->stream_new != nullptr) ctx_ = d_->stream_new(config.raw(), raw());
}

TestStream::~TestStream() {
  log();
  host_->cancelCallouts(this);
  if (d_->stream_free != nullptr) d_->stream_free(ctx_);
}

remora_status_t TestStream::requestHeaders(bool end_stream) {
  if (d_->on_request_headers == nullptr) return REMORA_CONTINUE;
  return d_->on_request_headers(ctx_, raw(), end_stream ? 1 : 0);
}

remora_status_t TestStream::requestBody(std::string_view chunk, bool end_stream) {
  request_bytes += chunk.size();
  if (d_->on_request_body == nullptr) return REMORA_CONTINUE;
  return d_->on_request_body(ctx_, raw(), str(chunk), end_stream ? 1 : 0);
}

remora_status_t TestStream::requestTrailers() {
  if (d_->on_request_trailers == nullptr) return REMORA_CONTINUE;
  return d_->on_request_trailers(ctx_, raw());
}

remora_status_t TestStream::responseHeaders(bool end_stream) {
  if (d_->on_response_headers == nullptr) return REMORA_CONTINUE;
  return d_->on_response_headers(ctx_, raw(), end_stream ? 1 : 0);
}

remora_status_t TestStream::respond(int status, const HeaderPairs& headers, bool end_stream) {
  response_status = status;
  for (const auto& [n, v] : headers) response_headers.add(n, v);
  return responseHeaders(end_stream);
}

remora_status_t TestStream::responseBody(std::string_view chunk, bool end_stream) {
  response_bytes += chunk.size();
  if (d_->on_response_body == nullptr) return REMORA_CONTINUE;
  return d_->on_response_body(ctx_, raw(), str(chunk), end_stream ? 1 : 0);
}

remora_status_t TestStream::responseTrailers() {
  if (d_->on_response_trailers == nullptr) return REMORA_CONTINUE;
  return d_->on_response_trailers(ctx_, raw());
}

void TestStream::log() {
  if (logged_) return;
  logged_ = true;
  if (d_->on_log != nullptr) d_->on_log(ctx_, raw());
}

}  // namespace remora::test
