#pragma once
// test/tools/h2_test_server.py (python3-h2, run with /usr/bin/python3): a cleartext HTTP/2
// endpoint for the tests of HTTP/2 clusters, started on a free port and stopped (by PID) with
// the object. Its paths are listed at the top of the script.

#include <memory>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/proxy_under_test.h"

namespace remora::test {

class H2TestServer {
 public:
  // `args`: the script's options (--max-streams N, --goaway-after N). Throws if it does not
  // start within 10 s.
  explicit H2TestServer(std::vector<std::string> args = {});
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void signal(int sig) { process_->kill(sig); }
  // Kills the server now (its connections reset), rather than when the test ends.
  void stop() { process_.reset(); }

 private:
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

// The proxy in front of one HTTP/2 endpoint (cluster `protocol: http2`), with extra cluster
// keys (`cluster_yaml`, one per line).
std::unique_ptr<ProxyUnderTest> proxyToHttp2(const std::string& endpoint,
                                             const std::string& cluster_yaml = "");

}  // namespace remora::test
