#include "common/remora_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/http_client.h"
#include "common/net.h"

namespace remora::test {
namespace {

// admin.address from the config, so the readiness probe asks the right port.
uint16_t adminPortOf(const std::string& yaml) {
  try {
    YAML::Node admin = YAML::Load(yaml)["admin"];
    if (admin && admin["address"]) {
      std::string address = admin["address"].as<std::string>();
      return static_cast<uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
    }
  } catch (const std::exception&) {
    // Not our job to judge the config: remora will refuse it and say why.
  }
  return 9901;
}

// A config without admin.control would bind the default 127.0.0.1:9902 in every test at once:
// give it a control listener on a free port (`port`, picked when 0), inserted as text so the
// rest of the YAML stays byte for byte what the test wrote. Sets `port` to the control
// listener's TCP port (0 for a Unix socket). A YAML that does not parse is left as it is:
// remora will refuse it and say why.
std::string withControl(const std::string& yaml, uint16_t& port) {
  try {
    YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap()) return yaml;
    YAML::Node admin = root["admin"];
    if (admin && admin["control"]) {
      YAML::Node control = admin["control"];
      port = 0;
      if (control.IsMap() && control["address"]) {
        const std::string address = control["address"].as<std::string>();
        port = static_cast<uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
      }
      return yaml;
    }
    if (port == 0) port = freePort();
    const std::string control = "control: { address: 127.0.0.1:" + std::to_string(port) + " }";
    std::string out = yaml;
    if (!admin || admin.IsNull()) {
      if (!out.empty() && out.back() != '\n') out += "\n";
      return out + "admin:\n  " + control + "\n";
    }
    if (!admin.IsMap()) return yaml;
    const YAML::Mark mark = admin.Mark();  // "{" of a flow map, the first key of a block map
    const size_t at = static_cast<size_t>(mark.pos);
    if (at < out.size() && out[at] == '{')
      return out.insert(at + 1, " " + control + (admin.size() ? "," : ""));
    return out.insert(at, control + "\n" + std::string(static_cast<size_t>(mark.column), ' '));
  } catch (const std::exception&) {
    return yaml;
  }
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    out += line.empty() ? "\n" : prefix + line + "\n";
  }
  return out;
}

bool readyAnswers200(uint16_t port) {
  HttpClient client(port, std::chrono::seconds(1));
  if (!client.connected()) return false;
  return client.request("GET", "/ready").status == 200;
}

}  // namespace

RemoraProcess::RemoraProcess(const std::string& yaml, RemoraOptions options)
    : config_path_(dir_.file("remora.yaml")), admin_port_(adminPortOf(yaml)) {
  writeFileAtomically(config_path_, withControl(yaml, control_port_));
  std::vector<std::string> argv{options.binary, "--config", config_path_};
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  process_ = std::make_unique<Process>(std::move(argv));
  auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  for (;;) {
    if (!process_->running()) {
      auto st = process_->waitExit(std::chrono::milliseconds(0));
      throw std::runtime_error("remora " + (st ? st->describe() : "exited") +
                               " before it was ready:\n" + process_->output());
    }
    if (readyAnswers200(admin_port_)) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("remora not ready on 127.0.0.1:" + std::to_string(admin_port_) +
                               " within the timeout:\n" + process_->output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

RemoraProcess::~RemoraProcess() {
  if (process_->running()) {
    process_->kill(SIGTERM);
    process_->waitExit(std::chrono::seconds(5));
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- remora output (" << config_path_ << ") ----\n"
              << process_->output() << "---- end of remora output ----\n";
  }
}

void RemoraProcess::reload(const std::string& yaml) {
  writeFileAtomically(config_path_, withControl(yaml, control_port_));
  process_->kill(SIGHUP);
}

std::optional<ExitStatus> RemoraProcess::stop(std::chrono::milliseconds timeout) {
  process_->kill(SIGTERM);
  return process_->waitExit(timeout);
}

std::string basicConfig(uint16_t listener_port, uint16_t admin_port,
                        const std::vector<std::string>& endpoints,
                        const std::string& extra_listener_yaml,
                        const std::string& extra_cluster_yaml, uint16_t control_port) {
  if (control_port == 0) control_port = freePort();
  std::string eps;
  for (const auto& e : endpoints) eps += (eps.empty() ? "" : ", ") + e;
  std::ostringstream y;
  y << "workers: 1\n"
    << "admin: { address: 127.0.0.1:" << admin_port
    << ", control: { address: 127.0.0.1:" << control_port << " } }\n"
    << "drain: { grace_period: 0s, deadline: 5s }\n"
    << "listeners:\n"
    << "  - name: ingress\n"
    << "    address: 127.0.0.1:" << listener_port << "\n"
    << "    routes: [ { prefix: /, cluster: app } ]\n"
    << indent(extra_listener_yaml, "    ") << "clusters:\n"
    << "  - name: app\n"
    << "    endpoints: [" << eps << "]\n"
    << indent(extra_cluster_yaml, "    ");
  return y.str();
}

}  // namespace remora::test
