#include "common/prometheus_server.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/net.h"
#include "common/observe.h"

namespace remora::test {

PrometheusServer::PrometheusServer(const std::string& target) {
  if (access(kBinary, X_OK) != 0)
    throw std::runtime_error(std::string(kBinary) +
                             " not found: install Debian's prometheus package "
                             "(scripts/install-deps.sh)");
  const std::string config = dir_.file("prometheus.yml");
  std::ofstream(config) << "global:\n"
                        << "  scrape_interval: 1s\n"
                        << "  evaluation_interval: 1s\n"
                        << "scrape_configs:\n"
                        << "  - job_name: remora\n"
                        << "    scrape_interval: 1s\n"
                        << "    scrape_timeout: 1s\n"
                        << "    static_configs:\n"
                        << "      - targets: ['" << target << "']\n";
  port_ = freePort();
  process_ = std::make_unique<Process>(std::vector<std::string>{
      kBinary, "--config.file=" + config, "--storage.tsdb.path=" + dir_.file("data"),
      "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"});
  const bool ready = waitUntil(
      [&] { return !process_->running() || api("/-/ready").find("Ready") != std::string::npos; },
      std::chrono::seconds(15), std::chrono::milliseconds(100));
  if (!ready || !process_->running())
    throw std::runtime_error("prometheus did not become ready:\n" + process_->output());
}

PrometheusServer::~PrometheusServer() {
  process_->kill(SIGTERM);
  process_->waitExit(std::chrono::seconds(5));
}

std::string PrometheusServer::api(const std::string& path, const std::string& query_param) const {
  std::vector<std::string> args = {"-s", "--max-time", "5", "-G",
                                   "http://127.0.0.1:" + std::to_string(port_) + path};
  if (!query_param.empty()) {
    args.push_back("--data-urlencode");
    args.push_back(query_param);
  }
  return curl(args);
}

std::string PrometheusServer::targetHealth() const {
  auto body = nlohmann::json::parse(api("/api/v1/targets"), nullptr, false);
  if (body.is_discarded()) return "";
  const auto& active = body["data"]["activeTargets"];
  if (!active.is_array() || active.empty()) return "";
  return active[0].value("health", "");
}

nlohmann::json PrometheusServer::query(const std::string& promql) const {
  auto body = nlohmann::json::parse(api("/api/v1/query", "query=" + promql), nullptr, false);
  return body.is_discarded() ? nlohmann::json() : body;
}

std::optional<double> PrometheusServer::scalar(const std::string& promql) const {
  nlohmann::json r = query(promql);
  if (!r.is_object() || r.value("status", "") != "success") return std::nullopt;
  const auto& result = r["data"]["result"];
  if (!result.is_array() || result.empty()) return std::nullopt;
  // Sample values arrive as strings ("12", "NaN", "+Inf").
  return std::stod(result[0]["value"][1].get<std::string>());
}

}  // namespace remora::test
