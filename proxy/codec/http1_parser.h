#pragma once
// Http1Parser: http_parser plus the checks http_parser leaves to its user.
//
// http_parser (Node's former parser) is lenient in places that enable request smuggling, so every
// message also passes Remora's own checks: header names must be tokens, values free of control
// bytes, no obs-fold, exactly one Host on HTTP/1.1 requests, Transfer-Encoding only "chunked",
// Content-Length and Transfer-Encoding never together, size and count limits on the head.
// Any failure stops parsing for good: the owner answers 400/431 and closes, since framing is then
// in doubt.

#include <http_parser.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "codec/header_map.h"
#include "stats/stats.h"

namespace remora::http {

// The start line and headers of one message.
// The method named `m` (case-sensitive, RFC 9110 §9.1), among those http_parser knows; false
// for any other. For heads that do not come through the HTTP/1 parser (HTTP/2 `:method`,
// plugin callouts).
bool parseMethodName(std::string_view m, http_method& out);

struct MessageHead {
  HeaderMap headers;
  std::string url;  // request target (requests only); normalized (request_head.h)
  // The target as received when normalization changed it (or a route rewrote it); else empty,
  // and `url` is the original. For the access log (metadata "remora.original_path").
  std::string original_url;
  std::string reason;  // reason phrase (responses only)
  http_method method = HTTP_GET;
  int status = 0;
  uint8_t http_major = 1;
  uint8_t http_minor = 1;
  bool keep_alive = true;  // per version and Connection header
  bool chunked = false;    // Transfer-Encoding: chunked
  bool has_content_length = false;
  bool upgrade = false;  // Upgrade request / 101 response
  uint64_t content_length = 0;

  void clear();
  // True when the message has a body per its framing (chunked or CL > 0).
  bool hasBody() const { return chunked || (has_content_length && content_length > 0); }
};

class Http1Parser {
 public:
  enum class Kind { kRequest, kResponse };

  class Sink {
   public:
    virtual ~Sink() = default;
    // The head is complete and valid. Return 0 to continue, 1 when the message has no body
    // although its framing says otherwise (a response to HEAD), -1 to stop parsing.
    virtual int onHeaders(MessageHead& head) = 0;
    virtual int onBody(const char* data, size_t len) = 0;
    // `trailers` holds the chunked trailers, if any. Return -1 to stop parsing.
    virtual int onMessageComplete(HeaderMap& trailers) = 0;
  };

  struct Limits {
    // Request target (or reason phrase) plus "name: value\r\n" per field; trailers alike.
    uint32_t max_head_bytes = 60 * 1024;
    uint32_t max_headers = 100;
  };

  Http1Parser(Kind kind, Sink& sink);
  Http1Parser(const Http1Parser&) = delete;
  Http1Parser& operator=(const Http1Parser&) = delete;

  void setLimits(Limits limits) { limits_ = limits; }
  // Plain heads are read by parseFastHead() (http1_fast_head.h) unless this is turned off; the
  // fuzzers turn it off to compare both paths on the same bytes.
  void setFastPath(bool enabled) { fast_enabled_ = enabled; }

  // Parses as much as it can; returns the bytes consumed. Stops early when paused (see pause())
  // or on an error (failed() becomes true). `len == 0` signals EOF, which completes a
  // close-delimited response.
  size_t execute(const char* data, size_t len);

  // Stops execute() right after the current callback; the unconsumed bytes stay with the caller.
  void pause() { http_parser_pause(&parser_, 1); }
  void resume() { http_parser_pause(&parser_, 0); }
  bool paused() const { return HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED; }

  bool failed() const { return error_ != stats::ProtocolError::kCount; }
  // True when a Sink callback returned -1; the owner already knows why.
  bool stopped() const { return stopped_; }
  stats::ProtocolError error() const { return error_; }
  // A short human-readable cause, e.g. "invalid header name".
  const std::string& errorDetail() const { return detail_; }
  // The HTTP status a server answers this error with (400 or 431).
  int errorStatus() const { return error_ == stats::ProtocolError::kHeadersTooLarge ? 431 : 400; }

  // True between the first byte of a message and its end.
  bool inMessage() const { return in_message_; }
  // True while the head (start line + headers) is still being read.
  bool inHead() const { return in_message_ && !head_done_; }

  MessageHead& head() { return head_; }
  http_parser& raw() { return parser_; }

 private:
  enum class Last : uint8_t { kNone, kField, kValue };

  static int onMessageBeginCb(http_parser* p);
  static int onUrlCb(http_parser* p, const char* at, size_t len);
  static int onStatusCb(http_parser* p, const char* at, size_t len);
  static int onHeaderFieldCb(http_parser* p, const char* at, size_t len);
  static int onHeaderValueCb(http_parser* p, const char* at, size_t len);
  static int onHeadersCompleteCb(http_parser* p);
  static int onBodyCb(http_parser* p, const char* at, size_t len);
  static int onMessageCompleteCb(http_parser* p);

  // The fast path: a message whose head parseFastHead() read, and whose Content-Length body is
  // counted here; http_parser never sees it.
  void startFast();
  size_t continueFast(const char* data, size_t len);
  size_t executeSlow(const char* data, size_t len);
  // Records whether the consumed bytes end a line then only SP/HTAB (see onContinuationLine).
  void noteTail(const char* data, size_t consumed);

  int fail(stats::ProtocolError kind, const char* detail);
  int finishHeader();
  int checkHead();
  bool headTooLarge() const;
  bool onContinuationLine(const char* at) const;

  http_parser parser_;
  Kind kind_;
  Sink& sink_;
  Limits limits_;
  MessageHead head_;
  HeaderMap trailers_;
  const char* exec_begin_ = nullptr;  // start of the buffer passed to execute()
  bool tail_is_line_start_ = false;   // consumed bytes end with LF then only SP/HTAB
  Last last_ = Last::kNone;
  bool in_message_ = false;
  bool head_done_ = false;
  bool stopped_ = false;
  bool fast_enabled_ = true;
  bool fast_ = false;            // the current message is on the fast path
  uint64_t fast_remaining_ = 0;  // its body bytes still to come
  stats::ProtocolError error_ = stats::ProtocolError::kCount;
  std::string detail_;
};

}  // namespace remora::http
