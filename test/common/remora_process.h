#pragma once
// The real remora binary started for one test with a YAML config the test wrote, plus the
// helper that writes the usual single-listener, single-cluster config.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/temp_dir.h"

namespace remora::test {

struct RemoraOptions {
  std::string binary = REMORA_BINARY;
  std::vector<std::string> extra_args;  // after "--config FILE"
  std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
};

class RemoraProcess {
 public:
  // Writes `yaml` to a temp file, starts `remora --config FILE`, and returns once GET /ready
  // on the admin address (admin.address in the YAML, else 127.0.0.1:9901) answers 200. A YAML
  // without admin.control gets a control listener on a free loopback port (controlPort()), so
  // tests running at once never race for the default 127.0.0.1:9902; reload() keeps it.
  // Throws std::runtime_error with remora's output if it exits or is not ready in time.
  explicit RemoraProcess(const std::string& yaml, RemoraOptions options = {});
  // Stops remora (SIGTERM, then SIGKILL after 5 s) if the test did not; when the test has
  // failed, prints remora's output to help explain why.
  ~RemoraProcess();
  RemoraProcess(const RemoraProcess&) = delete;
  RemoraProcess& operator=(const RemoraProcess&) = delete;

  uint16_t adminPort() const { return admin_port_; }  // observe listener
  // The control listener (PUT /config, rollback, drain, POST /logging); 0 on a Unix socket.
  uint16_t controlPort() const { return control_port_; }
  const std::string& configPath() const { return config_path_; }
  Process& process() { return *process_; }
  std::string output() const { return process_->output(); }

  // Replaces the config file atomically (rename) and sends SIGHUP. Does not wait for the new
  // config to apply: poll the admin API or the traffic for that.
  void reload(const std::string& yaml);
  // SIGTERM, then waits up to `timeout` for the drain to finish; nullopt if it did not exit.
  std::optional<ExitStatus> stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

 private:
  TempDir dir_;
  std::string config_path_;
  uint16_t admin_port_ = 9901;
  uint16_t control_port_ = 0;
  std::unique_ptr<Process> process_;
};

// The common test config: one worker, admin on 127.0.0.1:admin_port (control on
// 127.0.0.1:control_port, a free port when 0), no drain grace, one
// listener "ingress" on 127.0.0.1:listener_port routing / to cluster "app" with `endpoints`
// ("127.0.0.1:PORT" each). extra_listener_yaml / extra_cluster_yaml are more keys for the
// listener / cluster mapping, written unindented ("filters:\n  - name: x"); they are indented
// to fit.
std::string basicConfig(uint16_t listener_port, uint16_t admin_port,
                        const std::vector<std::string>& endpoints,
                        const std::string& extra_listener_yaml = "",
                        const std::string& extra_cluster_yaml = "", uint16_t control_port = 0);

}  // namespace remora::test
