#include "log_format.h"

#include <time.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace remora::filters::access_log {

namespace {

uint64_t durationMs(const sdk::Stream& s, uint64_t now_us) {
  uint64_t start = s.startTimeUs();
  return now_us > start ? (now_us - start) / 1000 : 0;
}

bool isControl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Text lines are one per request: control bytes (which the codec should already refuse in
// headers) must never split or forge a line.
void appendSanitized(std::string& out, std::string_view v, size_t max_len) {
  if (max_len != 0 && v.size() > max_len) v = v.substr(0, max_len);
  // Clean values (nearly all) go out in one append; only a dirty run is copied byte by byte.
  size_t clean = 0;
  while (clean < v.size() && !isControl(v[clean])) ++clean;
  out.append(v.data(), clean);
  for (char c : v.substr(clean)) out += isControl(c) ? '?' : c;
}

void appendOrDash(std::string& out, std::optional<std::string_view> v, size_t max_len) {
  if (!v || v->empty()) {
    out += '-';
  } else {
    appendSanitized(out, *v, max_len);
  }
}

void appendOptionalJson(std::string& out, std::optional<std::string_view> v) {
  if (!v || v->empty()) {
    out += "null";
  } else {
    appendJsonString(out, *v);
  }
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8Length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

// A JSON string needs escaping only for these bytes; everything else is copied as a run.
bool needsJsonEscape(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f || u >= 0x80 || c == '"' || c == '\\';
}

// Index of the first byte of v[i..] that needs escaping, or v.size(). Scans eight bytes per step:
// a log line is mostly plain ASCII, and the byte-wise scan was the access log's largest cost.
size_t escapeRunEnd(std::string_view v, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  auto hasZeroByte = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, v.data() + i, 8);
    // Exact for "some byte is a candidate" (bytes >= 0x80 count as candidates themselves).
    uint64_t hit = (x & kHigh) | ((x - 0x20 * kOnes) & ~x & kHigh) |
                   hasZeroByte(x ^ (0x7f * kOnes)) | hasZeroByte(x ^ ('"' * kOnes)) |
                   hasZeroByte(x ^ ('\\' * kOnes));
    if (hit != 0) break;
  }
  while (i < v.size() && !needsJsonEscape(v[i])) ++i;
  return i;
}

}  // namespace

void appendUint(std::string& out, uint64_t v) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(end - buf));
}

void appendTime(std::string& out, uint64_t unix_us) {
  // Streams ending in the same second share "YYYY-MM-DDTHH:MM:SS": render it once per second per
  // thread (gmtime_r and snprintf cost more than the rest of a line), then add the millis.
  struct Cache {
    uint64_t secs = ~uint64_t{0};
    char text[32];
    size_t size = 0;
  };
  thread_local Cache cache;
  uint64_t secs = unix_us / 1000000;
  if (secs != cache.secs) {
    time_t t = static_cast<time_t>(secs);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = std::snprintf(cache.text, sizeof(cache.text), "%04d-%02d-%02dT%02d:%02d:%02d",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                          tm.tm_sec);
    cache.size = n > 0 ? static_cast<size_t>(n) : 0;
    cache.secs = secs;
  }
  unsigned ms = static_cast<unsigned>((unix_us / 1000) % 1000);
  char tail[6] = {'.',
                  static_cast<char>('0' + ms / 100),
                  static_cast<char>('0' + ms / 10 % 10),
                  static_cast<char>('0' + ms % 10),
                  'Z',
                  0};
  out.append(cache.text, cache.size);
  out.append(tail, 5);
}

void appendJsonString(std::string& out, std::string_view v) {
  out += '"';
  for (size_t i = 0; i < v.size();) {
    size_t run = escapeRunEnd(v, i);
    out.append(v.data() + i, run - i);
    i = run;
    if (i == v.size()) break;
    char c = v[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          // Keep valid UTF-8; an invalid byte becomes U+FFFD so the line stays valid JSON.
          size_t n = utf8Length(v, i);
          if (n == 0) {
            out += "\\ufffd";
            ++i;
          } else {
            out.append(v.substr(i, n));
            i += n;
          }
          continue;
        } else {
          out += c;
        }
    }
    ++i;
  }
  out += '"';
}

std::optional<TextFormat::Token> TextFormat::parseCommand(std::string_view name,
                                                          std::optional<std::string> arg,
                                                          std::string& error) {
  struct Simple {
    std::string_view name;
    Op op;
  };
  static constexpr Simple kSimple[] = {
      {"START_TIME", Op::kStartTime},
      {"PROTOCOL", Op::kProtocol},
      {"RESPONSE_CODE", Op::kResponseCode},
      {"BYTES_RECEIVED", Op::kBytesReceived},
      {"BYTES_SENT", Op::kBytesSent},
      {"DURATION", Op::kDuration},
      {"UPSTREAM_HOST", Op::kUpstreamHost},
      {"RESPONSE_FLAGS", Op::kResponseFlags},
      {"REQ_ID", Op::kRequestId},
      {"DOWNSTREAM_REMOTE_ADDRESS", Op::kDownstreamRemoteAddress},
      {"ORIGINAL_PATH", Op::kOriginalPath},
  };
  for (const Simple& s : kSimple) {
    if (s.name != name) continue;
    if (arg) {
      error = "%" + std::string(name) + "% takes no argument";
      return std::nullopt;
    }
    return Token{s.op, "", "", 0};
  }
  if (name == "REQ" || name == "RESP" || name == "DYNAMIC_METADATA") {
    if (!arg || arg->empty()) {
      error = "%" + std::string(name) + "(...)% needs an argument";
      return std::nullopt;
    }
    if (name == "DYNAMIC_METADATA") return Token{Op::kDynamicMetadata, *arg, "", 0};
    Token t{name == "REQ" ? Op::kRequestHeader : Op::kResponseHeader, *arg, "", 0};
    if (size_t q = arg->find('?'); q != std::string::npos) {
      t.arg = arg->substr(0, q);
      t.alt = arg->substr(q + 1);
    }
    for (const std::string* h : {&t.arg, &t.alt}) {
      if (h->empty() || (*h)[0] != ':') continue;
      if (name == "RESP" || (*h != ":METHOD" && *h != ":PATH" && *h != ":AUTHORITY")) {
        error = "unsupported pseudo-header " + *h + " in %" + std::string(name) + "%";
        return std::nullopt;
      }
    }
    return t;
  }
  error = "unknown command %" + std::string(name) + "%";
  return std::nullopt;
}

std::optional<TextFormat> TextFormat::parse(std::string_view format, std::string& error) {
  TextFormat f;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) f.tokens_.push_back(Token{Op::kLiteral, std::move(literal), "", 0});
    literal.clear();
  };
  size_t i = 0;
  while (i < format.size()) {
    if (format[i] != '%') {
      literal += format[i++];
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      literal += '%';
      i += 2;
      continue;
    }
    size_t start = i++;
    size_t name_begin = i;
    while (i < format.size() && ((format[i] >= 'A' && format[i] <= 'Z') || format[i] == '_')) ++i;
    std::string_view name = format.substr(name_begin, i - name_begin);
    std::optional<std::string> arg;
    if (i < format.size() && format[i] == '(') {
      size_t close = format.find(')', i);
      if (close == std::string_view::npos) break;
      arg = std::string(format.substr(i + 1, close - i - 1));
      i = close + 1;
    }
    size_t max_len = 0;
    if (i < format.size() && format[i] == ':') {
      ++i;
      bool digits = false;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        max_len = max_len * 10 + static_cast<size_t>(format[i] - '0');
        digits = true;
        ++i;
      }
      if (!digits) i = format.size();  // malformed: reported below
    }
    if (name.empty() || i >= format.size() || format[i] != '%') {
      error = "unterminated or malformed command at offset " + std::to_string(start);
      return std::nullopt;
    }
    ++i;
    std::optional<Token> t = parseCommand(name, std::move(arg), error);
    if (!t) {
      error += " at offset " + std::to_string(start);
      return std::nullopt;
    }
    t->max_len = max_len;
    flush();
    f.tokens_.push_back(std::move(*t));
  }
  if (i < format.size()) {
    error = "unterminated command at offset " + std::to_string(format.rfind('%', i));
    return std::nullopt;
  }
  flush();
  return f;
}

std::optional<std::string_view> TextFormat::header(const sdk::Stream& s, sdk::HeaderKind kind,
                                                   std::string_view name) const {
  if (name == ":METHOD") return s.method();
  if (name == ":PATH") return s.path();
  if (name == ":AUTHORITY") return s.authority();
  return s.header(kind, name);
}

void TextFormat::render(const sdk::Stream& s, uint64_t now_us, std::string& out) const {
  for (const Token& t : tokens_) {
    switch (t.op) {
      case Op::kLiteral:
        out += t.arg;
        break;
      case Op::kStartTime:
        appendTime(out, s.startTimeUs());
        break;
      case Op::kRequestHeader:
      case Op::kResponseHeader: {
        sdk::HeaderKind kind =
            t.op == Op::kRequestHeader ? sdk::HeaderKind::kRequest : sdk::HeaderKind::kResponse;
        std::optional<std::string_view> v = header(s, kind, t.arg);
        if ((!v || v->empty()) && !t.alt.empty()) v = header(s, kind, t.alt);
        appendOrDash(out, v, t.max_len);
        break;
      }
      case Op::kProtocol:
        appendSanitized(out, s.metadata(kProtocolKey).value_or("HTTP/1.1"), t.max_len);
        break;
      case Op::kResponseCode:
        appendUint(out, s.responseStatus());
        break;
      case Op::kBytesReceived:
        appendUint(out, s.requestBytes());
        break;
      case Op::kBytesSent:
        appendUint(out, s.responseBytes());
        break;
      case Op::kDuration:
        appendUint(out, durationMs(s, now_us));
        break;
      case Op::kUpstreamHost:
        appendOrDash(out, s.upstreamAddress(), t.max_len);
        break;
      case Op::kResponseFlags:
        appendOrDash(out, s.responseFlags(), t.max_len);
        break;
      case Op::kRequestId:
        appendOrDash(out, s.requestHeader("x-request-id"), t.max_len);
        break;
      case Op::kDownstreamRemoteAddress:
        appendOrDash(out, s.clientAddress(), t.max_len);
        break;
      case Op::kDynamicMetadata:
        appendOrDash(out, s.metadata(t.arg), t.max_len);
        break;
      case Op::kOriginalPath: {
        // The target as received; a kernel without the key has only the (normalized) path.
        std::optional<std::string_view> v = s.metadata(kOriginalPathKey);
        appendOrDash(out, v ? *v : s.path(), t.max_len);
        break;
      }
    }
  }
}

void renderJson(const sdk::Stream& s, uint64_t now_us, std::string& out) {
  out += "{\"time\":\"";
  appendTime(out, s.startTimeUs());
  out += "\",\"method\":";
  appendJsonString(out, s.method());
  out += ",\"path\":";
  appendJsonString(out, s.path());
  // The target as sent, only when the kernel changed it (normalization, a route's rewrite).
  if (std::optional<std::string_view> orig = s.metadata(kOriginalPathKey);
      orig && *orig != s.path()) {
    out += ",\"original_path\":";
    appendJsonString(out, *orig);
  }
  out += ",\"status\":";
  appendUint(out, s.responseStatus());
  out += ",\"bytes_in\":";
  appendUint(out, s.requestBytes());
  out += ",\"bytes_out\":";
  appendUint(out, s.responseBytes());
  out += ",\"duration_ms\":";
  appendUint(out, durationMs(s, now_us));
  out += ",\"upstream\":";
  appendOptionalJson(out, s.upstreamAddress());
  out += ",\"flags\":";
  appendJsonString(out, s.responseFlags().empty() ? "-" : s.responseFlags());
  out += ",\"request_id\":";
  appendOptionalJson(out, s.requestHeader("x-request-id"));
  out += ",\"principal\":";
  appendOptionalJson(out, s.metadata(kPrincipalKey));
  if (std::optional<std::string_view> chain = s.metadata(kChainKey)) {
    out += ",\"chain\":";
    appendJsonString(out, *chain);
  }
  // mTLS: the client's verified identity, only on connections that have one.
  if (std::optional<std::string_view> peer = s.metadata(kPeerIdentityKey)) {
    out += ",\"peer_identity\":";
    appendJsonString(out, *peer);
    out += ",\"peer_cert_sha256\":";
    appendOptionalJson(out, s.metadata(kPeerCertKey));
  }
  out += '}';
}

}  // namespace remora::filters::access_log
