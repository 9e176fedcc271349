#include "http/request_writer.h"

#include <vector>

#include "http/codec/http1_format.h"

namespace remora::http {
namespace {

// Writes a random (version 4) UUID for x-request-id, two hex digits per table lookup.
void appendRequestId(std::string& out, Dispatcher& d) {
  static const char kHex[] = "0123456789abcdef";
  uint8_t b[16];
  uint64_t hi = d.random();
  uint64_t lo = d.random();
  for (int i = 0; i < 8; ++i) {
    b[i] = uint8_t(hi >> (i * 8));
    b[8 + i] = uint8_t(lo >> (i * 8));
  }
  b[6] = uint8_t((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = uint8_t((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char id[36];
  char* p = id;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = kHex[b[i] >> 4];
    *p++ = kHex[b[i] & 0xf];
  }
  out.append(id, sizeof(id));
}

bool isHopByHop(HeaderToken t) {
  switch (t) {
    case HeaderToken::kConnection:
    case HeaderToken::kKeepAlive:
    case HeaderToken::kProxyConnection:
    case HeaderToken::kTe:
    case HeaderToken::kTransferEncoding:
    case HeaderToken::kUpgrade:
      return true;
    default:
      return false;
  }
}

// Collects the header names a Connection header lists (other than close/keep-alive/upgrade):
// those are hop-by-hop too. Rare, so this is only walked when such a header is present.
void connectionListed(const HeaderMap& h, std::vector<std::string_view>& out) {
  for (const HeaderMap::Entry& e : h.entries()) {
    if (e.removed || e.token != HeaderToken::kConnection) continue;
    std::string_view v = h.value(e);
    size_t pos = 0;
    while (pos < v.size()) {
      size_t comma = v.find(',', pos);
      if (comma == std::string_view::npos) comma = v.size();
      std::string_view item = v.substr(pos, comma - pos);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty() && !equalsIgnoreCase(item, "close") &&
          !equalsIgnoreCase(item, "keep-alive") && !equalsIgnoreCase(item, "upgrade"))
        out.push_back(item);
      pos = comma + 1;
    }
  }
}

bool isListed(const std::vector<std::string_view>& listed, std::string_view name) {
  for (std::string_view l : listed)
    if (equalsIgnoreCase(l, name)) return true;
  return false;
}

}  // namespace

void writeRequestHead(evbuffer* out, const MessageHead& req, const RequestRewrite& rw,
                      Dispatcher& dispatcher) {
  const HeaderMap& h = req.headers;
  std::string& s = dispatcher.headerScratch();
  s.clear();
  s.append(http_method_str(req.method));
  s.push_back(' ');
  s.append(req.url);
  s.append(" HTTP/1.1\r\n");
  std::vector<std::string_view> listed;
  if (h.count(HeaderToken::kConnection) > 0) connectionListed(h, listed);
  std::string_view xff;
  bool has_xff = false, has_proto = false, has_id = false, has_host = false;
  for (const HeaderMap::Entry& e : h.entries()) {
    if (e.removed) continue;
    switch (e.token) {
      case HeaderToken::kXForwardedFor:
        xff = h.value(e);
        has_xff = true;
        continue;
      case HeaderToken::kXForwardedProto:
        has_proto = true;
        break;
      case HeaderToken::kXRequestId:
        has_id = true;
        break;
      case HeaderToken::kHost:
        has_host = true;
        break;
      case HeaderToken::kExpect:
        continue;  // answered by the proxy
      default:
        if (isHopByHop(e.token)) continue;
        if (!listed.empty() && isListed(listed, h.name(e))) continue;
        break;
    }
    s.append(h.name(e)).append(": ").append(h.value(e)).append("\r\n");
  }
  if (!has_host) s.append("host: ").append(rw.default_host).append("\r\n");
  s.append("x-forwarded-for: ");
  if (has_xff) s.append(xff).append(", ");
  s.append(rw.peer).append("\r\n");
  if (!has_proto) s.append("x-forwarded-proto: http\r\n");
  if (!has_id) {
    s.append("x-request-id: ");
    appendRequestId(s, dispatcher);
    s.append("\r\n");
  }
  if (rw.upgrade) {
    auto up = h.get(HeaderToken::kUpgrade);
    s.append("connection: upgrade\r\nupgrade: ").append(up ? *up : "").append("\r\n");
  }
  if (rw.chunked) s.append("transfer-encoding: chunked\r\n");
  s.append("\r\n");
  evbuffer_add(out, s.data(), s.size());
}

void writeBodyChunk(evbuffer* out, bool chunked, const char* data, size_t len) {
  if (chunked) {
    char size[24];
    evbuffer_add(out, size, formatChunkSize(size, len));
    evbuffer_add(out, data, len);
    evbuffer_add(out, "\r\n", 2);
  } else {
    evbuffer_add(out, data, len);
  }
}

void writeBodyEnd(evbuffer* out, bool chunked, const HeaderMap* trailers, std::string& s) {
  if (!chunked) return;
  s.assign("0\r\n");
  if (trailers) trailers->serialize(s);
  s.append("\r\n");
  evbuffer_add(out, s.data(), s.size());
}

}  // namespace remora::http
