#pragma once
// What a connection's first bytes are, for `protocol: auto` listeners: HTTP/1 (a request line
// ending in HTTP/1.0 or HTTP/1.1), the HTTP/2 client preface, a TLS ClientHello (with its SNI),
// or anything else (opaque TCP). Pure functions over the bytes peeked so far.

#include <string>
#include <string_view>

namespace remora::tcp {

enum class Sniffed { kNeedMore, kHttp1, kHttp2, kTls, kOther };

struct SniffResult {
  Sniffed kind = Sniffed::kNeedMore;
  std::string sni;  // kTls: the ClientHello's server name (lower case), or empty
};

// The most bytes a decision needs: a whole ClientHello, or an HTTP/1 request line that long.
inline constexpr size_t kMaxSniffBytes = 16 * 1024 + 5;

SniffResult sniff(std::string_view bytes);

}  // namespace remora::tcp
