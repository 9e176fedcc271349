#pragma once
// The usual arrangement of a proxy test: N demo upstreams ("up0", "up1", ...), and the real remora
// in front of them with basicConfig() (one listener on a free port, one cluster "app" over every
// upstream), already answering /ready when the constructor returns.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/demo_upstream.h"
#include "common/remora_process.h"

namespace remora::test {

struct ProxySpec {
  size_t upstreams = 1;
  std::string listener_yaml;  // extra listener keys, as for basicConfig()
  std::string cluster_yaml;   // extra cluster keys
  // Endpoints added after the upstreams' (e.g. a port nobody listens on).
  std::vector<std::string> extra_endpoints;
  // The drain section's value, in place of basicConfig()'s "{ grace_period: 0s, deadline: 5s }".
  std::string drain;
};

class ProxyUnderTest {
 public:
  explicit ProxyUnderTest(const ProxySpec& spec = {});

  uint16_t port() const { return port_; }
  uint16_t adminPort() const { return admin_port_; }
  // The control listener: PUT /config, rollback, drain, POST /logging.
  uint16_t controlPort() const { return remora_->controlPort(); }
  DemoUpstream& upstream(size_t i = 0) { return *upstreams_.at(i); }
  RemoraProcess& remora() { return *remora_; }
  const std::string& yaml() const { return yaml_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::vector<std::unique_ptr<DemoUpstream>> upstreams_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::string yaml_;
  std::unique_ptr<RemoraProcess> remora_;
};

}  // namespace remora::test
