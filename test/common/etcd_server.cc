#include "common/etcd_server.h"

#include <signal.h>

#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/net.h"

namespace remora::test {

EtcdServer::EtcdServer() {
  client_port_ = freePort();
  peer_port_ = freePort();
  start();
}

EtcdServer::~EtcdServer() {
  stop();
}

void EtcdServer::start() {
  const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  process_ = std::make_unique<Process>(std::vector<std::string>{
      "/usr/bin/etcd", "--name", "test", "--data-dir", dir_.file("data"), "--listen-client-urls",
      client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer, "--initial-cluster", "test=" + peer, "--log-level",
      "error", "--logger", "zap"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    int code = -1;
    ctl({"endpoint", "health"}, &code);
    if (code == 0) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("etcd did not become healthy:\n" + process_->output());
}

void EtcdServer::stop() {
  if (!process_ || !process_->running()) return;
  process_->kill(SIGTERM);
  if (!process_->waitExit(std::chrono::seconds(5))) {
    process_->kill(SIGKILL);
    process_->waitExit(std::chrono::seconds(5));
  }
}

void EtcdServer::restart() {
  stop();
  start();
}

std::string EtcdServer::ctl(const std::vector<std::string>& args, int* code) {
  std::vector<std::string> argv = {"/usr/bin/etcdctl", "--endpoints=" + endpoint(),
                                   "--dial-timeout=1s", "--command-timeout=3s"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, false);
  auto status = p.waitExit(std::chrono::seconds(10));
  if (code) *code = status ? status->code : -1;
  return p.output();
}

bool EtcdServer::put(const std::string& key, const std::string& value) {
  int code = -1;
  // "--" so a value starting with "-" is not read as a flag.
  ctl({"put", "--", key, value}, &code);
  return code == 0;
}

std::optional<std::string> EtcdServer::get(const std::string& key) {
  int code = -1;
  std::string out = ctl({"get", "--print-value-only", key}, &code);
  if (code != 0 || out.empty()) return std::nullopt;
  if (out.back() == '\n') out.pop_back();
  return out;
}

bool EtcdServer::del(const std::string& key) {
  int code = -1;
  ctl({"del", key}, &code);
  return code == 0;
}

std::vector<std::string> EtcdServer::keys(const std::string& prefix) {
  std::istringstream lines(ctl({"get", "--prefix", "--keys-only", prefix}));
  std::vector<std::string> out;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

int64_t EtcdServer::revision() {
  std::string out = ctl({"get", "/", "--prefix", "--limit=1", "-w", "json"});
  const std::string field = "\"revision\":";
  size_t at = out.find(field);
  if (at == std::string::npos) return 0;
  return std::stoll(out.substr(at + field.size()));
}

bool EtcdServer::compact(int64_t revision) {
  int code = -1;
  ctl({"compact", std::to_string(revision)}, &code);
  return code == 0;
}

}  // namespace remora::test
