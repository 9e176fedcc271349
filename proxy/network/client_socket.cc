#include "network/client_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>

namespace remora::network {

bool startConnect(const sockaddr_storage& addr, socklen_t len, Fd& fd) {
  int s = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  fd.reset(s);
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int rc = ::connect(s, reinterpret_cast<const sockaddr*>(&addr), len);
  return rc == 0 || errno == EINPROGRESS;
}

int connectError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

}  // namespace remora::network
