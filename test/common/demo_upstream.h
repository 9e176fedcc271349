#pragma once
// The demo upstream (tools/demo_upstream) started for one test on 127.0.0.1 and a port it
// picks itself; the constructor returns once it has announced that port.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/process.h"

namespace remora::test {

class DemoUpstream {
 public:
  // Throws std::runtime_error (with the child's output) if it does not come up within 10 s.
  explicit DemoUpstream(std::string name = "upstream");

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& name() const { return name_; }
  Process& process() { return *process_; }

  // SIGTERM and wait; the demo upstream exits 0 on SIGTERM.
  std::optional<ExitStatus> stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::string name_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

}  // namespace remora::test
