#include "http/proxy_stream.h"

#include <cstdio>

#include "http/codec/http1_format.h"

#include "upstream/endpoint_pool.h"

namespace remora::http {
namespace {

// Writes a random (version 4) UUID for x-request-id, two hex digits per table lookup.
void appendRequestId(std::string& out, Dispatcher& d) {
  static const char kHex[] = "0123456789abcdef";
  uint8_t b[16];
  uint64_t hi = d.random();
  uint64_t lo = d.random();
  for (int i = 0; i < 8; ++i) {
    b[i] = uint8_t(hi >> (i * 8));
    b[8 + i] = uint8_t(lo >> (i * 8));
  }
  b[6] = uint8_t((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = uint8_t((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char id[36];
  char* p = id;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = kHex[b[i] >> 4];
    *p++ = kHex[b[i] & 0xf];
  }
  out.append(id, sizeof(id));
}

bool isHopByHop(HeaderToken t) {
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

}  // namespace

// Collects the header names a Connection header lists (other than close/keep-alive/upgrade):
// those are hop-by-hop too. Rare, so this is only walked when such a header is present.
void connectionListed(const HeaderMap& h, std::vector<std::string_view>& out) {
  for (const HeaderMap::Entry& e : h.entries()) {
    if (e.removed || e.token != HeaderToken::kConnection) continue;
    std::string_view v = h.value(e);
    size_t pos = 0;
    while (pos < v.size()) {
      size_t comma = v.find(',', pos);
      if (comma == std::string_view::npos) comma = v.size();
      std::string_view item = v.substr(pos, comma - pos);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty() && !equalsIgnoreCase(item, "close") &&
          !equalsIgnoreCase(item, "keep-alive") && !equalsIgnoreCase(item, "upgrade"))
        out.push_back(item);
      pos = comma + 1;
    }
  }
}

bool isListed(const std::vector<std::string_view>& listed, std::string_view name) {
  for (std::string_view l : listed)
    if (equalsIgnoreCase(l, name)) return true;
  return false;
}

ProxyStream::ProxyStream(StreamEncoder& encoder) : encoder_(encoder) {}

ProxyStream::~ProxyStream() {
  reset();
}

void ProxyStream::begin(std::shared_ptr<const ListenerRuntime> runtime, MessageHead& request) {
  runtime_ = std::move(runtime);
  request_ = &request;
  active_ = true;
  request_complete_ = response_started_ = request_sent_any_ = tunnel_ = false;
  tried_ = 0;
  attempts_ = 0;
  response_status_ = 0;
  request_chunked_ = request.chunked;
  upgrade_ = request.upgrade;
  std::string_view path(request.url);
  const RouteTarget* route = runtime_->match(path.substr(0, path.find('?')));
  if (route == nullptr) return sendLocalReply(404, "no route matched the request\n");
  cluster_ = route->cluster;
  if (request.http_minor >= 1 && request.hasBody()) {
    auto expect = request.headers.get(HeaderToken::kExpect);
    // Answer 100-continue here, as Envoy does by default: the upstream then never waits.
    if (expect && equalsIgnoreCase(*expect, "100-continue")) encoder_.encode100Continue();
  }
  tryUpstream();
}

void ProxyStream::tryUpstream() {
  const config::Cluster& cfg = cluster_->config();
  upstream::EndpointPool* pool =
      attempts_ < cfg.max_connect_attempts ? cluster_->choose(tried_) : nullptr;
  if (pool == nullptr) return sendLocalReply(503, "no healthy upstream\n");
  ++attempts_;
  pending_pool_ = pool;
  if (!pool->acquire(*this)) {
    pending_pool_ = nullptr;
    return sendLocalReply(503, "upstream overloaded: too many pending requests\n");
  }
}

void ProxyStream::onUpstreamReady(upstream::UpstreamConnection& conn) {
  pending_pool_ = nullptr;
  upstream_ = &conn;
  conn.setResponseExpectsNoBody(request_->method == HTTP_HEAD);
  evbuffer* out = conn.output();
  writeRequestHead(out);
  if (request_buffer_ && evbuffer_get_length(request_buffer_.get()) > 0) {
    evbuffer_add_buffer(out, request_buffer_.get());
    encoder_.readDisable(false);
  }
  request_sent_any_ = true;
  if (request_complete_) conn.requestComplete();
  if (conn.aboveHighWatermark()) encoder_.readDisable(true);
  conn.flush();  // last: a write error re-enters through onUpstreamFailure
}

void ProxyStream::writeRequestHead(evbuffer* out) {
  const MessageHead& req = *request_;
  const HeaderMap& h = req.headers;
  std::string& s = encoder_.dispatcher().headerScratch();
  s.clear();
  s.append(http_method_str(req.method));
  s.push_back(' ');
  s.append(req.url);
  s.append(" HTTP/1.1\r\n");
  std::vector<std::string_view> listed;
  if (h.count(HeaderToken::kConnection) > 0) connectionListed(h, listed);
  std::string_view xff;
  bool has_xff = false, has_proto = false, has_id = false, has_host = false;
  for (const HeaderMap::Entry& e : h.entries()) {
    if (e.removed) continue;
    switch (e.token) {
      case HeaderToken::kXForwardedFor:
        xff = h.value(e);
        has_xff = true;
        continue;
      case HeaderToken::kXForwardedProto:
        has_proto = true;
        break;
      case HeaderToken::kXRequestId:
        has_id = true;
        break;
      case HeaderToken::kHost:
        has_host = true;
        break;
      case HeaderToken::kExpect:
        continue;  // answered by the proxy
      default:
        if (isHopByHop(e.token)) continue;
        if (!listed.empty() && isListed(listed, h.name(e))) continue;
        break;
    }
    s.append(h.name(e)).append(": ").append(h.value(e)).append("\r\n");
  }
  if (!has_host) s.append("host: ").append(cluster_->config().name).append("\r\n");
  s.append("x-forwarded-for: ");
  if (has_xff) s.append(xff).append(", ");
  s.append(encoder_.peerAddress()).append("\r\n");
  if (!has_proto) s.append("x-forwarded-proto: http\r\n");
  if (!has_id) {
    s.append("x-request-id: ");
    appendRequestId(s, encoder_.dispatcher());
    s.append("\r\n");
  }
  if (upgrade_) {
    auto up = h.get(HeaderToken::kUpgrade);
    s.append("connection: upgrade\r\nupgrade: ").append(up ? *up : "").append("\r\n");
  }
  if (request_chunked_) s.append("transfer-encoding: chunked\r\n");
  s.append("\r\n");
  evbuffer_add(out, s.data(), s.size());
}

void ProxyStream::encodeRequestBody(evbuffer* out, const char* data, size_t len) {
  if (request_chunked_) {
    char size[24];
    evbuffer_add(out, size, formatChunkSize(size, len));
    evbuffer_add(out, data, len);
    evbuffer_add(out, "\r\n", 2);
  } else {
    evbuffer_add(out, data, len);
  }
}

void ProxyStream::encodeRequestEnd(evbuffer* out, const HeaderMap* trailers) {
  if (!request_chunked_) return;
  std::string& s = encoder_.dispatcher().headerScratch();
  s.assign("0\r\n");
  if (trailers) trailers->serialize(s);
  s.append("\r\n");
  evbuffer_add(out, s.data(), s.size());
}

void ProxyStream::onRequestBody(const char* data, size_t len) {
  if (!active_ || response_started_) return;  // an early response already settled the stream
  if (upstream_) {
    encodeRequestBody(upstream_->output(), data, len);
    if (upstream_->aboveHighWatermark()) encoder_.readDisable(true);
    return;
  }
  if (!request_buffer_) request_buffer_.reset(evbuffer_new());
  encodeRequestBody(request_buffer_.get(), data, len);
  if (evbuffer_get_length(request_buffer_.get()) > runtime_->config.limits.buffer_high_watermark)
    encoder_.readDisable(true);
}

void ProxyStream::onRequestComplete(HeaderMap& trailers) {
  if (!active_) return;
  request_complete_ = true;
  if (response_started_) return;
  if (upstream_) {
    encodeRequestEnd(upstream_->output(), &trailers);
    upstream_->requestComplete();
    return;
  }
  if (request_chunked_) {
    if (!request_buffer_) request_buffer_.reset(evbuffer_new());
    encodeRequestEnd(request_buffer_.get(), &trailers);
  }
}

void ProxyStream::onDownstreamTunnelData(const char* data, size_t len) {
  if (!upstream_) return;
  evbuffer_add(upstream_->output(), data, len);
  if (upstream_->aboveHighWatermark()) encoder_.readDisable(true);
}

void ProxyStream::onDownstreamReadComplete() {
  if (upstream_) upstream_->flush();
}

void ProxyStream::onDownstreamWritable() {
  if (upstream_) upstream_->readDisable(false);
}

void ProxyStream::onUpstreamWritable() {
  encoder_.readDisable(false);
}

int ProxyStream::onResponseHeaders(MessageHead& head) {
  response_started_ = true;
  response_status_ = head.status;
  cluster_->stats().upstream_requests[stats::codeClassIndex(head.status)].inc();
  if (head.status == 101 && upgrade_) tunnel_ = true;
  encoder_.encodeHeaders(head, false);
  return 0;
}

void ProxyStream::onResponseBody(const char* data, size_t len) {
  encoder_.encodeBody(data, len);
  if (upstream_ && encoder_.aboveWriteWatermark()) upstream_->readDisable(true);
}

void ProxyStream::onResponseComplete(HeaderMap& trailers) {
  if (tunnel_) {
    encoder_.encodeEnd(nullptr);  // switches the downstream connection to raw bytes
    return;
  }
  encoder_.encodeEnd(&trailers);
  finish();
}

void ProxyStream::onTunnelData(const char* data, size_t len) {
  encoder_.encodeRaw(data, len);
  if (upstream_ && encoder_.aboveWriteWatermark()) upstream_->readDisable(true);
}

void ProxyStream::onUpstreamFailure(upstream::UpstreamFailure failure, bool reused) {
  using upstream::UpstreamFailure;
  upstream_ = nullptr;
  pending_pool_ = nullptr;
  if (tunnel_) return finish();  // either side closing ends a tunnel
  if (response_started_) {
    active_ = false;
    cluster_.reset();
    encoder_.abort();
    return;
  }
  bool connect_failed =
      failure == UpstreamFailure::kConnectFailed || failure == UpstreamFailure::kConnectTimeout;
  // A kept-alive connection the upstream closed just as we reused it: nothing was processed, so
  // a request without a body is safe to send again.
  bool stale_reuse = failure == UpstreamFailure::kReset && reused && !request_->hasBody() &&
                     !upgrade_ && attempts_ < cluster_->config().max_connect_attempts;
  if (connect_failed || stale_reuse) {
    if (stale_reuse) tried_ = 0;
    return tryUpstream();
  }
  int status = failure == UpstreamFailure::kResponseTimeout ? 504 : 502;
  std::string body = upstream::failureName(failure);
  body.push_back('\n');
  sendLocalReply(status, body);
}

void ProxyStream::sendLocalReply(int status, std::string_view body, bool close) {
  if (!active_) return;
  releaseUpstream();
  if (response_started_) {
    active_ = false;
    cluster_.reset();
    encoder_.abort();
    return;
  }
  response_started_ = true;
  response_status_ = status;
  MessageHead& h = local_head_;
  h.clear();
  h.status = status;
  h.has_content_length = true;
  h.content_length = body.size();
  h.headers.add("content-type", "text/plain");
  char len[24];
  int n = std::snprintf(len, sizeof(len), "%zu", body.size());
  h.headers.add("content-length", std::string_view(len, size_t(n)));
  if (close) h.keep_alive = false;
  encoder_.encodeHeaders(h, body.empty());
  if (!body.empty()) encoder_.encodeBody(body.data(), body.size());
  encoder_.encodeEnd(nullptr);
  finish();
}

void ProxyStream::finish() {
  releaseUpstream();
  active_ = false;
  cluster_.reset();
  if (request_buffer_)
    evbuffer_drain(request_buffer_.get(), evbuffer_get_length(request_buffer_.get()));
  encoder_.onStreamComplete();
}

void ProxyStream::releaseUpstream() {
  if (pending_pool_) {
    pending_pool_->cancel(*this);
    pending_pool_ = nullptr;
  }
  if (upstream_) {
    upstream::UpstreamConnection* u = upstream_;
    upstream_ = nullptr;
    u->detach();
  }
}

void ProxyStream::reset() {
  if (!active_ && !upstream_ && !pending_pool_) return;
  releaseUpstream();
  active_ = false;
  cluster_.reset();
}

}  // namespace remora::http
