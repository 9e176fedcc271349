#pragma once
// Building prometheus-cpp families at scrape time: the pieces every collector of the kernel
// shares (collector.cc, tls_collector.cc).

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "stats/stats.h"

namespace remora::stats {

using Labels = std::vector<prometheus::ClientMetric::Label>;
inline constexpr size_t kBucketSlots = Histogram::kBounds.size() + 1;
using BucketCounts = std::array<uint64_t, kBucketSlots>;  // non-cumulative, like the slots

prometheus::MetricFamily makeFamily(std::string name, std::string help,
                                    prometheus::MetricType type);
// Adds a counter or gauge sample, whichever the family is.
void addSample(prometheus::MetricFamily& f, Labels labels, double value);
// Adds a histogram sample from per-bucket counts summed over workers.
void addHistogram(prometheus::MetricFamily& f, Labels labels, const BucketCounts& buckets,
                  double sum);

}  // namespace remora::stats
