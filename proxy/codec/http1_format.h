#pragma once
// Small formatters for the HTTP/1 request path, where snprintf's format parsing cost more than
// the rest of writing a response head.

#include <cstddef>
#include <cstdint>
#include <string>

namespace remora::http {

// Writes "<hex>\r\n" (a chunk-size line) into buf (at least 20 bytes); returns its length.
inline size_t formatChunkSize(char* buf, uint64_t n) {
  static const char kHex[] = "0123456789abcdef";
  char tmp[16];
  size_t k = 0;
  do {
    tmp[k++] = kHex[n & 0xf];
    n >>= 4;
  } while (n != 0);
  size_t len = 0;
  while (k > 0) buf[len++] = tmp[--k];
  buf[len++] = '\r';
  buf[len++] = '\n';
  return len;
}

// Appends the decimal form of n.
inline void appendDecimal(std::string& out, uint64_t n) {
  char tmp[20];
  size_t k = 0;
  do {
    tmp[k++] = char('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (k > 0) out.push_back(tmp[--k]);
}

}  // namespace remora::http
