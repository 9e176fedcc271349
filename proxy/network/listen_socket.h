#pragma once
// Listening sockets. Each worker accepts on its own SO_REUSEPORT socket, so the kernel spreads
// connections across workers with no shared accept lock. The main thread creates and binds every
// socket (so a reload that cannot bind is refused before any worker sees it) and hands each
// worker its own.

#include <vector>

#include "common/c_handles.h"
#include "common/result.h"
#include "network/socket_address.h"

namespace remora::network {

// Binds `count` SO_REUSEPORT sockets to `address` and listens on them.
Result<std::vector<Fd>> openListenSockets(const network::SocketAddress& address, size_t count);

}  // namespace remora::network
