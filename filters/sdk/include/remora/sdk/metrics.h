#pragma once
// Metric handles and the config-time context that declares them.
//
// Metrics are declared once in Config::create (main thread) through ConfigContext and kept in
// the Config as plain handles (an int each). Bumping one on a worker is a single host call into a
// per-worker slot: no string lookup, no lock. The kernel exports them as
// remora_filter_<name>{filter="<plugin>"[,<label>="<value>"]}; label values are declared at config
// time too, so the number of series stays bounded (past the kernel's budget a handle is invalid
// and bumping it does nothing).

#include <cstdint>
#include <string_view>

#include "remora/sdk/host.h"
#include "remora/sdk/stream.h"

namespace remora::sdk {

// A monotonically increasing count.
class Counter {
 public:
  Counter() = default;
  explicit Counter(int32_t series) : series_(series) {}
  // Worker thread, from a hook of `stream` (the stream selects the worker's slot).
  void inc(const Stream& stream, uint64_t n = 1) const {
    if (series_ >= 0) detail::g_host->metric_add(stream.raw(), series_, static_cast<int64_t>(n));
  }
  bool valid() const { return series_ >= 0; }
  int32_t id() const { return series_; }

 private:
  int32_t series_ = -1;
};

// A value that goes up and down; the ABI carries deltas (per-worker slots are summed at scrape).
class Gauge {
 public:
  Gauge() = default;
  explicit Gauge(int32_t series) : series_(series) {}
  void add(const Stream& stream, int64_t delta) const {
    if (series_ >= 0) detail::g_host->metric_add(stream.raw(), series_, delta);
  }
  void sub(const Stream& stream, int64_t delta) const { add(stream, -delta); }
  bool valid() const { return series_ >= 0; }
  int32_t id() const { return series_; }

 private:
  int32_t series_ = -1;
};

// Observations in seconds, in Remora's latency buckets.
class Histogram {
 public:
  Histogram() = default;
  explicit Histogram(int32_t series) : series_(series) {}
  void observe(const Stream& stream, double seconds) const {
    if (series_ >= 0) detail::g_host->metric_observe(stream.raw(), series_, seconds);
  }
  bool valid() const { return series_ >= 0; }
  int32_t id() const { return series_; }

 private:
  int32_t series_ = -1;
};

// A labelled metric: resolve one handle per label value with ConfigContext::series().
template <typename Handle>
class MetricFamily {
 public:
  MetricFamily() = default;
  explicit MetricFamily(int32_t metric) : metric_(metric) {}
  bool valid() const { return metric_ >= 0; }
  int32_t id() const { return metric_; }

 private:
  int32_t metric_ = -1;
};

// What Config::create gets besides its JSON: declares metrics. Valid only during create (main
// thread); do not keep it.
class ConfigContext {
 public:
  explicit ConfigContext(remora_config_ctx_t* ctx) : ctx_(ctx) {}

  // `name` matches [a-z_][a-z0-9_]* and is exported as remora_filter_<name>. An invalid handle
  // comes back when the kernel refuses (reason in its log); a Config may treat that as fatal.
  Counter counter(std::string_view name, std::string_view help) {
    return Counter(define(REMORA_METRIC_COUNTER, name, help, {}));
  }
  Gauge gauge(std::string_view name, std::string_view help) {
    return Gauge(define(REMORA_METRIC_GAUGE, name, help, {}));
  }
  Histogram histogram(std::string_view name, std::string_view help) {
    return Histogram(define(REMORA_METRIC_HISTOGRAM, name, help, {}));
  }

  // Labelled metrics: one label of the plugin's own (besides `filter`).
  MetricFamily<Counter> counterFamily(std::string_view name, std::string_view help,
                                      std::string_view label) {
    return MetricFamily<Counter>(define(REMORA_METRIC_COUNTER, name, help, label));
  }
  MetricFamily<Gauge> gaugeFamily(std::string_view name, std::string_view help,
                                  std::string_view label) {
    return MetricFamily<Gauge>(define(REMORA_METRIC_GAUGE, name, help, label));
  }
  MetricFamily<Histogram> histogramFamily(std::string_view name, std::string_view help,
                                          std::string_view label) {
    return MetricFamily<Histogram>(define(REMORA_METRIC_HISTOGRAM, name, help, label));
  }
  // The series of `family` for `label_value`; invalid past the kernel's series budget.
  template <typename Handle>
  Handle series(const MetricFamily<Handle>& family, std::string_view label_value) {
    if (!family.valid()) return Handle();
    return Handle(detail::g_host->metric_series(ctx_, family.id(), toStr(label_value)));
  }

  // The kernel's handle, for host calls the SDK does not wrap.
  remora_config_ctx_t* raw() const { return ctx_; }

 private:
  int32_t define(remora_metric_kind_t kind, std::string_view name, std::string_view help,
                 std::string_view label) {
    return detail::g_host->metric_define(ctx_, kind, toStr(name), toStr(help), toStr(label));
  }

  remora_config_ctx_t* ctx_;
};

}  // namespace remora::sdk
