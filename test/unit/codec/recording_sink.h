#pragma once
// RecordingSink: an Http1Parser::Sink that keeps everything the parser reports, so tests compare
// whole messages, and helpers that feed a parser the way a connection does (any read sizes,
// resuming after each pause).

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/http1_parser.h"

namespace remora::http::testing {

using Fields = std::vector<std::pair<std::string, std::string>>;

inline Fields fieldsOf(const HeaderMap& map) {
  Fields out;
  for (const HeaderMap::Entry& e : map.entries())
    if (!e.removed) out.emplace_back(std::string(map.name(e)), std::string(map.value(e)));
  return out;
}

// One message as the sink saw it.
struct Recorded {
  http_method method = HTTP_GET;
  int status = 0;
  std::string url;
  std::string reason;
  int http_major = 0;
  int http_minor = 0;
  bool keep_alive = false;
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool upgrade = false;
  Fields headers;
  std::string body;
  Fields trailers;
  bool complete = false;
  bool operator==(const Recorded&) const = default;
};

class RecordingSink : public Http1Parser::Sink {
 public:
  // What onHeaders returns (1 = no body, as for a response to HEAD).
  int headers_rc = 0;
  // Pause the parser on every message complete, as ServerConnection does to answer in order.
  Http1Parser* pause_on_complete = nullptr;
  std::vector<Recorded> messages;

  int onHeaders(MessageHead& h) override {
    Recorded r;
    r.method = h.method;
    r.status = h.status;
    r.url = h.url;
    r.reason = h.reason;
    r.http_major = h.http_major;
    r.http_minor = h.http_minor;
    r.keep_alive = h.keep_alive;
    r.chunked = h.chunked;
    r.has_content_length = h.has_content_length;
    r.content_length = h.content_length;
    r.upgrade = h.upgrade;
    r.headers = fieldsOf(h.headers);
    messages.push_back(std::move(r));
    return headers_rc;
  }
  int onBody(const char* data, size_t len) override {
    messages.back().body.append(data, len);
    return 0;
  }
  int onMessageComplete(HeaderMap& trailers) override {
    messages.back().trailers = fieldsOf(trailers);
    messages.back().complete = true;
    if (pause_on_complete != nullptr) pause_on_complete->pause();
    return 0;
  }
};

// Feeds `input` in reads of at most `step` bytes, re-offering unconsumed bytes after a pause
// like a connection keeps them buffered. Stops at a failure; returns the bytes consumed.
inline size_t feed(Http1Parser& parser, std::string_view input, size_t step = SIZE_MAX) {
  size_t pos = 0;
  // Each round consumes at least one byte or resumes a pause, so this ends.
  for (size_t rounds = 0; pos < input.size() && rounds < 4 * input.size() + 4; ++rounds) {
    if (parser.paused()) parser.resume();
    size_t len = std::min(step, input.size() - pos);
    size_t n = parser.execute(input.data() + pos, len);
    pos += n;
    if (parser.failed() || parser.stopped()) break;
    if (n < len && !parser.paused()) break;  // e.g. after an upgrade
  }
  return pos;
}

// Feeds `input` in two reads split at `split`.
inline size_t feedSplit(Http1Parser& parser, std::string_view input, size_t split) {
  size_t n = feed(parser, input.substr(0, split));
  if (n < split || parser.failed()) return n;
  return n + feed(parser, input.substr(split));
}

}  // namespace remora::http::testing
