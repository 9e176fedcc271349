#pragma once
// UpstreamRequest: what a stream writes its request to — an HTTP/1.1 connection it has to itself
// (UpstreamConnection) or one stream of a multiplexed HTTP/2 connection (Http2UpstreamStream).
// The stream never learns which: it sends a head, body pieces and an end, and hears the response
// through UpstreamCallbacks. All calls on the worker thread.
//
// Virtual rather than a variant: one indirect call per request event is a few instructions
// against the thousands a request costs (docs/performance.md), and the HTTP/1 implementation is
// `final`, so the compiler devirtualizes every call made on a concrete connection.

#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/http1_parser.h"
#include "codec/request_writer.h"

struct evbuffer;

namespace remora::upstream {

class UpstreamRequest {
 public:
  // Sends the request head, rewritten for the hop (request_writer.h). `end_stream`: the request
  // has no body, so no sendBody/sendEnd bytes will follow (sendEnd is still called).
  virtual void sendHeaders(const http::MessageHead& request, const http::RequestRewrite& rw,
                           bool end_stream) = 0;
  virtual void sendBody(const char* data, size_t len) = 0;
  // Moves body bytes held while no upstream was ready (raw, unframed); empties `held`.
  virtual void sendHeldBody(evbuffer* held) = 0;
  // The request is complete; `trailers` may be null or empty. Arms the response timeout.
  virtual void sendEnd(const http::HeaderMap* trailers) = 0;
  // Upgraded tunnel bytes (HTTP/1 only; a multiplexed stream never accepts an upgrade, and
  // ProxyStream answers an Upgrade routed to an HTTP/2 cluster with 501 before any upstream).
  virtual void sendRaw(const char* data, size_t len) = 0;
  // Writes what is queued now (the end of one downstream read).
  virtual void flush() = 0;
  // Request bytes queued beyond the high watermark: the caller stops reading its downstream
  // until UpstreamCallbacks::onUpstreamWritable.
  virtual bool aboveHighWatermark() const = 0;
  // Pauses/resumes delivery of the response (downstream backpressure).
  virtual void readDisable(bool disable) = 0;
  // The caller is done (response complete or stream gone); no callback follows. The request
  // object may be destroyed or reused at once.
  virtual void release() = 0;
  virtual const std::string& endpointName() const = 0;
  // A route's per-try timeout for this request (0: the cluster's response_timeout).
  virtual void setResponseTimeoutOverride(uint32_t ms) = 0;
  // A response to HEAD: its framing says nothing about a body.
  virtual void setResponseExpectsNoBody(bool v) = 0;

 protected:
  ~UpstreamRequest() = default;  // never deleted through this interface
};

}  // namespace remora::upstream
