#pragma once
// A real etcd (Debian's etcd-server) started for one test on free 127.0.0.1 ports with a
// private --data-dir, stopped by PID. restart() keeps the data dir, as an etcd restart does.
// put/get/del/keys go through etcdctl (etcd-client).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/temp_dir.h"

namespace remora::test {

class EtcdServer {
 public:
  // Throws std::runtime_error with etcd's output if it is not healthy within 15 s.
  EtcdServer();
  ~EtcdServer();

  uint16_t port() const { return client_port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  void stop();     // SIGTERM, then SIGKILL after 5 s
  void restart();  // same ports, same data dir

  bool put(const std::string& key, const std::string& value);
  // The value, or nullopt when the key is absent.
  std::optional<std::string> get(const std::string& key);
  bool del(const std::string& key);
  std::vector<std::string> keys(const std::string& prefix);
  // The store revision (from etcdctl endpoint status), or 0.
  int64_t revision();
  bool compact(int64_t revision);

 private:
  void start();
  std::string ctl(const std::vector<std::string>& args, int* code = nullptr);

  TempDir dir_;
  uint16_t client_port_ = 0;
  uint16_t peer_port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace remora::test
