#include "common/h2_test_server.h"

#include <chrono>
#include <stdexcept>

namespace remora::test {

H2TestServer::H2TestServer(std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   std::string(REMORA_SOURCE_DIR) + "/test/tools/h2_test_server.py",
                                   "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<Process>(argv);
  if (!process_->waitForOutput("listening ", std::chrono::seconds(10)))
    throw std::runtime_error("h2_test_server did not start: " + process_->output());
  const std::string out = process_->output();
  port_ = uint16_t(std::stoi(out.substr(out.find("listening ") + 10)));
}

std::unique_ptr<ProxyUnderTest> proxyToHttp2(const std::string& endpoint,
                                             const std::string& cluster_yaml) {
  ProxySpec spec;
  spec.upstreams = 0;
  spec.extra_endpoints = {endpoint};
  spec.cluster_yaml = "protocol: http2\n" + cluster_yaml;
  return std::make_unique<ProxyUnderTest>(spec);
}

}  // namespace remora::test
