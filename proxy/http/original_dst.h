#pragma once
// The original destination of a redirected connection. An iptables REDIRECT (see
// deploy/iptables-init.sh) rewrites a connection's destination to a Remora listener; conntrack
// remembers the address the client asked for, and getsockopt(SO_ORIGINAL_DST) (IPv4) or
// getsockopt(IP6T_SO_ORIGINAL_DST) (IPv6) returns it. Recovered once at accept, on listeners with
// `original_dst: true`, and kept for the connection's life.

#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace remora::http {

struct OriginalDst {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;   // "10.0.0.2:8080" or "[fd00::2]:80": the metadata value and the pool key
  uint16_t port = 0;  // the destination port (opaque_ports are matched against it)
  // Forwarding there would come straight back into this proxy: the connection was not
  // redirected (it was made to the listener itself) or it names another Remora listener.
  bool loops = false;
};

// Recovers `fd`'s original destination. Nullopt when the socket has none (no conntrack entry,
// e.g. a connection over a path iptables does not NAT). `own` lists this proxy's listener
// addresses, to flag a destination that would loop back.
std::optional<OriginalDst> recoverOriginalDst(int fd,
                                              const std::vector<config::SocketAddress>& own);

// "ip:port" / "[ip6]:port" of a socket address.
std::string formatSockaddr(const sockaddr_storage& addr);

}  // namespace remora::http
