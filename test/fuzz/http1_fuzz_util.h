#pragma once
// Shared by the HTTP/1 fuzz targets: how an input picks its read boundaries, a sink that checks
// the parser's contract on every callback, and a runner that feeds a parser the way a connection
// does (pausing after each message, resuming, re-offering the unconsumed bytes).
//
// Input layout: byte 0 holds flags (kFlag*) and, in its low 3 bits, how many of the following
// bytes are read sizes; the reads then cycle through those sizes (0 means 1). The rest is the
// HTTP byte stream. A one-shot parse of the same stream must give the same outcome: a client
// chooses its segment boundaries, so they must never change what Remora accepts.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/http1_parser.h"
#include "codec/request_head.h"
#include "codec/request_target.h"

namespace remora::http::fuzz {

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

constexpr uint8_t kSplitCountMask = 0x07;
constexpr uint8_t kFlagSmallLimits = 0x08;  // 256-byte head, 8 headers: reach the 431 paths
constexpr uint8_t kFlagHeadRequest = 0x10;  // responses: onHeaders returns 1 (answer to HEAD)
constexpr uint8_t kFlagEof = 0x20;          // responses: signal EOF after the last byte
constexpr uint8_t kFlagStopOnBody = 0x40;   // the sink refuses the first body bytes (returns -1)

struct Options {
  uint8_t flags = 0;
  std::vector<size_t> reads;  // read sizes, cycled; empty = one read
};

// Splits `data` into options and the HTTP stream.
inline std::pair<Options, std::string_view> parseInput(const uint8_t* data, size_t size) {
  Options o;
  if (size == 0) return {o, {}};
  o.flags = data[0];
  size_t n = std::min<size_t>(o.flags & kSplitCountMask, size - 1);
  for (size_t i = 0; i < n; ++i) o.reads.push_back(data[1 + i] == 0 ? 1 : data[1 + i]);
  const char* body = reinterpret_cast<const char*>(data + 1 + n);
  return {o, std::string_view(body, size - 1 - n)};
}

struct Message {
  MessageHead head;
  std::string body;
  std::vector<std::pair<std::string, std::string>> trailers;
  bool complete = false;
};

inline bool sameHead(const MessageHead& a, const MessageHead& b) {
  if (a.url != b.url || a.reason != b.reason || a.method != b.method || a.status != b.status ||
      a.http_major != b.http_major || a.http_minor != b.http_minor ||
      a.keep_alive != b.keep_alive || a.chunked != b.chunked ||
      a.has_content_length != b.has_content_length || a.upgrade != b.upgrade ||
      a.content_length != b.content_length || a.headers.size() != b.headers.size())
    return false;
  for (size_t i = 0; i < a.headers.size(); ++i) {
    const HeaderMap::Entry& x = a.headers.entries()[i];
    const HeaderMap::Entry& y = b.headers.entries()[i];
    if (a.headers.name(x) != b.headers.name(y) || a.headers.value(x) != b.headers.value(y) ||
        x.token != y.token)
      return false;
  }
  return true;
}

// Records messages and aborts on any breach of the Sink contract.
class CheckingSink : public Http1Parser::Sink {
 public:
  CheckingSink(Http1Parser::Kind kind, uint8_t flags)
      : kind_(kind),
        flags_(flags),
        head_response_(kind == Http1Parser::Kind::kResponse && (flags & kFlagHeadRequest)) {}
  void attach(Http1Parser* parser) { parser_ = parser; }

  int onHeaders(MessageHead& head) override {
    noCallbackAfterTheEnd();
    FUZZ_CHECK(messages_.empty() || messages_.back().complete);  // one message at a time
    FUZZ_CHECK(parser_->inMessage());
    checkHead(head);
    messages_.push_back({head, {}, {}, false});
    return head_response_ ? 1 : 0;
  }

  int onBody(const char* data, size_t len) override {
    noCallbackAfterTheEnd();
    FUZZ_CHECK(!messages_.empty() && !messages_.back().complete);
    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(!head_response_);
    Message& m = messages_.back();
    FUZZ_CHECK(m.head.hasBody() || (kind_ == Http1Parser::Kind::kResponse));
    m.body.append(data, len);
    if (m.head.has_content_length) FUZZ_CHECK(m.body.size() <= m.head.content_length);
    if (flags_ & kFlagStopOnBody) return -1;
    return 0;
  }

  int onMessageComplete(HeaderMap& trailers) override {
    noCallbackAfterTheEnd();
    FUZZ_CHECK(!messages_.empty() && !messages_.back().complete);
    Message& m = messages_.back();
    m.complete = true;
    for (const HeaderMap::Entry& e : trailers.entries()) {
      FUZZ_CHECK(isValidHeaderName(trailers.name(e)));
      FUZZ_CHECK(isValidHeaderValue(trailers.value(e)));
      m.trailers.emplace_back(trailers.name(e), trailers.value(e));
    }
    if (!m.head.chunked) FUZZ_CHECK(m.trailers.empty());
    bool no_body =
        head_response_ || (kind_ == Http1Parser::Kind::kResponse &&
                           (m.head.status < 200 || m.head.status == 204 || m.head.status == 304));
    if (no_body) FUZZ_CHECK(m.body.empty());
    if (!no_body && m.head.has_content_length) FUZZ_CHECK(m.body.size() == m.head.content_length);
    if (kind_ == Http1Parser::Kind::kRequest && !m.head.hasBody()) FUZZ_CHECK(m.body.empty());
    parser_->pause();  // answer in order, like ServerConnection
    return 0;
  }

  const std::vector<Message>& messages() const { return messages_; }

 private:
  void noCallbackAfterTheEnd() { FUZZ_CHECK(!parser_->failed() && !parser_->stopped()); }

  // What every head handed to the owner must satisfy, whatever the bytes were.
  void checkHead(const MessageHead& head) {
    FUZZ_CHECK(head.http_major == 1);
    FUZZ_CHECK(!(head.chunked && head.has_content_length));
    const HeaderMap& h = head.headers;
    size_t te = 0;
    for (const HeaderMap::Entry& e : h.entries()) {
      FUZZ_CHECK(isValidHeaderName(h.name(e)));
      FUZZ_CHECK(isValidHeaderValue(h.value(e)));
      FUZZ_CHECK(e.token == classifyHeader(h.name(e)));
      if (e.token == HeaderToken::kTransferEncoding) ++te;
    }
    FUZZ_CHECK(te <= 1);
    FUZZ_CHECK(h.count(HeaderToken::kContentLength) <= 1);
    if (te == 1) FUZZ_CHECK(head.chunked && h.count(HeaderToken::kContentLength) == 0);
    if (kind_ == Http1Parser::Kind::kRequest) {
      size_t hosts = h.count(HeaderToken::kHost);
      FUZZ_CHECK(hosts <= 1);
      if (head.http_minor >= 1) FUZZ_CHECK(hosts == 1);
      if (te == 1) FUZZ_CHECK(head.http_minor >= 1);
      FUZZ_CHECK((!head.url.empty() && head.url[0] == '/') ||
                 (head.url == "*" && head.method == HTTP_OPTIONS) ||
                 head.url.find("://") != std::string::npos || head.method == HTTP_CONNECT);
      checkNormalized(head, config::EncodedSlashes::kKeep, false);
      checkNormalized(head, config::EncodedSlashes::kDecode, true);
    } else {
      FUZZ_CHECK(head.status >= 100 && head.status <= 999);
    }
  }

  // What checkRequestHead lets through reaches the filters: an origin-form path without a
  // fragment or a dot segment, which normalizing again leaves as it is.
  static void checkNormalized(const MessageHead& parsed, config::EncodedSlashes slashes,
                              bool merge) {
    MessageHead head = parsed;
    config::Listener listener;
    listener.path_normalization = {merge, slashes};
    HeadRefusal r = checkRequestHead(head, listener);
    if (r) {
      FUZZ_CHECK(r.status == 400 || r.status == 405);
      return;
    }
    if (head.url == "*") return;
    FUZZ_CHECK(!head.url.empty() && head.url[0] == '/');
    std::string_view path(head.url);
    path = path.substr(0, path.find('?'));
    FUZZ_CHECK(head.url.find('#') == std::string::npos);
    FUZZ_CHECK(path.find("/./") == std::string_view::npos);
    FUZZ_CHECK(path.find("/../") == std::string_view::npos);
    FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
    if (merge) FUZZ_CHECK(path.find("//") == std::string_view::npos);
    std::string again;
    FUZZ_CHECK(normalizeTargetTo(head.url, listener.path_normalization, again) ==
               TargetError::kNone);
    FUZZ_CHECK(again == head.url);
  }

  Http1Parser::Kind kind_;
  uint8_t flags_;
  bool head_response_;
  Http1Parser* parser_ = nullptr;
  std::vector<Message> messages_;
};

struct Outcome {
  std::vector<Message> messages;
  bool failed = false;
  bool stopped = false;
  stats::ProtocolError error = stats::ProtocolError::kCount;
  size_t consumed = 0;
};

// Parses `stream` in reads of the given sizes (one read when `reads` is empty), resuming after
// each message; stops at a failure, a sink stop or an upgrade (the rest is another protocol).
inline Outcome run(Http1Parser::Kind kind, uint8_t flags, const std::vector<size_t>& reads,
                   std::string_view stream, bool fast_path = true) {
  CheckingSink sink(kind, flags);
  Http1Parser parser(kind, sink);
  sink.attach(&parser);
  parser.setFastPath(fast_path);
  if (flags & kFlagSmallLimits) parser.setLimits({256, 8});
  size_t pos = 0;
  size_t next_read = 0;
  // Each round consumes a byte or resumes a pause, so 2 rounds a byte bound the loop.
  for (size_t round = 0; pos < stream.size() && round <= 2 * stream.size(); ++round) {
    if (parser.paused()) parser.resume();
    size_t want = reads.empty() ? stream.size() - pos : reads[next_read++ % reads.size()];
    size_t len = std::min(want, stream.size() - pos);
    // An exact-size heap copy, so AddressSanitizer sees any read past this read's bytes.
    std::unique_ptr<char[]> buf(new char[len]);
    std::copy(stream.data() + pos, stream.data() + pos + len, buf.get());
    size_t n = parser.execute(buf.get(), len);
    FUZZ_CHECK(n <= len);
    pos += n;
    if (parser.failed() || parser.stopped()) break;
    if (!sink.messages().empty() && sink.messages().back().complete &&
        sink.messages().back().head.upgrade)
      break;
    if (n < len) FUZZ_CHECK(parser.paused());  // nothing else leaves bytes unconsumed
  }
  if ((flags & kFlagEof) && !parser.failed() && !parser.stopped()) {
    if (parser.paused()) parser.resume();
    FUZZ_CHECK(parser.execute(nullptr, 0) == 0);
  }
  // After the end, nothing more is consumed and nothing more is reported.
  if (parser.failed() || parser.stopped()) {
    size_t before = sink.messages().size();
    FUZZ_CHECK(parser.execute("GET / HTTP/1.1\r\n\r\n", 18) == 0);
    FUZZ_CHECK(sink.messages().size() == before);
  }
  if (parser.failed()) {
    FUZZ_CHECK(parser.error() < stats::ProtocolError::kCount);
    FUZZ_CHECK(parser.errorStatus() == 400 || parser.errorStatus() == 431);
    FUZZ_CHECK(!parser.errorDetail().empty());
  }
  return {sink.messages(), parser.failed(), parser.stopped(), parser.error(), pos};
}

// What Remora accepts must not depend on the read boundaries. The error kind may: when a message
// breaks two rules, which check sees it first depends on where http_parser's callbacks fall.
inline void checkSameOutcome(const Outcome& a, const Outcome& b) {
  FUZZ_CHECK(a.failed == b.failed);
  FUZZ_CHECK(a.stopped == b.stopped);
  FUZZ_CHECK(a.messages.size() == b.messages.size());
  for (size_t i = 0; i < a.messages.size(); ++i) {
    FUZZ_CHECK(sameHead(a.messages[i].head, b.messages[i].head));
    FUZZ_CHECK(a.messages[i].complete == b.messages[i].complete);
    FUZZ_CHECK(a.messages[i].trailers == b.messages[i].trailers);
    if (!a.stopped) FUZZ_CHECK(a.messages[i].body == b.messages[i].body);
  }
  if (!a.failed && !a.stopped) FUZZ_CHECK(a.consumed == b.consumed);
}

// Also, the fast path for plain heads (http1_fast_head.h) must accept exactly what http_parser
// does and read it the same way: a one-shot parse without it must give the same outcome.
inline void fuzzOne(Http1Parser::Kind kind, const uint8_t* data, size_t size) {
  auto [options, stream] = parseInput(data, size);
  Outcome split = run(kind, options.flags, options.reads, stream);
  Outcome slow = run(kind, options.flags, {}, stream, false);
  if (!options.reads.empty()) checkSameOutcome(split, slow);
  Outcome whole = run(kind, options.flags, {}, stream);
  checkSameOutcome(whole, slow);
}

}  // namespace remora::http::fuzz
