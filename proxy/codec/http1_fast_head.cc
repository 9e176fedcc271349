#include "codec/http1_fast_head.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "codec/http1_parser.h"

namespace remora::http {
namespace {

using Table = std::array<bool, 256>;

constexpr Table makeTable(int lo, int hi, std::string_view extra) {
  Table t{};
  for (int c = lo; c <= hi; ++c) t[static_cast<size_t>(c)] = true;
  for (char c : extra) t[static_cast<unsigned char>(c)] = true;
  return t;
}

constexpr Table makeTokenTable() {
  Table t = makeTable('0', '9', "!#$%&'*+-.^_`|~");
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
  return t;
}

constexpr Table kToken = makeTokenTable();             // RFC 9110 tchar
constexpr Table kTarget = makeTable(0x21, 0x7e, "");   // visible ASCII
constexpr Table kValue = makeTable(0x20, 0x7e, "\t");  // printable ASCII and HTAB

// Heads larger than this go to http_parser, whose own raw-size cap (80 KiB) then applies.
constexpr size_t kMaxRawHead = 64 * 1024;

bool allOf(const Table& t, std::string_view s) {
  for (unsigned char c : s)
    if (!t[c]) return false;
  return true;
}

struct Method {
  std::string_view name;
  http_method method;
};
constexpr Method kMethods[] = {
    {"GET", HTTP_GET},   {"POST", HTTP_POST},       {"PUT", HTTP_PUT},    {"DELETE", HTTP_DELETE},
    {"HEAD", HTTP_HEAD}, {"OPTIONS", HTTP_OPTIONS}, {"PATCH", HTTP_PATCH}};

// "HTTP/1.0" or "HTTP/1.1" at p (8 bytes available).
bool parseVersion(const char* p, MessageHead& h) {
  if (std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1')) return false;
  h.http_major = 1;
  h.http_minor = static_cast<uint8_t>(p[7] - '0');
  return true;
}

// METHOD SP origin-form SP HTTP/1.x
bool parseRequestLine(std::string_view line, MessageHead& h) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view name = line.substr(0, sp);
  const Method* m = nullptr;
  for (const Method& candidate : kMethods)
    if (candidate.name == name) m = &candidate;
  if (m == nullptr) return false;
  std::string_view rest = line.substr(sp + 1);
  constexpr size_t kVersion = 8;  // "HTTP/1.x"
  if (rest.size() < kVersion + 2 || rest[rest.size() - kVersion - 1] != ' ') return false;
  std::string_view target = rest.substr(0, rest.size() - kVersion - 1);
  if (target[0] != '/' || !allOf(kTarget, target)) return false;
  if (!parseVersion(rest.data() + rest.size() - kVersion, h)) return false;
  h.method = m->method;
  h.url.assign(target);
  return true;
}

// HTTP/1.x SP 3DIGIT [SP reason]
bool parseStatusLine(std::string_view line, MessageHead& h) {
  if (line.size() < 12 || !parseVersion(line.data(), h) || line[8] != ' ') return false;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  // Below 100 is an error and 101 switches protocols: both stay with http_parser.
  if (status < 100 || status == 101) return false;
  h.status = status;
  if (line.size() == 12) return true;
  std::string_view reason = line.substr(13);
  if (line[12] != ' ' || reason.size() > 1024 || !allOf(kValue, reason)) return false;
  if (!reason.empty() && (reason[0] == ' ' || reason[0] == '\t')) return false;
  h.reason.assign(reason);
  return true;
}

bool parseContentLength(std::string_view v, uint64_t& out) {
  // 18 digits cannot overflow; longer values go to http_parser, which checks them.
  if (v.empty() || v.size() > 18) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  out = n;
  return true;
}

// A Connection value the fast path can read as http_parser 2.9 does: a list of "close" and
// "keep-alive" items (any case) separated by commas and spaces. Anything else declines, since
// http_parser's token matching has quirks only it can reproduce: a leading comma or a tab hides
// the next item ("close\t,keep-alive" is not close to it), and so does an item that is a
// prefix of a known one ("k,keep-alive" is not keep-alive). "upgrade" declines as well.
bool parseConnection(std::string_view v, bool& close, bool& keep_alive) {
  if (v.find('\t') != std::string_view::npos) return false;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    if (comma == std::string_view::npos) comma = v.size();
    std::string_view item = v.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (equalsIgnoreCase(item, "close")) {
      close = true;
    } else if (equalsIgnoreCase(item, "keep-alive")) {
      keep_alive = true;
    } else {
      return false;  // empty, upgrade, or any other token
    }
    pos = comma + 1;
  }
  return true;
}

// The next CRLF-terminated line starting at `p`; false when incomplete or ended by a bare LF.
bool nextLine(const char*& p, const char* end, std::string_view& line) {
  const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
  if (nl == nullptr) return false;
  const char* lf = static_cast<const char*>(nl);
  if (lf == p || lf[-1] != '\r') return false;
  line = std::string_view(p, static_cast<size_t>(lf - 1 - p));
  p = lf + 1;
  return true;
}

}  // namespace

size_t parseFastHead(bool request, const char* data, size_t len, uint32_t max_head_bytes,
                     uint32_t max_headers, MessageHead& h) {
  h.clear();
  const char* p = data;
  const char* end = data + std::min(len, kMaxRawHead);
  std::string_view line;
  if (!nextLine(p, end, line)) return 0;
  if (request ? !parseRequestLine(line, h) : !parseStatusLine(line, h)) return 0;
  bool close = false;
  bool keep_alive = false;
  for (;;) {
    if (!nextLine(p, end, line)) return 0;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return 0;
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    if (!allOf(kToken, name) || !allOf(kValue, value) || h.headers.size() >= max_headers) return 0;
    // http_parser takes any name that starts with "Transfer-Encoding" as that header.
    constexpr std::string_view kTe = "transfer-encoding";
    if (name.size() >= kTe.size() && equalsIgnoreCase(name.substr(0, kTe.size()), kTe)) return 0;
    HeaderToken token = classifyHeader(name);
    switch (token) {
      case HeaderToken::kUpgrade:
      case HeaderToken::kProxyConnection:  // http_parser reads it as Connection
        return 0;
      case HeaderToken::kContentLength:
        if (h.has_content_length || !parseContentLength(value, h.content_length)) return 0;
        h.has_content_length = true;
        break;
      case HeaderToken::kConnection:
        if (!parseConnection(value, close, keep_alive)) return 0;
        break;
      default:
        break;
    }
    h.headers.add(token, name, value);
  }
  bool no_body_status = h.status < 200 || h.status == 204 || h.status == 304;
  // A response framed by the connection's close (or an answer to HEAD without a length) needs
  // http_parser's end-of-file handling.
  if (!request && !h.has_content_length && !no_body_status) return 0;
  if (h.url.size() + h.reason.size() + h.headers.byteSize() + 4 * h.headers.size() > max_head_bytes)
    return 0;
  // As http_should_keep_alive(): HTTP/1.1 unless "close", HTTP/1.0 only with "keep-alive".
  h.keep_alive = h.http_minor >= 1 ? !close : keep_alive;
  return static_cast<size_t>(p - data);
}

}  // namespace remora::http
