#include "plugin/plugin_metrics.h"

#include <prometheus/metric_family.h>

#include <map>

namespace remora::plugin {
namespace {

bool validMetricName(const std::string& n) {
  if (n.empty() || !((n[0] >= 'a' && n[0] <= 'z') || n[0] == '_')) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

PluginMetrics::PluginMetrics(size_t workers)
    : workers_(workers), chunks_(new std::atomic<Slot*>[workers * kMaxChunks]) {
  for (size_t i = 0; i < workers * kMaxChunks; ++i) chunks_[i].store(nullptr);
}

PluginMetrics::~PluginMetrics() {
  for (size_t i = 0; i < workers_ * kMaxChunks; ++i) delete[] chunks_[i].load();
}

Result<int32_t> PluginMetrics::define(const std::string& filter, remora_metric_kind_t kind,
                                      const std::string& name, const std::string& help,
                                      const std::string& label_name) {
  if (!validMetricName(name))
    return Error{"metric name must match [a-z_][a-z0-9_]*, got \"" + name + "\""};
  if (!label_name.empty() && (!validMetricName(label_name) || label_name == "filter"))
    return Error{"metric label must match [a-z_][a-z0-9_]* and not be \"filter\", got \"" +
                 label_name + "\""};
  std::lock_guard<std::mutex> g(mu_);
  int32_t id = -1;
  for (size_t i = 0; i < metrics_.size(); ++i) {
    const Metric& m = metrics_[i];
    if (m.filter == filter && m.name == name) {
      if (m.kind != kind || m.label_name != label_name)
        return Error{"metric " + name + " redefined with another kind or label"};
      id = int32_t(i);
    }
  }
  if (id < 0) {
    metrics_.push_back({filter, name, help, label_name, kind});
    id = int32_t(metrics_.size() - 1);
  }
  if (!label_name.empty()) return id;
  return newSeries(id, "");
}

Result<int32_t> PluginMetrics::series(int32_t metric, const std::string& label_value) {
  std::lock_guard<std::mutex> g(mu_);
  if (metric < 0 || size_t(metric) >= metrics_.size() ||
      metrics_[size_t(metric)].label_name.empty())
    return Error{"metric_series: not a labelled metric id"};
  return newSeries(metric, label_value);
}

// Called with mu_ held. Reuses an existing series, so re-pushed configs do not grow the table.
Result<int32_t> PluginMetrics::newSeries(int32_t metric, const std::string& label_value) {
  const std::string& filter = metrics_[size_t(metric)].filter;
  size_t used = 0;
  for (size_t i = 0; i < series_.size(); ++i) {
    if (series_[i].metric == metric && series_[i].label_value == label_value) return int32_t(i);
    used += metrics_[size_t(series_[i].metric)].filter == filter;
  }
  if (used >= kBudgetPerFilter)
    return Error{"filter " + filter + " is over its budget of " + std::to_string(kBudgetPerFilter) +
                 " metric series"};
  size_t id = series_.size();
  if (id >= kChunk * kMaxChunks) return Error{"plugin metric table is full"};
  if (id % kChunk == 0) {
    for (size_t w = 0; w < workers_; ++w)
      chunks_[w * kMaxChunks + id / kChunk].store(new Slot[kChunk], std::memory_order_release);
  }
  series_.push_back({metric, label_value});
  return int32_t(id);
}

PluginMetrics::Slot* PluginMetrics::slot(size_t worker, int32_t series) const {
  if (series < 0 || size_t(series) >= kChunk * kMaxChunks || worker >= workers_) return nullptr;
  Slot* chunk =
      chunks_[worker * kMaxChunks + size_t(series) / kChunk].load(std::memory_order_acquire);
  return chunk ? &chunk[size_t(series) % kChunk] : nullptr;
}

void PluginMetrics::add(size_t worker, int32_t series, int64_t delta) {
  if (Slot* s = slot(worker, series)) s->value.add(delta);
}

void PluginMetrics::observe(size_t worker, int32_t series, double value) {
  if (Slot* s = slot(worker, series)) s->hist.observe(value);
}

std::vector<prometheus::MetricFamily> PluginMetrics::Collect() const {
  using prometheus::ClientMetric;
  using prometheus::MetricFamily;
  using prometheus::MetricType;
  std::lock_guard<std::mutex> g(mu_);
  std::map<std::string, MetricFamily> families;
  for (size_t id = 0; id < series_.size(); ++id) {
    const Series& se = series_[id];
    const Metric& m = metrics_[size_t(se.metric)];
    std::string full = "remora_filter_" + m.name;
    MetricFamily& fam = families[full];
    if (fam.name.empty()) {
      fam.name = full;
      fam.help = m.help;
      fam.type = m.kind == REMORA_METRIC_COUNTER ? MetricType::Counter
                 : m.kind == REMORA_METRIC_GAUGE ? MetricType::Gauge
                                                 : MetricType::Histogram;
    }
    ClientMetric cm;
    cm.label.push_back({"filter", m.filter});
    if (!m.label_name.empty()) cm.label.push_back({m.label_name, se.label_value});
    if (m.kind == REMORA_METRIC_HISTOGRAM) {
      uint64_t cumulative = 0;
      double sum = 0;
      std::vector<uint64_t> buckets(stats::Histogram::kBounds.size() + 1, 0);
      for (size_t w = 0; w < workers_; ++w) {
        const Slot* s = slot(w, int32_t(id));
        for (size_t b = 0; b < buckets.size(); ++b) buckets[b] += s->hist.bucket(b);
        sum += s->hist.sum();
      }
      for (size_t b = 0; b < buckets.size(); ++b) {
        cumulative += buckets[b];
        ClientMetric::Bucket bucket;
        bucket.cumulative_count = cumulative;
        bucket.upper_bound = b < stats::Histogram::kBounds.size()
                                 ? stats::Histogram::kBounds[b]
                                 : std::numeric_limits<double>::infinity();
        cm.histogram.bucket.push_back(bucket);
      }
      cm.histogram.sample_count = cumulative;
      cm.histogram.sample_sum = sum;
    } else {
      int64_t total = 0;
      for (size_t w = 0; w < workers_; ++w) total += slot(w, int32_t(id))->value.value();
      if (m.kind == REMORA_METRIC_COUNTER)
        cm.counter.value = double(total);
      else
        cm.gauge.value = double(total);
    }
    fam.metric.push_back(std::move(cm));
  }
  std::vector<MetricFamily> out;
  for (auto& [name, fam] : families) out.push_back(std::move(fam));
  return out;
}

}  // namespace remora::plugin
