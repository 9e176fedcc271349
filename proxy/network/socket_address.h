#pragma once
// A numeric IPv4/IPv6 address and port: what a listener binds, an upstream endpoint connects
// to, and the config names as "host:port" (resolved at load time, so never a name here).

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace remora::network {

struct SocketAddress {
  std::string host;  // numeric, e.g. "127.0.0.1" or "::1"
  uint16_t port = 0;
  std::string str() const;  // "127.0.0.1:80" or "[::1]:80"
  // Fills `ss` and `len` for bind/connect; false when `host` is not a numeric address.
  bool toSockaddr(sockaddr_storage& ss, socklen_t& len) const;
  // 127.0.0.0/8 or ::1: reachable only from this host (this network namespace, in a pod).
  bool isLoopback() const { return isLoopbackHost(host); }
  static bool isLoopbackHost(const std::string& host) {
    return host.rfind("127.", 0) == 0 || host == "::1";
  }
  bool operator==(const SocketAddress&) const = default;
};

}  // namespace remora::network
