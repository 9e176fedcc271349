#pragma once
// The demo upstream's listening side: one event_base, one listener, the set of live connections
// and the counters /stats reports. Single-threaded on purpose: tests want a predictable peer,
// and one loop easily saturates what a test or the README demo sends.

#include <event2/event.h>
#include <event2/listener.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace remora::demo {

class Connection;

class Server {
 public:
  Server(event_base* base, std::string name);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting; returns the bound port (useful when asked for port 0), or 0
  // with `error` filled.
  uint16_t listen(const sockaddr* addr, int addr_len, std::string& error);

  event_base* base() const { return base_; }
  const std::string& name() const { return name_; }
  uint64_t connectionsAccepted() const { return connections_accepted_; }
  uint64_t requestsServed() const { return requests_served_; }
  void countRequest() { ++requests_served_; }

  // Called by a connection, from the top of one of its own libevent callbacks, once it has
  // nothing left to do; frees it.
  void destroy(Connection* c);

 private:
  static void onAccept(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int len, void* arg);

  event_base* base_;
  std::string name_;
  evconnlistener* listener_ = nullptr;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  uint64_t connections_accepted_ = 0;
  uint64_t requests_served_ = 0;
};

}  // namespace remora::demo
