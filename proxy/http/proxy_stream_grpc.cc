// ProxyStream's gRPC layer: everything a proxy does differently for a gRPC request, kept out of
// proxy_stream.cc so the HTTP path reads on its own. Every entry point is reached only when
// grpc_.on is set (or from detectGrpc, which costs one header-count check for other requests).
// Works the same whichever codec carries the stream: on HTTP/1.1 the trailers-only reply is a
// head with grpc-status and an empty body; on HTTP/2 the same head is one HEADERS frame with
// END_STREAM.

#include <algorithm>

#include "codec/http1_format.h"
#include "codec/request_writer.h"
#include "http/grpc.h"
#include "http/proxy_stream.h"
#include "stats/grpc_stats.h"

namespace remora::http {
namespace {

// The REMORA_RETRY_GRPC_* bit for a grpc-status, or 0.
uint32_t retryBit(int status) {
  switch (status) {
    case grpc::kCancelled:
      return REMORA_RETRY_GRPC_CANCELLED;
    case grpc::kDeadlineExceeded:
      return REMORA_RETRY_GRPC_DEADLINE_EXCEEDED;
    case grpc::kResourceExhausted:
      return REMORA_RETRY_GRPC_RESOURCE_EXHAUSTED;
    case grpc::kUnavailable:
      return REMORA_RETRY_GRPC_UNAVAILABLE;
    case grpc::kInternal:
      return REMORA_RETRY_GRPC_INTERNAL;
    default:
      return 0;
  }
}

}  // namespace

void ProxyStream::detectGrpc() {
  // A scan with a length check per header: cheaper for all traffic than interning content-type
  // as a HeaderToken, which would add a 12-byte compare to classifying every response's headers.
  auto ct = request_.head->headers.get("content-type");
  if (!ct || !grpc::isGrpcContentType(*ct)) return;
  grpc_.on = true;
  auto timeout = request_.head->headers.get(grpc::kTimeoutHeader);
  uint64_t ms = 0;
  if (timeout) ms = grpc::parseTimeoutMs(*timeout).value_or(0);
  uint64_t max_ms = uint64_t(runtime_->config.timeouts.grpc_max.count());
  if (max_ms > 0 && ms > max_ms) ms = max_ms;  // caps a client's deadline, sets none
  // The deadline runs from the request's arrival, as the client's does.
  if (ms > 0) grpc_.deadline_ms = LazyTimer::nowMs() + ms;
}

void ProxyStream::startGrpc() {
  if (grpc_.deadline_ms != 0) {
    if (!route_timer_) {
      route_timer_ =
          std::make_unique<LazyTimer>(encoder_.dispatcher().base(), onRouteTimeout, this);
    }
    uint64_t now = LazyTimer::nowMs();
    route_timer_->set(grpc_.deadline_ms > now ? grpc_.deadline_ms - now : 1);
  }
  grpc_.retain_body = upstream_.route.retry_max > 0 &&
                      (upstream_.route.retry_on & REMORA_RETRY_GRPC_MASK) != 0 &&
                      request_.head->hasBody();
  if (grpc_.retain_body && !grpc_.retry_body) grpc_.retry_body.reset(evbuffer_new());
}

uint64_t ProxyStream::grpcCappedTimeoutMs(uint64_t route_ms) const {
  if (grpc_.deadline_ms == 0) return route_ms;
  uint64_t now = LazyTimer::nowMs();
  uint64_t left = grpc_.deadline_ms > now ? grpc_.deadline_ms - now : 1;
  return route_ms == 0 ? left : std::min(route_ms, left);
}

void ProxyStream::sendGrpcLocalReply(int status, std::string_view body, bool close,
                                     const char* flag, const remora_header_t* headers,
                                     size_t header_count) {
  // Which gRPC status: the filter's explicit grpc-status, else the timeout, else Envoy's mapping
  // of the HTTP status.
  int code = -1;
  std::string_view message = body;
  for (size_t i = 0; i < header_count; ++i) {
    std::string_view name(headers[i].name.data, headers[i].name.len);
    std::string_view value(headers[i].value.data, headers[i].value.len);
    if (equalsIgnoreCase(name, grpc::kStatusHeader)) {
      if (auto s = grpc::parseStatus(value); s && *s <= grpc::kMaxStatus) code = *s;
    } else if (equalsIgnoreCase(name, grpc::kMessageHeader)) {
      message = value;
    }
  }
  if (code < 0) {
    bool timeout = flag != nullptr && std::string_view(flag) == "UT";
    code = timeout ? grpc::kDeadlineExceeded : grpc::statusFromHttp(status);
  }
  setGrpcStatus(code);
  response_.started = true;
  response_.status = 200;
  MessageHead& h = local_head_;
  h.clear();
  h.status = 200;
  h.has_content_length = true;
  h.content_length = 0;
  for (size_t i = 0; i < header_count; ++i) {
    std::string_view name(headers[i].name.data, headers[i].name.len);
    std::string_view value(headers[i].value.data, headers[i].value.len);
    if (!isValidHeaderName(name) || !isValidHeaderValue(value)) continue;
    HeaderToken t = classifyHeader(name);
    if (t == HeaderToken::kContentLength || t == HeaderToken::kTransferEncoding ||
        equalsIgnoreCase(name, "content-type") || equalsIgnoreCase(name, grpc::kStatusHeader) ||
        equalsIgnoreCase(name, grpc::kMessageHeader))
      continue;
    h.headers.add(name, value);
  }
  h.headers.add("content-type", "application/grpc");
  h.headers.add(grpc::kStatusHeader, grpc_.status_text);
  std::string& text = encoder_.dispatcher().headerScratch();
  text.clear();
  grpc::appendPercentEncoded(text, message);
  if (!text.empty()) h.headers.add(grpc::kMessageHeader, text);
  h.headers.add("content-length", "0");
  bool body_unread = !request_.complete && !request_.held_complete && request_.head->hasBody();
  if (close || body_unread) h.keep_alive = false;
  response_.head = &h;
  encoder_.encodeHeaders(h, true);
  encoder_.encodeEnd(nullptr);
  finish();
}

bool ProxyStream::grpcResponseHeaders(const MessageHead& head) {
  auto value = head.headers.get(grpc::kStatusHeader);
  if (!value) {
    // A gRPC client infers the status from a non-200 HTTP status (http-grpc-status-mapping.md).
    if (head.status != 200) setGrpcStatus(grpc::statusFromHttp(head.status));
    return false;
  }
  // grpc-status among the headers: a trailers-only response, the whole answer.
  int status = grpc::parseStatus(*value).value_or(grpc::kUnknown);
  setGrpcStatus(status);
  uint32_t bit = retryBit(status);
  return bit != 0 && retryable(bit);
}

void ProxyStream::grpcResponseTrailers(const HeaderMap& trailers) {
  if (auto value = trailers.get(grpc::kStatusHeader))
    setGrpcStatus(grpc::parseStatus(*value).value_or(grpc::kUnknown));
}

void ProxyStream::setGrpcStatus(int status) {
  if (status < 0 || status > 999) status = grpc::kUnknown;
  grpc_.status = status;
  char* p = grpc_.status_text;
  if (status >= 100) *p++ = char('0' + status / 100);
  if (status >= 10) *p++ = char('0' + status / 10 % 10);
  *p++ = char('0' + status % 10);
  *p = '\0';
}

void ProxyStream::retainBody(const char* data, size_t len) {
  // Raw bytes, like request_.buffer: the upstream request frames them (and sends the kept
  // trailers) when the retry is sent.
  evbuffer_add(grpc_.retry_body.get(), data, len);
  if (evbuffer_get_length(grpc_.retry_body.get()) > runtime_->config.limits.buffer_high_watermark) {
    // Too large to keep: this request will not be retried.
    grpc_.retain_body = false;
    emptyKept(grpc_.retry_body);
  }
}

void ProxyStream::restoreRetainedBody() {
  if (!request_.buffer) request_.buffer.reset(evbuffer_new());
  emptyKept(request_.buffer);
  size_t n = evbuffer_get_length(grpc_.retry_body.get());
  evbuffer_add(request_.buffer.get(), evbuffer_pullup(grpc_.retry_body.get(), -1), n);
}

void ProxyStream::recordGrpc() {
  int status = grpc_.status;
  if (status < 0 && remora_flags_has({response_.flags.data(), response_.flags.size()}, "DC"))
    status = grpc::kCancelled;  // the client went away
  std::string_view path(request_.head->url);
  auto sm = grpc::splitPath(path);
  stats::GrpcStats& g = stats::grpcStatsOf(*runtime_->stats);
  size_t slot = sm ? g.slot(sm->service, sm->method) : stats::GrpcStats::kOtherSlot;
  g.inc(slot, size_t(status < 0 ? grpc::kUnknownSlot : grpc::statusSlot(status)));
}

static_assert(stats::GrpcStats::kStatusSlots == size_t(grpc::kStatusSlots));

}  // namespace remora::http
