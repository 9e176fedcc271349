#pragma once
// FilterTestHost: an in-process stand-in for the kernel's side of the filter plugin ABI, so a
// filter's unit tests drive the real artifact — the built .so, dlopened — through the real C
// descriptor and host API table, without sockets or threads.
//
//   FilterTestHost host(FilterTestHost::pluginPath("headers"));   // dlopen + start
//   auto config = host.newConfig(R"({"request": {"set": {"x-a": "1"}}})");
//   auto stream = host.newStream(*config);
//   stream->request_headers.add("host", "example.com");
//   EXPECT_EQ(stream->requestHeaders(), REMORA_CONTINUE);
//   EXPECT_EQ(stream->request_headers.get("x-a"), "1");
//
// Everything runs on the test's thread, which plays both the main thread and the worker. Calls a
// plugin makes from its own threads (log, publish, the clock) are safe: those parts are locked.
// Only one FilterTestHost may exist at a time (the context-free host calls — log, publish, clock
// — need to find it).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/abi/remora_filter.h"

namespace remora::test {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

// A header block with the kernel's semantics: names compared case-insensitively, order kept,
// repeats allowed. Views the host hands out point into these strings.
class TestHeaders {
 public:
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> getAll(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  void set(std::string_view name, std::string_view value);
  void add(std::string_view name, std::string_view value);
  size_t remove(std::string_view name);
  size_t size() const { return entries_.size(); }
  const HeaderPairs& entries() const { return entries_; }

 private:
  HeaderPairs entries_;
};

struct LocalReply {
  int status = 0;
  std::string body;
  HeaderPairs headers;
  std::optional<std::string> header(std::string_view name) const;
};

// A route a filter set, as the host received it.
struct CapturedRoute {
  std::string cluster;
  uint32_t timeout_ms = 0;
  uint32_t per_try_timeout_ms = 0;
  uint32_t retry_max = 0;
  uint32_t retry_on = 0;
  bool retry_non_idempotent = false;
  std::string path;
  std::string host;
};

class TestStream;

// An http_call a filter started and the test has not completed yet.
struct PendingCallout {
  TestStream* stream = nullptr;
  std::string cluster, method, path;
  HeaderPairs headers;
  std::string body;
  uint32_t timeout_ms = 0;
  remora_callout_cb cb = nullptr;
  void* user = nullptr;
};

class FilterTestHost;

// A plugin config object (config_new's result), freed with config_free when destroyed.
class PluginConfig {
 public:
  PluginConfig(FilterTestHost* host, void* config) : host_(host), config_(config) {}
  ~PluginConfig();
  PluginConfig(const PluginConfig&) = delete;
  PluginConfig& operator=(const PluginConfig&) = delete;
  void* raw() const { return config_; }

 private:
  FilterTestHost* host_;
  void* config_;
};

// One stream: the request and response facts the host reports, what the filter did to it, and
// methods that call the plugin's hooks. Destroying it runs on_log (once, if not yet run) and
// stream_free, and cancels its pending callouts — the kernel's order.
class TestStream {
 public:
  TestStream(FilterTestHost* host, const PluginConfig& config);
  ~TestStream();
  TestStream(const TestStream&) = delete;
  TestStream& operator=(const TestStream&) = delete;

  // --- What the host reports (set these before driving hooks). ---
  std::string method = "GET";
  std::string path = "/";
  std::string authority = "localhost";
  std::string client_address = "127.0.0.1";
  std::string listener = "ingress";
  int response_status = 0;
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  std::string upstream_address;
  std::string response_flags = "-";
  uint64_t start_us = 0;  // defaults to the host clock at creation
  // True once the response went downstream: send_local_reply then fails.
  bool response_started = false;
  TestHeaders request_headers, response_headers, request_trailers, response_trailers;
  std::map<std::string, std::string, std::less<>> metadata;
  // REMORA_LIMIT_HIT_* bits the kernel would report (upstream_limits_hit).
  uint32_t upstream_limits_hit = 0;

  // --- What the filter did. ---
  std::optional<LocalReply> local_reply;
  std::optional<CapturedRoute> route;
  int resume_count = 0;
  // The last set_upstream_limits call, if any.
  std::optional<remora_upstream_limits_t> upstream_limits;

  // --- Hooks (a NULL hook is skipped and counts as REMORA_CONTINUE, like the kernel). ---
  remora_status_t requestHeaders(bool end_stream = true);
  remora_status_t requestBody(std::string_view chunk, bool end_stream = true);
  remora_status_t requestTrailers();
  remora_status_t responseHeaders(bool end_stream = true);
  // Sets response_status and the response headers, then runs on_response_headers.
  remora_status_t respond(int status, const HeaderPairs& headers = {}, bool end_stream = true);
  remora_status_t responseBody(std::string_view chunk, bool end_stream = true);
  remora_status_t responseTrailers();
  // Runs on_log once; later calls do nothing.
  void log();

  void* context() const { return ctx_; }
  remora_stream_t* raw() { return reinterpret_cast<remora_stream_t*>(this); }

 private:
  FilterTestHost* host_;
  const remora_plugin_descriptor_t* d_;
  void* ctx_ = nullptr;
  bool logged_ = false;
};

struct MetricInfo {
  remora_metric_kind_t kind;
  std::string name;  // as declared, without the remora_filter_ prefix
  std::string help;
  std::string label;
};

class FilterTestHost {
 public:
  // dlopens `so_path` and calls start. On failure ok() is false and error() says why.
  explicit FilterTestHost(const std::string& so_path);
  // Calls stop (if started) and dlclose.
  ~FilterTestHost();
  FilterTestHost(const FilterTestHost&) = delete;
  FilterTestHost& operator=(const FilterTestHost&) = delete;

  // The built plugin `name`: <build>/filters/<name>.so.
  static std::string pluginPath(std::string_view name);
  // A plugin built only for tests: <build>/test_filters/<name>.so.
  static std::string testPluginPath(std::string_view name);

  bool ok() const { return started_; }
  const std::string& error() const { return error_; }
  const remora_plugin_descriptor_t& descriptor() const { return *d_; }

  // config_new with `json`; nullptr when the plugin rejects it (reason in *error).
  std::unique_ptr<PluginConfig> newConfig(std::string_view json, std::string* error = nullptr);
  // stream_new on `config` (which must outlive the stream).
  std::unique_ptr<TestStream> newStream(const PluginConfig& config);

  // --- Metrics, by the name the plugin declared (a "remora_filter_" prefix is accepted). ---
  bool hasMetric(std::string_view name) const;
  std::optional<MetricInfo> metric(std::string_view name) const;
  // Counter/gauge value of the series with `label_value` ("" for unlabelled); 0 if absent.
  int64_t metricValue(std::string_view name, std::string_view label_value = {}) const;
  uint64_t histogramCount(std::string_view name, std::string_view label_value = {}) const;
  double histogramSum(std::string_view name, std::string_view label_value = {}) const;
  // Series per (metric, label value) before metric_series returns -1.
  void setSeriesBudget(size_t budget) { series_budget_ = budget; }

  // --- Logs the plugin wrote. ---
  std::vector<std::pair<remora_log_level_t, std::string>> logs() const;
  bool logContains(std::string_view needle) const;

  // --- Event bus: the plugin's publishes are recorded and delivered synchronously, on the
  // publishing thread, to every subscriber of the topic; so are the test's. ---
  void publish(std::string_view topic, std::string_view payload);
  size_t subscriberCount(std::string_view topic) const;
  std::vector<std::pair<std::string, std::string>> published() const;

  // --- Clock: starts at 2023-11-14T22:13:20Z and only moves when told. ---
  uint64_t nowUnixUs() const { return unix_us_.load(); }
  uint64_t nowMonotonicUs() const { return mono_us_.load(); }
  void advance(std::chrono::microseconds d);

  // --- Clusters: set_route and http_call refuse clusters not added here. ---
  void addCluster(const std::string& name, std::vector<std::string> endpoints = {});
  struct Ejection {
    std::string cluster, address;
    uint32_t duration_ms;
  };
  const std::vector<Ejection>& ejections() const { return ejections_; }

  // --- Callouts. ---
  const std::vector<PendingCallout>& callouts() const { return callouts_; }
  // Answers pending callout `i` (status 0 = failed, `body` the reason) and removes it.
  void completeCallout(size_t i, int status, const HeaderPairs& headers = {},
                       std::string_view body = {});

 private:
  friend class TestStream;
  friend class PluginConfig;
  friend struct HostCalls;

  struct Series {
    size_t metric;
    std::string label_value;
    int64_t value = 0;
    uint64_t count = 0;
    double sum = 0;
  };
  struct Subscriber {
    uint64_t id;
    std::string topic;
    remora_event_cb cb;
    void* user;
  };
  struct Cluster {
    std::vector<std::string> endpoints;
  };

  const Series* findSeries(std::string_view name, std::string_view label_value) const;
  void cancelCallouts(TestStream* s);

  void* dl_ = nullptr;
  const remora_plugin_descriptor_t* d_ = nullptr;
  remora_host_api_t api_{};
  bool started_ = false;
  std::string error_;

  std::vector<MetricInfo> metrics_;
  std::vector<Series> series_;
  size_t series_budget_ = 64;

  mutable std::mutex mu_;  // logs, subscribers, published (plugins' own threads use them)
  std::vector<std::pair<remora_log_level_t, std::string>> logs_;
  std::vector<Subscriber> subscribers_;
  std::vector<std::pair<std::string, std::string>> published_;
  uint64_t next_subscription_ = 1;

  std::atomic<uint64_t> unix_us_{1700000000ull * 1000000};
  std::atomic<uint64_t> mono_us_{1000ull * 1000000};

  std::map<std::string, Cluster, std::less<>> clusters_;
  std::vector<Ejection> ejections_;
  std::vector<PendingCallout> callouts_;
};

}  // namespace remora::test
