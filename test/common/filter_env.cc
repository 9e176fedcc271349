#include "common/filter_env.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "common/net.h"

namespace remora::test {
namespace {

namespace fs = std::filesystem;

std::string indent(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) out += line.empty() ? "\n" : prefix + line + "\n";
  return out;
}

// Parses `name{a="x",b="y"} value` (or `name value`); false for comments and odd lines.
bool parseSample(const std::string& line, std::string& name,
                 std::map<std::string, std::string>& labels, double& value) {
  if (line.empty() || line[0] == '#') return false;
  size_t brace = line.find('{');
  size_t space = line.rfind(' ');
  if (space == std::string::npos) return false;
  labels.clear();
  if (brace != std::string::npos && brace < space) {
    name = line.substr(0, brace);
    size_t end = line.rfind('}', space);
    if (end == std::string::npos) return false;
    size_t i = brace + 1;
    while (i < end) {
      size_t eq = line.find("=\"", i);
      if (eq == std::string::npos || eq > end) break;
      std::string key = line.substr(i, eq - i);
      std::string v;
      size_t j = eq + 2;
      for (; j < end && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < end) ++j;
        v.push_back(line[j]);
      }
      labels[key] = v;
      i = j + 1;
      if (i < end && line[i] == ',') ++i;
    }
  } else {
    name = line.substr(0, space);
  }
  try {
    value = std::stod(line.substr(space + 1));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

PluginDir::PluginDir() : plugins_(dir_.file("plugins")) {
  fs::create_directories(plugins_);
}

void PluginDir::addFilter(const std::string& name) {
  fs::copy_file(std::string(REMORA_FILTER_DIR) + "/" + name + ".so", pluginFile(name),
                fs::copy_options::overwrite_existing);
}

void PluginDir::addTestPlugin(const std::string& name) {
  fs::copy_file(std::string(REMORA_TEST_PLUGIN_DIR) + "/" + name + ".so", pluginFile(name),
                fs::copy_options::overwrite_existing);
}

std::string chainConfig(const PluginDir& plugins, uint16_t listener_port, uint16_t admin_port,
                        const std::vector<FilterSpec>& chain,
                        const std::vector<ClusterSpec>& clusters, int workers,
                        uint16_t control_port) {
  if (control_port == 0) control_port = freePort();
  std::ostringstream y;
  y << "workers: " << workers << "\n"
    << "admin: { address: 127.0.0.1:" << admin_port
    << ", control: { address: 127.0.0.1:" << control_port << " } }\n"
    << "drain: { grace_period: 0s, deadline: 5s }\n"
    << "plugins: { dir: " << plugins.path() << ", cache_dir: " << plugins.cacheDir() << " }\n"
    << "listeners:\n"
    << "  - name: ingress\n"
    << "    address: 127.0.0.1:" << listener_port << "\n"
    << "    filters:\n";
  // A JSON document is a YAML flow mapping, so each config block is written as one line.
  for (const FilterSpec& f : chain)
    y << "      - name: " << f.name << "\n        config: " << f.config.dump() << "\n";
  y << "clusters:\n";
  for (const ClusterSpec& c : clusters) {
    std::string eps;
    for (const auto& e : c.endpoints) eps += (eps.empty() ? "" : ", ") + e;
    y << "  - name: " << c.name << "\n"
      << "    endpoints: [" << eps << "]\n"
      << indent(c.extra_yaml, "    ");
  }
  return y.str();
}

FilterProxy::FilterProxy(const PluginDir& plugins, const std::vector<FilterSpec>& chain,
                         const std::vector<ClusterSpec>& clusters, int workers)
    : plugins_(plugins),
      workers_(workers),
      port_(freePort()),
      admin_port_(freePort()),
      control_port_(freePort()) {
  remora_ = std::make_unique<RemoraProcess>(config(chain, clusters));
}

std::string FilterProxy::config(const std::vector<FilterSpec>& chain,
                                const std::vector<ClusterSpec>& clusters) const {
  return chainConfig(plugins_, port_, admin_port_, chain, clusters, workers_, control_port_);
}

HttpResponse FilterProxy::request(const std::string& method, const std::string& path,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  const std::string& body) const {
  HttpClient client(port_);
  headers.emplace_back("Connection", "close");
  return client.request(method, path, headers, body);
}

std::string FilterProxy::metrics() const {
  return adminBody(admin_port_, "/metrics");
}

std::string adminBody(uint16_t admin_port, const std::string& path) {
  HttpClient client(admin_port, std::chrono::seconds(5));
  HttpResponse r = client.request("GET", path, {{"Connection", "close"}});
  return r.ok() && r.status == 200 ? r.body : std::string();
}

nlohmann::json adminJson(uint16_t admin_port, const std::string& path) {
  return nlohmann::json::parse(adminBody(admin_port, path), nullptr, /*allow_exceptions=*/false);
}

std::optional<double> findMetric(const std::string& metrics, const std::string& name,
                                 const std::map<std::string, std::string>& labels) {
  std::istringstream in(metrics);
  std::string sample_name;
  std::map<std::string, std::string> sample_labels;
  double value = 0;
  for (std::string line; std::getline(in, line);) {
    if (!parseSample(line, sample_name, sample_labels, value) || sample_name != name) continue;
    bool all = true;
    for (const auto& [k, v] : labels) {
      auto it = sample_labels.find(k);
      all &= it != sample_labels.end() && it->second == v;
    }
    if (all) return value;
  }
  return std::nullopt;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace remora::test
