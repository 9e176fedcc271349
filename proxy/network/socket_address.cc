#include "network/socket_address.h"

namespace remora::network {

std::string SocketAddress::str() const {
  // IPv6 hosts need brackets so the port's colon stays unambiguous.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace remora::network
