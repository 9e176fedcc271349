#pragma once
// Binding an admin listener's socket for evhttp: a TCP address (evhttp's own bind) or a Unix
// socket created here with the configured file mode and handed to evhttp as an evconnlistener.

#include <event2/http.h>

#include <cstdint>
#include <string>

#include "common/result.h"
#include "config/config.h"

namespace remora::admin {

// Binds `address` on `http`; returns the bound port (the chosen one when the port is 0). Errors
// begin with `field` and the address: "admin.address 127.0.0.1:9901: Address already in use".
Result<uint16_t> bindTcp(evhttp* http, const std::string& field,
                         const config::SocketAddress& address);

// Binds a Unix stream socket at `path` with permissions `mode` (applied before listen(), so no
// connection is accepted under looser ones). A socket file left by an earlier run is replaced;
// any other file at `path` is an error. Errors begin with `field` and the path.
Status bindUnix(event_base* base, evhttp* http, const std::string& field, const std::string& path,
                uint32_t mode);

}  // namespace remora::admin
