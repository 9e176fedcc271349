#pragma once
// A per-worker random roll for weighted cluster choice. splitmix64 on a thread_local state:
// no lock, no allocation, and a trivially destructible thread_local, which (unlike one with a
// destructor) does not pin the plugin in memory after dlclose. Not for anything secret.

#include <cstdint>

namespace remora::router {

// Uniform in [0, 100). `seed` (e.g. the monotonic clock) is used once per thread, on first use.
inline uint32_t randomPercent(uint64_t seed) {
  thread_local uint64_t state = 0;
  if (state == 0) {
    // Two workers starting in the same microsecond still differ by their state's address.
    state = seed ^ reinterpret_cast<uintptr_t>(&state) ^ 0x9e3779b97f4a7c15ull;
    if (state == 0) state = 1;
  }
  state += 0x9e3779b97f4a7c15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  // Lemire's multiply-shift: maps 32 random bits onto [0, 100) without a division.
  return static_cast<uint32_t>(((z >> 32) * 100) >> 32);
}

}  // namespace remora::router
