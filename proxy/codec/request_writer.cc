#include "codec/request_writer.h"

#include <array>
#include <cstring>
#include <vector>

#include "codec/http1_format.h"

namespace remora::http {
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

namespace {

// "00".."ff" for every byte value, so a byte becomes two characters with one copy.
constexpr std::array<char, 512> makeHexPairs() {
  std::array<char, 512> t{};
  const char* digits = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    t[size_t(i) * 2] = digits[i >> 4];
    t[size_t(i) * 2 + 1] = digits[i & 0xf];
  }
  return t;
}
constexpr std::array<char, 512> kHexPairs = makeHexPairs();
// Where each of the 16 bytes goes in "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
constexpr uint8_t kUuidPos[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

}  // namespace

void appendRequestId(std::string& out, Dispatcher& d) {
  uint64_t words[2] = {d.random(), d.random()};
  uint8_t b[16];
  std::memcpy(b, words, sizeof(b));
  b[6] = uint8_t((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = uint8_t((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char id[36];
  id[8] = id[13] = id[18] = id[23] = '-';
  for (int i = 0; i < 16; ++i) std::memcpy(id + kUuidPos[i], &kHexPairs[size_t(b[i]) * 2], 2);
  out.append(id, sizeof(id));
}

void writeRequestHead(evbuffer* out, const MessageHead& req, const RequestRewrite& rw,
                      Dispatcher& dispatcher) {
  const HeaderMap& h = req.headers;
  std::string& s = dispatcher.headerScratch();
  s.clear();
  s.append(http_method_str(req.method));
  s.push_back(' ');
  s.append(req.url);
  s.append(" HTTP/1.1\r\n");
  ForwardedFields f =
      forEachForwardedHeader<HeadTarget::kHttp1>(h, rw, [&](const HeaderMap::Entry& e) {
        s.append(h.name(e)).append(": ").append(h.value(e)).append("\r\n");
      });
  if (!f.has_host) s.append("host: ").append(rw.default_host).append("\r\n");
  if (rw.forwarded) {
    s.append("x-forwarded-for: ");
    if (f.has_xff) s.append(f.xff).append(", ");
    s.append(rw.peer).append("\r\n");
    if (!f.has_proto) s.append("x-forwarded-proto: http\r\n");
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
