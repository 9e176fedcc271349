#pragma once
// A real Prometheus (/usr/bin/prometheus, Debian's package) started for one test: its own config
// scraping one target every second, its TSDB in a temp directory, its web API on a free
// 127.0.0.1 port. The destructor stops it by PID and removes the directory.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/process.h"
#include "common/temp_dir.h"

namespace remora::test {

class PrometheusServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/prometheus";

  // Starts Prometheus scraping http://`target`/metrics (target "127.0.0.1:PORT") as job
  // "remora", and returns once its API answers /-/ready. Throws std::runtime_error with its
  // output if it exits or is not ready within 15 s.
  explicit PrometheusServer(const std::string& target);
  // SIGTERM, then SIGKILL (the Process destructor) if it has not exited within 5 s.
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  uint16_t port() const { return port_; }
  std::string output() const { return process_->output(); }

  // The scrape target's health from /api/v1/targets: "up", "down", "unknown", or "" before
  // Prometheus has discovered it (target discovery runs every 5 s: the first scrape lands about
  // 6 s after start, whatever the scrape interval).
  std::string targetHealth() const;
  // GET /api/v1/query?query=`promql` (instant, now). The whole response: {"status", "data"} or
  // {"status": "error", "error"}; a null json when Prometheus did not answer.
  nlohmann::json query(const std::string& promql) const;
  // The value of a query whose result is a single-series vector (e.g. sum(...)); nullopt when
  // the query failed or the vector is empty. May be NaN (histogram_quantile with no data).
  std::optional<double> scalar(const std::string& promql) const;

 private:
  std::string api(const std::string& path, const std::string& query_param = "") const;

  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace remora::test
