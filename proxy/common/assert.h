#pragma once
// REMORA_ASSERT is for invariants the code can prove, never for network input.

#include <cstdio>
#include <cstdlib>

#define REMORA_ASSERT(cond)                                                                       \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "remora: assertion failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
