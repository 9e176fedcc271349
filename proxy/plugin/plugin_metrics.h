#pragma once
// Metrics that plugins declare at config time (host API metric_define/metric_series).
//
// Series are defined on the main thread and get a dense id; each worker bumps its own slot for
// that id (single-writer, like the kernel's stats), and the scrape sums the workers. Storage is a
// fixed table of chunk pointers, so defining a series never moves a slot a worker may be using.
// Every family carries a `filter` label; a filter has a series budget so label values stay bounded.

#include <prometheus/collectable.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "plugin/abi/remora_filter.h"
#include "stats/stats.h"

namespace remora::plugin {

class PluginMetrics : public prometheus::Collectable {
 public:
  static constexpr size_t kChunk = 64;
  static constexpr size_t kMaxChunks = 64;  // 4096 series in all
  static constexpr size_t kBudgetPerFilter = 256;

  explicit PluginMetrics(size_t workers);
  ~PluginMetrics() override;

  // Main thread. Returns the series id (unlabelled) or metric id (labelled), or an error.
  Result<int32_t> define(const std::string& filter, remora_metric_kind_t kind,
                         const std::string& name, const std::string& help,
                         const std::string& label_name);
  Result<int32_t> series(int32_t metric, const std::string& label_value);

  // Worker thread; ids out of range are ignored.
  void add(size_t worker, int32_t series, int64_t delta);
  void observe(size_t worker, int32_t series, double value);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Slot {
    stats::Gauge value;
    stats::Histogram hist;
  };
  struct Metric {
    std::string filter;
    std::string name;
    std::string help;
    std::string label_name;
    remora_metric_kind_t kind;
  };
  struct Series {
    int32_t metric;
    std::string label_value;
  };

  Slot* slot(size_t worker, int32_t series) const;
  Result<int32_t> newSeries(int32_t metric, const std::string& label_value);

  size_t workers_;
  mutable std::mutex mu_;
  std::vector<Metric> metrics_;
  std::vector<Series> series_;
  // chunks_[worker * kMaxChunks + c] → kChunk slots.
  std::unique_ptr<std::atomic<Slot*>[]> chunks_;
};

}  // namespace remora::plugin
