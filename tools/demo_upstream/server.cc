#include "server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "connection.h"

namespace remora::demo {

Server::Server(event_base* base, std::string name) : base_(base), name_(std::move(name)) {}

Server::~Server() {
  connections_.clear();  // before the listener and, above all, before the event_base goes
  if (listener_ != nullptr) evconnlistener_free(listener_);
}

uint16_t Server::listen(const sockaddr* addr, int addr_len, std::string& error) {
  listener_ = evconnlistener_new_bind(
      base_, &Server::onAccept, this,
      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024, addr, addr_len);
  if (listener_ == nullptr) {
    error = std::strerror(errno);
    return 0;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&bound), &len);
  if (bound.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void Server::destroy(Connection* c) {
  connections_.erase(c);
}

void Server::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* server = static_cast<Server*>(arg);
  // Responses are written in one piece per event; Nagle would only add a delayed-ACK stall
  // to pipelined and small request/response exchanges.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  evutil_make_socket_nonblocking(fd);
  ++server->connections_accepted_;
  auto conn = std::make_unique<Connection>(*server, fd);
  Connection* key = conn.get();
  server->connections_.emplace(key, std::move(conn));
}

}  // namespace remora::demo
