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

// Hop-by-hop headers, never forwarded as they are (HTTP/1.1 or HTTP/2), requests and responses
// alike. Inline: asked of every header a message carries.
inline bool isHopByHop(HeaderToken t) {
  switch (t) {
    case HeaderToken::kConnection:
    case HeaderToken::kKeepAlive:
    case HeaderToken::kProxyConnection:
    case HeaderToken::kTe:
    case HeaderToken::kTransferEncoding:
    case HeaderToken::kUpgrade:
      return true;
    default:
      return false;
  }
}
// Collects the header names a Connection header lists (other than close/keep-alive/upgrade):
// those are hop-by-hop too. Rare, so only walked when the request has a Connection header.
void connectionListed(const HeaderMap& h, std::vector<std::string_view>& out);
bool isListed(const std::vector<std::string_view>& listed, std::string_view name);

// What the walk over a forwarded request's headers found, for the headers a writer adds after
// them.
struct ForwardedFields {
  std::string_view xff;      // the client's X-Forwarded-For (forwarded requests only)
  bool has_xff = false;      // ... which the writer appends the peer to
  bool has_proto = false;    // X-Forwarded-Proto is present
  bool has_host = false;     // Host is present
  bool te_trailers = false;  // HTTP/2 only: a TE header lists "trailers"
};

enum class HeadTarget { kHttp1, kHttp2 };

// The one walk that decides which request headers cross to the upstream, for the HTTP/1.1 head
// writer and the HTTP/2 upstream stream alike: hop-by-hop headers and the ones Connection lists
// are dropped, Expect is answered by the proxy, and a forwarded request's X-Forwarded-For is held
// back for the writer to append the peer to. On HTTP/1.1 Host stays and TE passes only as a gRPC
// request's `te: trailers`; on HTTP/2 Host becomes :authority and TE is reduced to the
// `te: trailers` the writer adds from `te_trailers`. `emit(entry)` runs for every header that
// goes out as it is, in order. Inline: both callers are on the request path.
template <HeadTarget kTarget, typename Emit>
ForwardedFields forEachForwardedHeader(const HeaderMap& h, const RequestRewrite& rw, Emit&& emit) {
  ForwardedFields f;
  std::vector<std::string_view> listed;
  if (h.count(HeaderToken::kConnection) > 0) connectionListed(h, listed);
  for (const HeaderMap::Entry& e : h.entries()) {
    if (e.removed) continue;
    switch (e.token) {
      case HeaderToken::kXForwardedFor:
        if (!rw.forwarded) break;
        f.xff = h.value(e);
        f.has_xff = true;
        continue;
      case HeaderToken::kXForwardedProto:
        f.has_proto = true;
        break;
      case HeaderToken::kHost:
        f.has_host = true;
        if constexpr (kTarget == HeadTarget::kHttp2) continue;  // :authority
        break;
      case HeaderToken::kExpect:
        continue;  // answered by the proxy
      case HeaderToken::kTe:
        if constexpr (kTarget == HeadTarget::kHttp2) {
          f.te_trailers |= headerListContains(h.value(e), "trailers");
          continue;
        }
        // gRPC servers require `te: trailers` (Envoy forwards it for gRPC too); otherwise TE
        // is hop-by-hop.
        if (!rw.grpc || !equalsIgnoreCase(h.value(e), "trailers")) continue;
        break;
      default:
        if (isHopByHop(e.token)) continue;
        if (!listed.empty() && isListed(listed, h.name(e))) continue;
        break;
    }
    emit(e);
  }
  return f;
}

// Appends a random (version 4) UUID, the x-request-id Remora gives requests that have none.
void appendRequestId(std::string& out, Dispatcher& dispatcher);

// x-request-id is not added here: the stream adds it to the request when it begins, so filters
// and the access log see the same id the upstream gets.
void writeRequestHead(evbuffer* out, const MessageHead& req, const RequestRewrite& rw,
                      Dispatcher& dispatcher);
void writeBodyChunk(evbuffer* out, bool chunked, const char* data, size_t len);
void writeBodyEnd(evbuffer* out, bool chunked, const HeaderMap* trailers, std::string& scratch);

}  // namespace remora::http
