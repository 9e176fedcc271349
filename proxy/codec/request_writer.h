#pragma once
// Serializes a request towards an upstream: the head rewritten for the hop (hop-by-hop headers
// and headers named in Connection dropped, X-Forwarded-For appended and X-Forwarded-Proto added
// when absent — for forwarded requests —, Expect answered by the proxy), and body framing.

#include <event2/buffer.h>

#include <string>
#include <string_view>
#include <vector>

#include "codec/http1_parser.h"
#include "event/dispatcher.h"

namespace remora::http {

struct RequestRewrite {
  std::string_view peer;          // client address for X-Forwarded-For
  std::string_view default_host;  // Host for an HTTP/1.0 request without one
  bool upgrade = false;           // keep Upgrade and send Connection: upgrade
  bool chunked = false;           // body goes out chunked
  bool grpc = false;              // a gRPC request: `te: trailers` is forwarded
  // X-Forwarded-For/-Proto are added (a client's request); false for the proxy's own requests
  // (callouts), whose headers go out as given.
  bool forwarded = true;
};

// Hop-by-hop request headers, never forwarded as they are (HTTP/1.1 or HTTP/2).
bool isHopByHop(HeaderToken t);
// Collects the header names a Connection header lists (other than close/keep-alive/upgrade):
// those are hop-by-hop too. Rare, so only walked when the request has a Connection header.
void connectionListed(const HeaderMap& h, std::vector<std::string_view>& out);
bool isListed(const std::vector<std::string_view>& listed, std::string_view name);

// Appends a random (version 4) UUID, the x-request-id Remora gives requests that have none.
void appendRequestId(std::string& out, Dispatcher& dispatcher);

// x-request-id is not added here: the stream adds it to the request when it begins, so filters
// and the access log see the same id the upstream gets.
void writeRequestHead(evbuffer* out, const MessageHead& req, const RequestRewrite& rw,
                      Dispatcher& dispatcher);
void writeBodyChunk(evbuffer* out, bool chunked, const char* data, size_t len);
void writeBodyEnd(evbuffer* out, bool chunked, const HeaderMap* trailers, std::string& scratch);

}  // namespace remora::http
