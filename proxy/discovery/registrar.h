#pragma once
// Registrar: announces this sidecar's local service instance at
// `<registration.prefix><service>/<instance>` = {"address":"10.0.0.5:8080","instance":"web-1"},
// attached to a lease kept alive every TTL/3. When the sidecar dies (even kill -9) the
// keepalives stop and etcd deletes the key within the TTL. If the lease is lost (etcd was
// unreachable longer than the TTL) a new one is granted and the key written again. Main thread.

#include <string>

#include "common/c_handles.h"
#include "config/config.h"
#include "etcd/etcd_client.h"

namespace remora::discovery {

class Registrar {
 public:
  Registrar(etcd::Client& client, const config::Registration& registration,
            const std::string& instance);
  void start() { grant(); }
  const std::string& key() const { return key_; }

 private:
  static void onTimer(evutil_socket_t, short, void* arg);
  void grant();
  void keepAlive();
  void schedule(int64_t ms);
  void fail(const std::string& why);

  etcd::Client& client_;
  std::string key_;
  std::string value_;
  int64_t ttl_s_;
  int64_t lease_ = 0;
  bool registered_ = false;
  etcd::Backoff backoff_;
  EventPtr timer_;
  etcd::ExchangeHandle call_;
};

}  // namespace remora::discovery
