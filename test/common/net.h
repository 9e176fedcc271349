#pragma once
// Port selection for tests: everything listens on 127.0.0.1 on ports chosen at run time.

#include <cstdint>

namespace remora::test {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). For
// servers that cannot announce the port they bound themselves, such as remora's listeners.
uint16_t freePort();

}  // namespace remora::test
