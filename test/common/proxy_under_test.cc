#include "common/proxy_under_test.h"

#include <stdexcept>

#include "common/net.h"

namespace remora::test {

ProxyUnderTest::ProxyUnderTest(const ProxySpec& spec) {
  std::vector<std::string> endpoints;
  for (size_t i = 0; i < spec.upstreams; ++i) {
    upstreams_.push_back(std::make_unique<DemoUpstream>("up" + std::to_string(i)));
    endpoints.push_back(upstreams_.back()->address());
  }
  endpoints.insert(endpoints.end(), spec.extra_endpoints.begin(), spec.extra_endpoints.end());
  port_ = freePort();
  admin_port_ = freePort();
  yaml_ = basicConfig(port_, admin_port_, endpoints, spec.listener_yaml, spec.cluster_yaml);
  if (!spec.drain.empty()) {
    const std::string line = "drain: { grace_period: 0s, deadline: 5s }";
    size_t at = yaml_.find(line);
    if (at == std::string::npos) throw std::logic_error("basicConfig() has no drain line");
    yaml_.replace(at, line.size(), "drain: " + spec.drain);
  }
  remora_ = std::make_unique<RemoraProcess>(yaml_);
}

}  // namespace remora::test
