#pragma once
// Microseconds on CLOCK_MONOTONIC: request and handshake durations (not wall time).

#include <time.h>

#include <cstdint>

namespace remora {

inline uint64_t monotonicMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

}  // namespace remora
