#include "network/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace remora::network {

Result<std::vector<Fd>> openListenSockets(const network::SocketAddress& address, size_t count) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    len = sizeof(sockaddr_in6);
  } else {
    return Error{address.str() + ": not a numeric address"};
  }
  std::vector<Fd> fds;
  for (size_t i = 0; i < count; ++i) {
    Fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return Error{address.str() + ": socket: " + std::strerror(errno)};
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
      return Error{address.str() + ": bind: " + std::strerror(errno)};
    if (::listen(fd.get(), 4096) < 0)
      return Error{address.str() + ": listen: " + std::strerror(errno)};
    fds.push_back(std::move(fd));
  }
  return fds;
}

}  // namespace remora::network
