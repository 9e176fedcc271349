#pragma once
// What the filter integration tests share: a temp plugin directory holding copies of the real
// built plugins, a config writer for one listener running a filter chain, admin API reads
// (JSON, Prometheus text) and bounded polling.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/remora_process.h"
#include "common/temp_dir.h"

namespace remora::test {

// A temp directory with plugins/ (what remora scans) and cache/ (its content-addressed copies),
// plus room for the test's own files (access logs, keys).
class PluginDir {
 public:
  PluginDir();
  // Copies build/filters/NAME.so into plugins/.
  void addFilter(const std::string& name);
  // Copies build/test/plugins/NAME.so into plugins/.
  void addTestPlugin(const std::string& name);
  const std::string& path() const { return plugins_; }
  std::string pluginFile(const std::string& name) const { return plugins_ + "/" + name + ".so"; }
  std::string cacheDir() const { return dir_.file("cache"); }
  // A scratch file in the temp directory (not in plugins/).
  std::string file(const std::string& name) const { return dir_.file(name); }

 private:
  TempDir dir_;
  std::string plugins_;
};

// One chain entry: the plugin's name and its config block.
struct FilterSpec {
  std::string name;
  nlohmann::json config = nlohmann::json::object();
};

struct ClusterSpec {
  std::string name;
  std::vector<std::string> endpoints;  // "127.0.0.1:PORT"
  std::string extra_yaml;              // more keys of the cluster mapping, unindented
};

// workers, admin on 127.0.0.1:admin_port (control on 127.0.0.1:control_port, a free port when
// 0), no drain grace, plugins from `plugins`, one listener
// "ingress" on 127.0.0.1:listener_port running `chain` in order, and `clusters`.
std::string chainConfig(const PluginDir& plugins, uint16_t listener_port, uint16_t admin_port,
                        const std::vector<FilterSpec>& chain,
                        const std::vector<ClusterSpec>& clusters, int workers = 1,
                        uint16_t control_port = 0);

// The real remora binary running one filter chain (chainConfig) on ports picked at start.
class FilterProxy {
 public:
  FilterProxy(const PluginDir& plugins, const std::vector<FilterSpec>& chain,
              const std::vector<ClusterSpec>& clusters, int workers = 1);

  uint16_t port() const { return port_; }
  uint16_t adminPort() const { return admin_port_; }
  // The control listener: PUT /config, rollback, drain, POST /logging.
  uint16_t controlPort() const { return control_port_; }
  RemoraProcess& remora() { return *remora_; }
  // The config for these ports and plugins with another chain and clusters (for reload()).
  std::string config(const std::vector<FilterSpec>& chain,
                     const std::vector<ClusterSpec>& clusters) const;

  // One request on a fresh connection ("connection: close").
  HttpResponse request(const std::string& method, const std::string& path,
                       std::vector<std::pair<std::string, std::string>> headers = {},
                       const std::string& body = "") const;
  HttpResponse get(const std::string& path,
                   std::vector<std::pair<std::string, std::string>> headers = {}) const {
    return request("GET", path, std::move(headers));
  }
  // The admin /metrics text.
  std::string metrics() const;

 private:
  const PluginDir& plugins_;
  int workers_;
  uint16_t port_;
  uint16_t admin_port_;
  uint16_t control_port_;
  std::unique_ptr<RemoraProcess> remora_;
};

// GET on the admin listener; the body, or "" when the request failed.
std::string adminBody(uint16_t admin_port, const std::string& path);
// GET and parse as JSON; a null json when the body is not JSON.
nlohmann::json adminJson(uint16_t admin_port, const std::string& path);

// The value of the first sample in Prometheus text `metrics` named `name` whose labels include
// every pair of `labels` (other labels may be present); nullopt when there is none.
std::optional<double> findMetric(const std::string& metrics, const std::string& name,
                                 const std::map<std::string, std::string>& labels = {});

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Lines of a text file (without the newlines); an empty vector if it cannot be read.
std::vector<std::string> readLines(const std::string& path);

}  // namespace remora::test
