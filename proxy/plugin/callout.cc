#include "plugin/callout.h"

#include "http/codec/http1_format.h"
#include "http/header_map.h"
#include "http/proxy_stream.h"
#include "upstream/endpoint_pool.h"

namespace remora::plugin {

Callout::Callout(std::shared_ptr<upstream::WorkerCluster> cluster, std::string request,
                 uint32_t timeout_ms, remora_callout_cb cb, void* user)
    : cluster_(std::move(cluster)),
      request_(std::move(request)),
      cb_(cb),
      user_(user),
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
  // The request is serialized already (HTTP/1.1; startCallout refuses HTTP/2 clusters).
  conn.sendRaw(request_.data(), request_.size());
  conn.sendEnd(nullptr);
  conn.flush();
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

void Callout::onResponseComplete(http::HeaderMap&) {
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
  cb_(user_, status, hs.data(), hs.size(), remora_str_t{body.data(), body.size()});
}

bool startCallout(http::ProxyStream& stream, upstream::WorkerCluster& cluster,
                  std::string_view method, std::string_view path, const remora_header_t* headers,
                  size_t header_count, std::string_view body, uint32_t timeout_ms,
                  remora_callout_cb cb, void* user) {
  if (method.empty() || path.empty() || path[0] != '/') return false;
  // Callouts serialize HTTP/1.1 themselves; an HTTP/2 cluster cannot carry them yet.
  if (cluster.config().protocol != config::UpstreamProtocol::kHttp1) return false;
  std::string req;
  req.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (size_t i = 0; i < header_count; ++i) {
    std::string_view n(headers[i].name.data, headers[i].name.len);
    std::string_view v(headers[i].value.data, headers[i].value.len);
    if (!http::isValidHeaderName(n) || !http::isValidHeaderValue(v)) return false;
    http::HeaderToken t = http::classifyHeader(n);
    if (t == http::HeaderToken::kContentLength || t == http::HeaderToken::kTransferEncoding ||
        t == http::HeaderToken::kConnection)
      continue;
    has_host |= t == http::HeaderToken::kHost;
    req.append(n).append(": ").append(v).append("\r\n");
  }
  if (!has_host) req.append("host: ").append(cluster.config().name).append("\r\n");
  req.append("content-length: ");
  http::appendDecimal(req, body.size());
  req.append("\r\n\r\n").append(body);
  auto shared = stream.runtime()->clusters.at(cluster.config().name);
  auto callout = std::make_unique<Callout>(shared, std::move(req), timeout_ms, cb, user);
  Callout* raw = callout.get();
  stream.adoptCallout(std::move(callout));
  if (raw->start()) return true;
  raw->cancel();  // 0 returned: the callback must never run
  return false;
}

}  // namespace remora::plugin
