#pragma once
// Opening a connection to an upstream: a non-blocking TCP socket with TCP_NODELAY whose connect
// is under way, and the check once its write event fires. Both upstream connection kinds start
// this way, then wrap the socket in a Transport.

#include <sys/socket.h>

#include "common/c_handles.h"

namespace remora::network {

// Opens a socket for `addr` and starts connecting. Returns false when the socket could not be
// made or connect failed at once (the error in errno); `fd` holds the socket whenever one was
// made, so the caller can still register events on it and report the failure from the loop.
bool startConnect(const sockaddr_storage& addr, socklen_t len, Fd& fd);

// After a connecting socket became writable: 0 when it is connected, else its error (an errno
// value, e.g. ECONNREFUSED).
int connectError(int fd);

}  // namespace remora::network
