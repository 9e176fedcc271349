#include "common/observe.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "common/temp_dir.h"

namespace remora::test {

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(step);
  }
}

UpstreamCounts UpstreamStats::read() {
  ++probes_;
  std::string body = httpGet(port_, "/stats");
  unsigned long long connections = 0, requests = 0;
  if (std::sscanf(body.c_str(), "connections=%llu requests=%llu", &connections, &requests) != 2) {
    throw std::runtime_error("upstream /stats on port " + std::to_string(port_) +
                             " answered: " + body);
  }
  return {connections - probes_, requests - probes_};
}

HttpResponse adminGet(uint16_t admin_port, const std::string& path) {
  HttpClient client(admin_port, std::chrono::seconds(5));
  return client.request("GET", path, {{"Connection", "close"}});
}

double metricValue(const std::string& metrics_text, std::string_view name,
                   const std::vector<std::string>& labels) {
  double sum = 0;
  std::istringstream in(metrics_text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;  // another metric sharing the prefix
    size_t value_at = line.rfind(' ');
    std::string series = line.substr(0, value_at);
    bool all = true;
    for (const std::string& l : labels) all = all && series.find(l) != std::string::npos;
    if (all) sum += std::stod(line.substr(value_at + 1));
  }
  return sum;
}

double scrapeMetric(uint16_t admin_port, std::string_view name,
                    const std::vector<std::string>& labels) {
  return metricValue(adminGet(admin_port, "/metrics").body, name, labels);
}

uint64_t residentBytes(pid_t pid) {
  std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    unsigned long long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %llu kB", &kb) == 1) return kb * 1024;
  }
  return 0;
}

RssSampler::RssSampler(pid_t pid) : pid_(pid) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      uint64_t rss = residentBytes(pid_);
      if (rss > peak_.load()) peak_.store(rss);
      samples_.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

RssSampler::~RssSampler() {
  stop();
}

void RssSampler::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace remora::test
