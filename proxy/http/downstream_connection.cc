#include "http/downstream_connection.h"

#include <event2/buffer.h>

#include <cerrno>

#include "network/socket_io.h"

namespace remora::http {

bool writeToSocket(evbuffer* out, int fd, event* write_ev, bool& write_pending,
                   stats::ListenerStats& stats) {
  size_t len = evbuffer_get_length(out);
  while (len > 0) {
    int n = network::socketWrite(out, fd);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return false;
    }
    stats.bytes_sent.inc(uint64_t(n));
    len -= size_t(n);
  }
  bool pending = len > 0;
  if (pending != write_pending) {
    pending ? event_add(write_ev, nullptr) : event_del(write_ev);
    write_pending = pending;
  }
  return true;
}

}  // namespace remora::http
