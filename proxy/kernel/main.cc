#include <cstdio>

int main() {
  std::puts("remora " REMORA_VERSION);
  return 0;
}
