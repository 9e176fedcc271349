#include "stats/metric_families.h"

#include <limits>
#include <utility>

namespace remora::stats {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily makeFamily(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void addSample(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

void addHistogram(MetricFamily& f, Labels labels, const BucketCounts& buckets, double sum) {
  ClientMetric m;
  m.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBucketSlots; ++i) {
    cumulative += buckets[i];
    double bound = i < Histogram::kBounds.size() ? Histogram::kBounds[i]
                                                 : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back({cumulative, bound});
  }
  // The count is taken from the buckets rather than Histogram::count(): the slots are read while
  // workers write them, and this keeps _count equal to the +Inf bucket as Prometheus expects.
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = sum;
  f.metric.push_back(std::move(m));
}

}  // namespace remora::stats
