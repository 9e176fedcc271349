#include "codec/http1_parser.h"

#include "codec/http1_fast_head.h"

#include <algorithm>
#include <climits>
#include <cstring>

namespace remora::http {
namespace {

const http_parser_settings kSettings = [] {
  http_parser_settings s;
  std::memset(&s, 0, sizeof(s));
  return s;
}();

inline Http1Parser* self(http_parser* p) {
  return static_cast<Http1Parser*>(p->data);
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

bool parseMethodName(std::string_view m, http_method& out) {
  if (m == "GET") {  // nearly every request: skip the table
    out = HTTP_GET;
    return true;
  }
#define REMORA_METHOD(num, name, string) \
  if (m == #string) {                    \
    out = HTTP_##name;                   \
    return true;                         \
  }
  HTTP_METHOD_MAP(REMORA_METHOD)
#undef REMORA_METHOD
  return false;
}

void MessageHead::clear() {
  headers.clear();
  url.clear();
  original_url.clear();
  reason.clear();
  method = HTTP_GET;
  status = 0;
  http_major = 1;
  http_minor = 1;
  keep_alive = true;
  chunked = false;
  has_content_length = false;
  upgrade = false;
  content_length = 0;
}

Http1Parser::Http1Parser(Kind kind, Sink& sink) : kind_(kind), sink_(sink) {
  http_parser_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE);
  parser_.data = this;
}

size_t Http1Parser::execute(const char* data, size_t len) {
  // A paused parser consumes nothing, as http_parser_execute() does.
  if (failed() || stopped_ || paused()) return 0;
  size_t n = 0;
  for (;;) {
    if (fast_) {
      if (fast_remaining_ > 0 && n == len) {
        if (len == 0)
          fail(kind_ == Kind::kResponse ? stats::ProtocolError::kUpstreamBadResponse
                                        : stats::ProtocolError::kBadRequest,
               "stream ended at an unexpected time");
        break;
      }
      n += continueFast(data + n, len - n);
    } else if (fast_enabled_ && !in_message_ && n < len) {
      size_t head = parseFastHead(kind_ == Kind::kRequest, data + n, len - n,
                                  limits_.max_head_bytes, limits_.max_headers, head_);
      if (head == 0) break;  // not plain, or not complete yet: http_parser reads this message
      n += head;
      startFast();
    } else {
      break;
    }
    if (failed() || stopped_ || paused()) break;
  }
  if (n > 0) noteTail(data, n);
  if (fast_ || failed() || stopped_ || paused() || (n == len && len > 0)) return n;
  return n + executeSlow(data + n, len - n);
}

void Http1Parser::startFast() {
  trailers_.clear();
  last_ = Last::kNone;
  in_message_ = true;
  head_done_ = true;
  // What http_parser would leave there: a response parser's method is never set.
  if (kind_ == Kind::kResponse) head_.method = static_cast<http_method>(parser_.method);
  if (checkHead() != 0) return;
  fast_ = true;
  int rc = sink_.onHeaders(head_);
  if (rc < 0) {
    stopped_ = true;
    return;
  }
  bool no_body = rc == 1 || !head_.has_content_length ||
                 (kind_ == Kind::kResponse &&
                  (head_.status < 200 || head_.status == 204 || head_.status == 304));
  fast_remaining_ = no_body ? 0 : head_.content_length;
}

size_t Http1Parser::continueFast(const char* data, size_t len) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(len, fast_remaining_));
  if (n > 0) {
    fast_remaining_ -= n;
    if (sink_.onBody(data, n) < 0) {
      stopped_ = true;
      return n;
    }
    if (paused() || fast_remaining_ > 0) return n;
  }
  fast_ = false;
  in_message_ = false;
  if (sink_.onMessageComplete(trailers_) < 0) stopped_ = true;
  return n;
}

void Http1Parser::noteTail(const char* data, size_t consumed) {
  // A call consuming only whitespace keeps the previous answer.
  const char* end = data + consumed;
  while (end > data && (end[-1] == ' ' || end[-1] == '\t')) --end;
  if (end > data) tail_is_line_start_ = end[-1] == '\n';
}

size_t Http1Parser::executeSlow(const char* data, size_t len) {
  static const http_parser_settings settings = [] {
    http_parser_settings s = kSettings;
    s.on_message_begin = onMessageBeginCb;
    s.on_url = onUrlCb;
    s.on_status = onStatusCb;
    s.on_header_field = onHeaderFieldCb;
    s.on_header_value = onHeaderValueCb;
    s.on_headers_complete = onHeadersCompleteCb;
    s.on_body = onBodyCb;
    s.on_message_complete = onMessageCompleteCb;
    return s;
  }();
  exec_begin_ = data;
  // http_parser answers 1 to an EOF (len 0) that arrives inside a message: never report more
  // than was given.
  size_t n = std::min(http_parser_execute(&parser_, &settings, data, len), len);
  // Remember whether the bytes consumed so far end a line then only SP/HTAB, for the obs-fold
  // check of a value starting at the next call's first byte.
  noteTail(data, n);
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_OK || err == HPE_PAUSED) {
    if (inHead() && headTooLarge())
      fail(stats::ProtocolError::kHeadersTooLarge, "request head too large");
    return n;
  }
  if (failed() || stopped_) return n;  // our own check stopped it and already set the cause
  switch (err) {
    case HPE_HEADER_OVERFLOW:
      fail(stats::ProtocolError::kHeadersTooLarge, "head too large");
      break;
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      fail(stats::ProtocolError::kBadFraming, "invalid or conflicting Content-Length");
      break;
    case HPE_INVALID_CHUNK_SIZE:
      fail(stats::ProtocolError::kBadFraming, "invalid chunk size");
      break;
    case HPE_INVALID_TRANSFER_ENCODING:
      fail(stats::ProtocolError::kBadFraming, "invalid Transfer-Encoding");
      break;
    case HPE_INVALID_HEADER_TOKEN:
    case HPE_LF_EXPECTED:
      fail(stats::ProtocolError::kBadHeaderBytes, "invalid bytes in the message head");
      break;
    default:
      fail(kind_ == Kind::kResponse ? stats::ProtocolError::kUpstreamBadResponse
                                    : stats::ProtocolError::kBadRequest,
           http_errno_description(err));
      break;
  }
  return n;
}

int Http1Parser::fail(stats::ProtocolError kind, const char* detail) {
  if (!failed()) {
    error_ = kind;
    detail_ = detail;
  }
  return -1;
}

// Measures the head as Remora keeps it: the request target or reason phrase, then each field as
// "name: value\r\n" (trailers on their own once the head is done). Only what was received counts,
// so the verdict never depends on how the bytes were cut into reads; http_parser's byte counter
// would not do: it is only brought up to date when http_parser_execute() returns. Bytes Remora
// does not keep (whitespace around values, blank lines) fall under http_parser's own 80 KiB cap.
bool Http1Parser::headTooLarge() const {
  const HeaderMap& map = head_done_ ? trailers_ : head_.headers;
  size_t start_line = head_done_ ? 0 : head_.url.size() + head_.reason.size();
  return start_line + map.byteSize() + 4 * map.size() > limits_.max_head_bytes;
}

int Http1Parser::onMessageBeginCb(http_parser* p) {
  Http1Parser* s = self(p);
  s->head_.clear();
  s->trailers_.clear();
  s->last_ = Last::kNone;
  s->in_message_ = true;
  s->head_done_ = false;
  return 0;
}

int Http1Parser::onUrlCb(http_parser* p, const char* at, size_t len) {
  Http1Parser* s = self(p);
  s->head_.url.append(at, len);
  if (s->head_.url.size() > s->limits_.max_head_bytes)
    return s->fail(stats::ProtocolError::kHeadersTooLarge, "request line too large");
  return 0;
}

int Http1Parser::onStatusCb(http_parser* p, const char* at, size_t len) {
  Http1Parser* s = self(p);
  if (s->head_.reason.size() + len > 1024)
    return s->fail(stats::ProtocolError::kUpstreamBadResponse, "reason phrase too long");
  s->head_.reason.append(at, len);
  return 0;
}

// Validates and classifies the header just finished (its value is complete).
int Http1Parser::finishHeader() {
  HeaderMap& map = head_done_ ? trailers_ : head_.headers;
  HeaderMap::Entry& e = map.mutableEntries().back();
  // Responses come from the service this sidecar fronts; request names are checked strictly.
  // Response names still must not hold a space, the one non-token byte http_parser lets in:
  // http_parser frames "Content-Length : 5" by that header, while Remora would classify the name
  // as unknown, skip its framing checks and forward it (RFC 9112 section 5.1 forbids both).
  std::string_view name = map.name(e);
  bool valid =
      kind_ == Kind::kRequest ? isValidHeaderName(name) : name.find(' ') == std::string_view::npos;
  if (!valid) return fail(stats::ProtocolError::kBadHeaderBytes, "invalid header name");
  map.finishLast();
  return 0;
}

int Http1Parser::onHeaderFieldCb(http_parser* p, const char* at, size_t len) {
  Http1Parser* s = self(p);
  HeaderMap& map = s->head_done_ ? s->trailers_ : s->head_.headers;
  if (s->last_ != Last::kField) {
    if (s->last_ == Last::kValue && s->finishHeader() != 0) return -1;
    if (map.size() >= s->limits_.max_headers)
      return s->fail(stats::ProtocolError::kHeadersTooLarge, "too many headers");
    map.beginName();
  }
  map.appendName(at, len);
  s->last_ = Last::kField;
  if (s->headTooLarge()) return s->fail(stats::ProtocolError::kHeadersTooLarge, "head too large");
  return 0;
}

// True when only SP/HTAB lie between `at` and the previous line feed: `at` is on a continuation
// line. A field value never starts on a line of its own, so this is obs-fold whichever read
// boundaries the client chose, and also when the folded line's first part is empty.
bool Http1Parser::onContinuationLine(const char* at) const {
  const char* p = at;
  while (p > exec_begin_ && (p[-1] == ' ' || p[-1] == '\t')) --p;
  return p > exec_begin_ ? p[-1] == '\n' : tail_is_line_start_;
}

int Http1Parser::onHeaderValueCb(http_parser* p, const char* at, size_t len) {
  Http1Parser* s = self(p);
  HeaderMap& map = s->head_done_ ? s->trailers_ : s->head_.headers;
  // An empty piece carries no bytes (http_parser reports an empty value at the next line).
  if (len > 0 && s->onContinuationLine(at))
    return s->fail(stats::ProtocolError::kBadHeaderBytes, "obsolete line folding");
  if (s->last_ == Last::kField) {
    map.beginValue();
  } else if (at != s->exec_begin_) {
    // A second value piece inside one buffer means http_parser joined a folded line (obs-fold);
    // pieces split by a read boundary always start at the buffer's first byte.
    return s->fail(stats::ProtocolError::kBadHeaderBytes, "obsolete line folding");
  }
  // http_parser refuses control bytes and DEL in values (HPE_INVALID_HEADER_TOKEN), except the
  // byte that starts a value: s_header_value_start takes anything but CR, LF, SP and HTAB. Only
  // that byte needs a look here.
  if (len > 0 && map.entries().back().value_len == 0 && !isValidHeaderValue({at, 1}))
    return s->fail(stats::ProtocolError::kBadHeaderBytes, "invalid header value");
  map.appendValue(at, len);
  s->last_ = Last::kValue;
  if (s->headTooLarge()) return s->fail(stats::ProtocolError::kHeadersTooLarge, "head too large");
  return 0;
}

// Checks http_parser leaves to us, once the head is complete.
int Http1Parser::checkHead() {
  const HeaderMap& h = head_.headers;
  size_t te_count = h.count(HeaderToken::kTransferEncoding);
  for (const HeaderMap::Entry& e : h.entries()) {
    if (te_count == 0) break;
    if (e.token != HeaderToken::kTransferEncoding || e.removed) continue;
    if (!equalsIgnoreCase(trim(h.value(e)), "chunked"))
      return fail(stats::ProtocolError::kBadFraming, "unsupported Transfer-Encoding");
  }
  if (te_count > 1) return fail(stats::ProtocolError::kBadFraming, "repeated Transfer-Encoding");
  // http_parser frames by any name that starts with "Transfer-Encoding" ("Transfer-EncodingX"),
  // which Remora would forward as an unknown header: refuse the head before it goes anywhere.
  constexpr std::string_view kTe = "transfer-encoding";
  for (const HeaderMap::Entry& e : h.entries()) {
    std::string_view name = h.name(e);
    if (name.size() > kTe.size() && equalsIgnoreCase(name.substr(0, kTe.size()), kTe))
      return fail(stats::ProtocolError::kBadFraming, "invalid Transfer-Encoding header name");
  }
  // http_parser decides the framing and reads only trailing spaces as part of "chunked": a value
  // such as "chunked<HTAB>" passes the check above, yet http_parser would not read chunks.
  if (te_count == 1 && !head_.chunked)
    return fail(stats::ProtocolError::kBadFraming, "unsupported Transfer-Encoding");
  if (te_count == 1 && h.count(HeaderToken::kContentLength) > 0)
    return fail(stats::ProtocolError::kBadFraming, "both Content-Length and Transfer-Encoding");
  if (kind_ == Kind::kRequest) {
    if (te_count == 1 && head_.http_minor == 0)
      return fail(stats::ProtocolError::kBadFraming, "Transfer-Encoding on HTTP/1.0");
    // A CONNECT request has no content (RFC 9110 section 9.3.6) and http_parser ends it with its
    // head whatever the framing headers say: the "body" would be read as the next request.
    if (head_.method == HTTP_CONNECT && (head_.chunked || head_.content_length > 0))
      return fail(stats::ProtocolError::kBadFraming, "CONNECT with a body");
    size_t hosts = h.count(HeaderToken::kHost);
    if (hosts > 1 || (hosts == 0 && head_.http_minor >= 1))
      return fail(stats::ProtocolError::kBadRequest, "missing or repeated Host header");
    const std::string& url = head_.url;
    bool origin_form = !url.empty() && url[0] == '/';
    bool asterisk = url == "*" && head_.method == HTTP_OPTIONS;
    // Absolute form and CONNECT's authority form go on to checkRequestHead (request_head.h),
    // which turns the one into origin form and refuses the other with 405.
    bool absolute = url.find("://") != std::string::npos;
    if (!origin_form && !asterisk && !absolute && head_.method != HTTP_CONNECT)
      return fail(stats::ProtocolError::kBadRequest, "unsupported request target");
  } else if (head_.status < 100) {
    // http_parser takes any three digits; "000" would reach the client as "HTTP/1.1 0".
    return fail(stats::ProtocolError::kUpstreamBadResponse, "invalid status code");
  }
  return 0;
}

int Http1Parser::onHeadersCompleteCb(http_parser* p) {
  Http1Parser* s = self(p);
  if (s->last_ == Last::kValue && s->finishHeader() != 0) return -1;
  if (s->last_ == Last::kField)
    return s->fail(stats::ProtocolError::kBadHeaderBytes, "header without value");
  if (s->headTooLarge()) return s->fail(stats::ProtocolError::kHeadersTooLarge, "head too large");
  MessageHead& h = s->head_;
  h.method = static_cast<http_method>(p->method);
  h.status = static_cast<int>(p->status_code);
  h.http_major = static_cast<uint8_t>(p->http_major);
  h.http_minor = static_cast<uint8_t>(p->http_minor);
  if (h.http_major != 1)
    return s->fail(stats::ProtocolError::kBadRequest, "unsupported HTTP version");
  h.keep_alive = http_should_keep_alive(p) != 0;
  h.chunked = (p->flags & F_CHUNKED) != 0;
  h.has_content_length = p->content_length != ULLONG_MAX && !h.chunked;
  h.content_length = h.has_content_length ? p->content_length : 0;
  h.upgrade = p->upgrade != 0;
  if (s->checkHead() != 0) return -1;
  s->head_done_ = true;
  s->last_ = Last::kNone;
  int rc = s->sink_.onHeaders(h);
  if (rc < 0) {
    s->stopped_ = true;
  } else if (s->kind_ == Kind::kResponse &&
             (h.status < 200 || h.status == 204 || h.status == 304)) {
    // These end with their head whatever Content-Length or Transfer-Encoding say (RFC 9112
    // section 6.3; a 304 may carry the length of the representation it validates), which
    // http_parser ignores: it would read the next response as this one's body.
    rc = 1;
  }
  return rc;
}

int Http1Parser::onBodyCb(http_parser* p, const char* at, size_t len) {
  Http1Parser* s = self(p);
  if (s->sink_.onBody(at, len) >= 0) return 0;
  s->stopped_ = true;
  return -1;
}

int Http1Parser::onMessageCompleteCb(http_parser* p) {
  Http1Parser* s = self(p);
  if (s->last_ == Last::kValue && s->finishHeader() != 0) return -1;
  s->in_message_ = false;
  s->last_ = Last::kNone;
  if (s->sink_.onMessageComplete(s->trailers_) >= 0) return 0;
  s->stopped_ = true;
  return -1;
}

}  // namespace remora::http
