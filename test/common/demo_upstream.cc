#include "common/demo_upstream.h"

#include <signal.h>

#include <stdexcept>

namespace remora::test {

DemoUpstream::DemoUpstream(std::string name) : name_(std::move(name)) {
  process_ = std::make_unique<Process>(
      std::vector<std::string>{REMORA_DEMO_UPSTREAM, "--listen", "127.0.0.1:0", "--name", name_});
  const std::string marker = "listening on 127.0.0.1:";
  if (!process_->waitForOutput("\n", std::chrono::seconds(10))) {
    throw std::runtime_error("demo upstream '" + name_ + "' did not start: " + process_->output());
  }
  std::string out = process_->output();
  size_t at = out.find(marker);
  if (at == std::string::npos) {
    throw std::runtime_error("demo upstream '" + name_ + "' printed no port: " + out);
  }
  port_ = static_cast<uint16_t>(std::stoul(out.substr(at + marker.size())));
}

std::optional<ExitStatus> DemoUpstream::stop(std::chrono::milliseconds timeout) {
  process_->kill(SIGTERM);
  return process_->waitExit(timeout);
}

}  // namespace remora::test
