#include "network/transport.h"

#include <cerrno>

namespace remora::network {

ssize_t writeAvailable(Transport& transport, evbuffer* out) {
  size_t len = evbuffer_get_length(out);
  ssize_t total = 0;
  while (len > 0) {
    int n = transport.write(out);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return -1;
    }
    total += n;
    len -= size_t(n);
  }
  return total;
}

}  // namespace remora::network
