#pragma once
// What a proxy test looks at besides the responses themselves: the demo upstream's own counters
// (did a request reach it? over how many connections?), remora's admin endpoints and metrics, and
// remora's resident memory while a large body streams through it.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/http_client.h"

namespace remora::test {

// Calls `condition` every `step` until it returns true or `timeout` passes; returns its last
// answer. Tests poll with this instead of sleeping for a guessed time.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step = std::chrono::milliseconds(10));

struct UpstreamCounts {
  uint64_t connections = 0;  // accepted by the upstream
  uint64_t requests = 0;     // request heads the upstream has read
};

// Reads a demo upstream's /stats directly (not through the proxy). Each read is itself one more
// connection and request at the upstream; read() subtracts every probe this object has made, so
// the counts are the proxy's alone.
class UpstreamStats {
 public:
  explicit UpstreamStats(uint16_t upstream_port) : port_(upstream_port) {}
  // Throws std::runtime_error when /stats does not answer.
  UpstreamCounts read();

 private:
  uint16_t port_;
  uint64_t probes_ = 0;
};

// One GET on the admin listener (fresh connection, "connection: close").
HttpResponse adminGet(uint16_t admin_port, const std::string& path);

// Sum of the Prometheus text-format samples of `name` whose label set contains every string in
// `labels` (each written as it appears, e.g. `code_class="2xx"`). 0 when none match.
double metricValue(const std::string& metrics_text, std::string_view name,
                   const std::vector<std::string>& labels = {});
// Scrapes /metrics and returns metricValue() of it.
double scrapeMetric(uint16_t admin_port, std::string_view name,
                    const std::vector<std::string>& labels = {});

// VmRSS of `pid` in bytes from /proc/PID/status; 0 when it cannot be read.
uint64_t residentBytes(pid_t pid);

// Samples residentBytes(pid) every few milliseconds on its own thread, from construction until
// stop() (or destruction), and keeps the peak.
class RssSampler {
 public:
  explicit RssSampler(pid_t pid);
  ~RssSampler();
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  void stop();
  uint64_t peakBytes() const { return peak_.load(); }
  uint64_t samples() const { return samples_.load(); }

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> peak_{0};
  std::atomic<uint64_t> samples_{0};
  std::thread thread_;
};

}  // namespace remora::test
