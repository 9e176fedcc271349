#include "http/downstream_connection.h"

#include <arpa/inet.h>
#include <event2/buffer.h>

namespace remora::http {

std::string peerText(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "unknown";
  if (sa == nullptr) return buf;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof(buf));
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof(buf));
  return buf;
}

bool writeOut(evbuffer* out, network::Transport& transport, event* write_ev, bool& write_pending,
              stats::ListenerStats& stats) {
  size_t len = evbuffer_get_length(out);
  ssize_t n = network::writeAvailable(transport, out, len);
  if (n < 0) return false;
  stats.bytes_sent.inc(uint64_t(n));
  bool pending = len > 0 || transport.wantsWrite();
  if (pending != write_pending) {
    pending ? event_add(write_ev, nullptr) : event_del(write_ev);
    write_pending = pending;
  }
  return true;
}

}  // namespace remora::http
