#include "http/callout.h"

#include "codec/header_map.h"
#include "codec/http1_format.h"
#include "http/proxy_stream.h"
#include "upstream/endpoint_pool.h"

namespace remora::plugin {

Callout::Callout(std::shared_ptr<upstream::WorkerCluster> cluster, http::MessageHead request,
                 std::string body, uint32_t timeout_ms, remora_callout_cb cb, void* user)
    : cluster_(std::move(cluster)),
      request_(std::move(request)),
      request_body_(std::move(body)),
      cb_(cb),
      user_(user),
      caller_(detail::t_running),
      timer_(cluster_->dispatcher().base(), onTimeout, this) {
  timer_.set(timeout_ms ? timeout_ms : uint64_t(cluster_->config().response_timeout.count()));
}

Callout::~Callout() {
  release();
}

bool Callout::start() {
  upstream::EndpointPool* pool = cluster_->choose(tried_);
  if (pool == nullptr) return false;
  pending_pool_ = pool;
  if (pool->acquire(*this) != upstream::PendingAdmission::kAdmitted) {
    pending_pool_ = nullptr;
    return false;
  }
  return true;
}

void Callout::release() {
  timer_.cancel();
  if (pending_pool_) {
    pending_pool_->cancel(*this);
    pending_pool_ = nullptr;
  }
  if (conn_) {
    upstream::UpstreamRequest* c = conn_;
    conn_ = nullptr;
    c->release();
  }
}

void Callout::cancel() {
  done_ = true;
  release();
}

void Callout::onUpstreamReady(upstream::UpstreamRequest& conn) {
  pending_pool_ = nullptr;
  conn_ = &conn;
  // The proxy's own request, not a forwarded one: no X-Forwarded-For/-Proto. A `te: trailers`
  // the plugin set is kept (gRPC servers want it); Host defaults to the cluster's name.
  http::RequestRewrite rw;
  rw.default_host = cluster_->config().name;
  rw.grpc = true;
  rw.forwarded = false;
  conn.setResponseExpectsNoBody(request_.method == HTTP_HEAD);  // else HTTP/1.1 waits for one
  const bool end_stream = request_body_.empty();
  conn.sendHeaders(request_, rw, end_stream);
  if (!end_stream) conn.sendBody(request_body_.data(), request_body_.size());
  conn.sendEnd(nullptr);
  conn.flush();  // last: a write error re-enters through onUpstreamFailure
}

void Callout::onUpstreamFailure(upstream::UpstreamFailure failure, bool) {
  conn_ = nullptr;
  pending_pool_ = nullptr;
  deliver(0, upstream::failureName(failure));
}

int Callout::onResponseHeaders(http::MessageHead& head) {
  status_ = head.status;
  for (const auto& e : head.headers.entries())
    if (!e.removed)
      headers_.emplace_back(std::string(head.headers.name(e)), std::string(head.headers.value(e)));
  return 0;
}

void Callout::onResponseBody(const char* data, size_t len) {
  if (body_.size() + len > kMaxBody) return deliver(0, "callout response too large");
  body_.append(data, len);
}

void Callout::onResponseComplete(http::HeaderMap& trailers) {
  // The callback has one header list: trailers (HTTP/2, or HTTP/1.1 chunked) follow the response
  // headers, so a gRPC status is found by name whether it came as a trailer or, in a
  // trailers-only answer, in the head.
  for (const auto& e : trailers.entries())
    if (!e.removed)
      headers_.emplace_back(std::string(trailers.name(e)), std::string(trailers.value(e)));
  deliver(status_, std::move(body_));
}

void Callout::onTimeout(void* arg) {
  static_cast<Callout*>(arg)->deliver(0, "callout timeout");
}

void Callout::deliver(int status, std::string body) {
  if (done_) return;
  done_ = true;
  release();
  std::vector<remora_header_t> hs;
  hs.reserve(headers_.size());
  for (const auto& [n, v] : headers_) hs.push_back({{n.data(), n.size()}, {v.data(), v.size()}});
  // Last: the callback may end the stream, which defers this object's deletion.
  PluginScope scope(caller_.name, caller_.host);
  cb_(user_, status, hs.data(), hs.size(), remora_str_t{body.data(), body.size()});
}

bool startCallout(http::ProxyStream& stream, upstream::WorkerCluster& cluster,
                  std::string_view method, std::string_view path, const remora_header_t* headers,
                  size_t header_count, std::string_view body, uint32_t timeout_ms,
                  remora_callout_cb cb, void* user) {
  if (path.empty() || path[0] != '/') return false;
  http::MessageHead req;
  if (!http::parseMethodName(method, req.method)) return false;
  req.url.assign(path);
  for (size_t i = 0; i < header_count; ++i) {
    std::string_view n(headers[i].name.data, headers[i].name.len);
    std::string_view v(headers[i].value.data, headers[i].value.len);
    if (!http::isValidHeaderName(n) || !http::isValidHeaderValue(v)) return false;
    http::HeaderToken t = http::classifyHeader(n);
    // Framing is the kernel's; other hop-by-hop fields are dropped when the head is written.
    if (t == http::HeaderToken::kContentLength || t == http::HeaderToken::kTransferEncoding)
      continue;
    req.headers.add(t, n, v);
  }
  std::string length;
  http::appendDecimal(length, body.size());
  req.headers.add(http::HeaderToken::kContentLength, "content-length", length);
  req.has_content_length = true;
  req.content_length = body.size();
  auto shared = stream.runtime()->clusters.at(cluster.config().name);
  auto callout =
      std::make_unique<Callout>(shared, std::move(req), std::string(body), timeout_ms, cb, user);
  Callout* raw = callout.get();
  stream.adoptCallout(std::move(callout));
  if (raw->start()) return true;
  raw->cancel();  // 0 returned: the callback must never run
  return false;
}

}  // namespace remora::plugin
