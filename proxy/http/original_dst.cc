#include "http/original_dst.h"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>

#include <cstring>

namespace remora::http {
namespace {

uint16_t portOf(const sockaddr_storage& a) {
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port)
                                 : ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
}

std::string hostOf(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof(buf));
  else
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof(buf));
  return buf;
}

bool sameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family || portOf(a) != portOf(b)) return false;
  if (a.ss_family == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                       &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, 16) == 0;
  }
  return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
         reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
}

// The destination names one of this proxy's listeners: the same host, or a wildcard listener
// reached over loopback.
bool namesOwnListener(const std::string& host, uint16_t port,
                      const std::vector<config::SocketAddress>& own) {
  for (const config::SocketAddress& l : own) {
    if (l.port != port) continue;
    if (l.host == host) return true;
    if ((l.host == "0.0.0.0" || l.host == "::") && config::SocketAddress::isLoopbackHost(host))
      return true;
  }
  return false;
}

}  // namespace

std::string formatSockaddr(const sockaddr_storage& addr) {
  std::string host = hostOf(addr);
  if (addr.ss_family == AF_INET6) host = "[" + host + "]";
  return host + ":" + std::to_string(portOf(addr));
}

std::optional<OriginalDst> recoverOriginalDst(int fd,
                                              const std::vector<config::SocketAddress>& own) {
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return std::nullopt;
  OriginalDst dst;
  dst.len = sizeof(dst.addr);
  int rc = local.ss_family == AF_INET6
               ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst.addr, &dst.len)
               : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst.addr, &dst.len);
  if (rc != 0) return std::nullopt;
  dst.text = formatSockaddr(dst.addr);
  dst.port = portOf(dst.addr);
  // Without a REDIRECT the "original" destination is the listener's own address.
  dst.loops =
      sameAddress(dst.addr, local) || namesOwnListener(hostOf(dst.addr), portOf(dst.addr), own);
  return dst;
}

}  // namespace remora::http
