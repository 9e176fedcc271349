#pragma once
// Reads the server name (SNI) and ALPN offer of a TLS ClientHello from the first bytes of a
// connection, before any TLS library sees them: protocol detection peeks at those bytes to choose
// between terminating TLS (a certificate matches the name) and passing it through untouched
// (tcp/protocol_detector.h). Only reads; never allocates beyond the results.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace remora::network {

struct ClientHello {
  enum class Status {
    kNeedMore,   // a prefix of a ClientHello: peek again when more bytes arrive
    kNotTls,     // the bytes are not a TLS handshake
    kMalformed,  // a TLS handshake record, but not a ClientHello this parser can read
    kComplete,
  };
  Status status = Status::kNeedMore;
  std::string sni;                // lower case; empty when the client sent none
  std::vector<std::string> alpn;  // as offered, in order
};

// The largest ClientHello read (records of handshake bytes, headers included); a longer one is
// kMalformed.
inline constexpr size_t kMaxClientHelloBytes = 16 * 1024 + 5;

// Parses `bytes`, the connection's first bytes.
ClientHello parseClientHello(std::string_view bytes);

// Whether `bytes` may begin a TLS handshake record (content type 22, version 3.x): enough to
// tell TLS from HTTP and most other protocols by the first two bytes.
inline bool looksLikeTls(std::string_view bytes) {
  return !bytes.empty() && uint8_t(bytes[0]) == 0x16 &&
         (bytes.size() < 2 || uint8_t(bytes[1]) == 0x03);
}

}  // namespace remora::network
