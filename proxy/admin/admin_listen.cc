#include "admin/admin_listen.h"

#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/c_handles.h"

namespace remora::admin {

Result<uint16_t> bindTcp(evhttp* http, const std::string& field,
                         const config::SocketAddress& address) {
  const std::string where = field + " " + address.str() + ": ";
  errno = 0;
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(http, address.host.c_str(), address.port);
  if (!bound) {
    const int err = errno;
    return Error{where + (err ? std::strerror(err) : "cannot resolve or bind")};
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return Error{where + std::strerror(errno)};
  return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                  : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

Status bindUnix(event_base* base, evhttp* http, const std::string& field, const std::string& path,
                uint32_t mode) {
  const std::string where = field + " " + path + ": ";
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof(sa.sun_path)) return Error{where + "path too long"};
  std::memcpy(sa.sun_path, path.data(), path.size());

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{where + "exists and is not a socket"};
    ::unlink(path.c_str());  // left by an earlier run; nothing can be listening on it now
  }
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{where + std::strerror(errno)};
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
    return Error{where + std::strerror(errno)};
  // Before listen(): until then a connect is refused, so no client gets in under the umask's
  // permissions.
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0 || ::listen(fd.get(), 64) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return Error{where + std::strerror(err)};
  }
  evconnlistener* listener = evconnlistener_new(
      base, nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd.get());
  if (!listener) {
    ::unlink(path.c_str());
    return Error{where + "cannot create the listener"};
  }
  static_cast<void>(fd.release());  // the listener owns it now
  // evhttp frees the listener (and so closes the socket) when the evhttp is freed.
  if (!evhttp_bind_listener(http, listener)) {
    evconnlistener_free(listener);
    ::unlink(path.c_str());
    return Error{where + "cannot bind the HTTP server"};
  }
  return Status();
}

}  // namespace remora::admin
