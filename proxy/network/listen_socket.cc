#include "network/listen_socket.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace remora::network {

Result<std::vector<Fd>> openListenSockets(const network::SocketAddress& address, size_t count) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!address.toSockaddr(ss, len)) return Error{address.str() + ": not a numeric address"};
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
