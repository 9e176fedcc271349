#include "tcp/sniff.h"

#include "network/client_hello.h"

namespace remora::tcp {
namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kMaxMethod = 20;

bool isUpper(char c) {
  return c >= 'A' && c <= 'Z';
}

// "GET /x HTTP/1.1\r\n": a method of capitals, a space, and a line ending in HTTP/1.0 or 1.1.
// A method and space with no line end yet waits; a request line longer than the peek that began
// like one is HTTP (the codec answers it 414/431).
Sniffed sniffHttp1(std::string_view b) {
  size_t i = 0;
  while (i < b.size() && i <= kMaxMethod && isUpper(b[i])) ++i;
  if (i == b.size()) return i <= kMaxMethod ? Sniffed::kNeedMore : Sniffed::kOther;
  if (i == 0 || b[i] != ' ') return Sniffed::kOther;
  const size_t eol = b.find('\n', i);
  if (eol == std::string_view::npos)
    return b.size() >= kMaxSniffBytes ? Sniffed::kHttp1 : Sniffed::kNeedMore;
  std::string_view line = b.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  constexpr std::string_view k10 = " HTTP/1.0", k11 = " HTTP/1.1";
  if (line.size() > k11.size()) {
    std::string_view tail = line.substr(line.size() - k11.size());
    if (tail == k10 || tail == k11) return Sniffed::kHttp1;
  }
  return Sniffed::kOther;
}

}  // namespace

SniffResult sniff(std::string_view bytes) {
  SniffResult out;
  if (bytes.empty()) return out;
  if (network::looksLikeTls(bytes)) {
    network::ClientHello hello = network::parseClientHello(bytes);
    using Status = network::ClientHello::Status;
    switch (hello.status) {
      case Status::kNeedMore:
        return out;
      case Status::kComplete:
        out.sni = std::move(hello.sni);
        out.kind = Sniffed::kTls;
        return out;
      case Status::kMalformed:
        out.kind = Sniffed::kTls;  // TLS by its first bytes; no name to route by
        return out;
      case Status::kNotTls:
        break;
    }
  }
  const size_t n = std::min(bytes.size(), kPreface.size());
  if (bytes.substr(0, n) == kPreface.substr(0, n)) {
    if (n == kPreface.size()) {
      out.kind = Sniffed::kHttp2;
      return out;
    }
    // "PRI " is also a method: wait for the whole preface.
    return out;
  }
  out.kind = sniffHttp1(bytes);
  return out;
}

}  // namespace remora::tcp
