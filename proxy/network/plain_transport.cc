#include "network/plain_transport.h"

#include <sys/socket.h>

#include "network/socket_io.h"

namespace remora::network {

ssize_t PlainTransport::read(char* buf, size_t len) {
  return socketRead(fd_.get(), buf, len);
}

int PlainTransport::write(evbuffer* out) {
  return socketWrite(out, fd_.get());
}

void PlainTransport::shutdownWrite() {
  ::shutdown(fd_.get(), SHUT_WR);
}

}  // namespace remora::network
