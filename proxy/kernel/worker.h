#pragma once
// Worker: one thread, one event loop, its own listening sockets, downstream connections and
// upstream pools. Nothing here is shared with other workers; the main thread talks to a worker
// only by posting closures (install, drain, stop).

#include <event2/listener.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "http/http2_server_connection.h"
#include "http/listener_runtime.h"
#include "http/server_connection.h"
#include "kernel/snapshot.h"
#include "stats/stats.h"
#include "tcp/protocol_detector.h"
#include "tcp/tcp_proxy.h"

namespace remora {

class Worker : public tcp::DetectionOwner {
 public:
  Worker(size_t index, stats::Store& store);
  ~Worker() override;

  void start();
  // Posts exit and joins the thread.
  void stop();

  // Main thread: installs a snapshot. `sockets` holds this worker's new listening socket for
  // each listener whose address is new or changed (by listener name). `done` runs on this
  // worker's thread once installed, given the time the install began there.
  using InstallDone = std::function<void(std::chrono::steady_clock::time_point begun)>;
  void install(SnapshotPtr snapshot, std::map<std::string, Fd> sockets, InstallDone done);

  // Main thread: stop accepting, close idle connections, close the rest after their current
  // response; `drained` runs on this worker's thread when no connection is left.
  void drain(std::function<void()> drained);

  // ConnectionOwner.
  bool draining() const override { return draining_; }
  void onConnectionClosed(http::DownstreamConnection& conn) override;
  void startHttp2(std::shared_ptr<http::ListenerSlot> slot,
                  std::unique_ptr<network::Transport> transport, std::string peer,
                  std::string_view initial) override;
  void startCodec(std::shared_ptr<http::ListenerSlot> slot,
                  std::unique_ptr<network::Transport> transport, std::string peer,
                  bool http2) override;
  // DetectionOwner (worker_tcp.cc).
  void startDetected(std::shared_ptr<http::ListenerSlot> slot, Fd fd, std::string peer,
                     tcp::Detection detection) override;

  Dispatcher& dispatcher() { return dispatcher_; }

  // Any thread: a discovered cluster's new endpoint set (etcd, dns). Kept by name, so a
  // WorkerCluster created by a later snapshot starts with it.
  void updateEndpoints(const std::string& cluster,
                       std::shared_ptr<const std::vector<config::SocketAddress>> endpoints);

  // Any thread: outlier ejection of one endpoint on this worker.
  void ejectEndpoint(const std::string& cluster, const std::string& address, uint32_t ms);
  // Any thread: active health checking's verdict on one endpoint, for this worker's pools.
  void setEndpointHealth(const std::string& cluster, const std::string& address, bool healthy);

 private:
  struct ActiveListener {
    config::SocketAddress address;
    std::shared_ptr<http::ListenerSlot> slot;
    evconnlistener* listener = nullptr;
  };

  static void onAccept(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  void installOnThread(const SnapshotPtr& snapshot, std::map<std::string, Fd>& sockets);
  std::shared_ptr<const http::ListenerRuntime> compile(const config::Listener& l,
                                                       const Snapshot& snapshot);
  void checkDrained();
  // The accepted socket's first handler, by the listener's protocol (worker_tcp.cc).
  void startConnection(const std::shared_ptr<http::ListenerSlot>& slot, Fd fd, std::string peer);
  void startHttp1(const std::shared_ptr<http::ListenerSlot>& slot, Fd fd, std::string peer);
  void startTlsHandshake(const std::shared_ptr<http::ListenerSlot>& slot, Fd fd, std::string peer);
  // Opaque bytes to `cluster` (nullptr: the listener's TCP destination); closes the connection,
  // counted as `refusal`, when there is none. `dst`: the original destination if already
  // recovered (else recovered here when the cluster needs it).
  void startTcp(const std::shared_ptr<http::ListenerSlot>& slot,
                std::unique_ptr<network::Transport> transport, std::string peer,
                std::shared_ptr<upstream::WorkerCluster> cluster = nullptr,
                stats::TcpClose refusal = stats::TcpClose::kNoRoute,
                std::optional<http::OriginalDst> dst = std::nullopt);
  // Resolves a listener's `tcp:` destinations for this worker (compile).
  void compileTcp(const config::Listener& l, http::ListenerRuntime& rt);

  size_t index_;
  stats::Store& store_;
  Dispatcher dispatcher_;
  std::thread thread_;
  SnapshotPtr snapshot_;
  std::map<std::string, std::shared_ptr<upstream::WorkerCluster>> clusters_;
  std::map<std::string, ActiveListener> listeners_;
  std::map<std::string, std::shared_ptr<const std::vector<config::SocketAddress>>> discovered_;
  std::unordered_set<http::DownstreamConnection*> connections_;
  bool draining_ = false;
  bool stopping_ = false;
  // original_dst listeners without tcp.cluster: opaque bytes go to their original destination.
  std::shared_ptr<upstream::WorkerCluster> passthrough_;
  size_t tls_handshakes_ = 0;  // in progress on this worker (every TLS listener's)
  std::function<void()> drained_;
};

}  // namespace remora
