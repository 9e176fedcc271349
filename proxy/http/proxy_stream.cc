#include "http/proxy_stream.h"

#include <spdlog/spdlog.h>
#include <sys/time.h>

#include "codec/http1_format.h"
#include "codec/request_writer.h"
#include "upstream/endpoint_pool.h"

namespace remora::http {
namespace {

uint64_t unixMicros() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return uint64_t(tv.tv_sec) * 1000000 + uint64_t(tv.tv_usec);
}

// A filter's bound refused the stream (set_upstream_limits): said as the circuit_breaker says its
// own refusals, so clients can tell them from an upstream's 503.
const remora_header_t kOverloadedHeader = {{"x-remora-overloaded", 19}, {"true", 4}};

bool idempotent(http_method m) {
  return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS || m == HTTP_PUT ||
         m == HTTP_DELETE || m == HTTP_TRACE;
}

}  // namespace

ProxyStream::ProxyStream(StreamEncoder& encoder) : encoder_(encoder) {}

ProxyStream::~ProxyStream() {
  reset();
}

void ProxyStream::begin(std::shared_ptr<const ListenerRuntime> runtime, MessageHead& request) {
  runtime_ = std::move(runtime);
  request_ = &request;
  response_ = nullptr;
  request_trailers_ = response_trailers_ = nullptr;
  active_ = true;
  routed_ = held_complete_ = request_complete_ = response_started_ = tunnel_ = false;
  finish_pending_ = notify_pending_ = false;
  tried_ = 0;
  last_failure_ = nullptr;
  attempts_ = retries_ = 0;
  max_pending_ = max_retries_ = REMORA_NO_LIMIT;
  limits_hit_ = 0;
  response_status_ = 0;
  request_bytes_ = response_bytes_ = 0;
  route_ = RouteDecision{};
  metadata_.clear();
  upstream_address_ = nullptr;
  flags_.clear();
  request_chunked_ = request.chunked;
  upgrade_ = request.upgrade;
  grpc_ = retain_body_ = false;
  grpc_status_ = -1;
  if (request.method == HTTP_POST) detectGrpc();  // gRPC calls are always POSTs
  if (request.headers.count(HeaderToken::kXRequestId) == 0) {
    std::string& id = encoder_.dispatcher().headerScratch();
    id.clear();
    appendRequestId(id, encoder_.dispatcher());
    request.headers.add(HeaderToken::kXRequestId, "x-request-id", id);
  }
  if (runtime_->chain) {
    start_unix_us_ = unixMicros();
    filters_.begin(runtime_->chain, encoder_.dispatcher().workerIndex(), &handle_, request.url);
    return runRequestHeaderFilters();
  }
  std::string_view path(request.url);
  const RouteTarget* route = runtime_->match(path.substr(0, path.find('?')));
  if (route != nullptr) cluster_ = route->cluster;
  onRouted();
}

void ProxyStream::runRequestHeaderFilters() {
  bool end_stream = !request_->hasBody() && !upgrade_;
  plugin::ChainResult r = filters_.requestHeaders(end_stream);
  if (afterHook()) return;
  switch (r) {
    case plugin::ChainResult::kContinue:
      return onRouted();
    case plugin::ChainResult::kStop:
      return;  // a filter resumes us (resumeFilters) or replies
    case plugin::ChainResult::kReplied:
      if (active_) sendLocalReply(500, "filter replied without a response\n");
      return;
    case plugin::ChainResult::kError:
      return filterFailed();
  }
}

void ProxyStream::resumeFilters() {
  if (!active_ || routed_ || !filters_.pausedOnHeaders()) return;
  runRequestHeaderFilters();
}

void ProxyStream::filterFailed() {
  // 503 when the filter is quarantined (fail_closed): the stream never reached it.
  int status = filters_.failureStatus();
  spdlog::warn("filter {} failed on a stream; answering {}", filters_.failedFilter(), status);
  std::string body = "filter " + std::string(filters_.failedFilter()) +
                     (status == 503 ? " quarantined\n" : " failed\n");
  sendLocalReply(status, body, false, "FE");
}

bool ProxyStream::afterHook() {
  if (!finish_pending_ || filters_.inHook()) return finish_pending_;
  completeFinish();
  return true;
}

bool ProxyStream::setRoute(const remora_route_t& route, std::string& err) {
  std::string name(route.cluster.data, route.cluster.len);
  auto it = runtime_->clusters.find(name);
  if (it == runtime_->clusters.end()) {
    err = "unknown cluster \"" + name + "\"";
    return false;
  }
  cluster_ = it->second;
  route_.timeout_ms = route.timeout_ms;
  route_.per_try_timeout_ms = route.per_try_timeout_ms;
  route_.retry_max = route.retry_max;
  route_.retry_on = route.retry_on;
  route_.retry_non_idempotent = route.retry_non_idempotent != 0;
  if (route.path.len > 0) request_->url.assign(route.path.data, route.path.len);
  if (route.host.len > 0)
    request_->headers.set("host", std::string_view(route.host.data, route.host.len));
  return true;
}

void ProxyStream::onRouted() {
  routed_ = true;
  if (!cluster_) return sendLocalReply(404, "no route matched the request\n", false, "NR");
  if (upgrade_ && cluster_->config().protocol != config::UpstreamProtocol::kHttp1)
    return refuseUpgrade();
  if (grpc_) startGrpc();
  const MessageHead& request = *request_;
  // HTTP/1.1 and HTTP/2 know 1xx answers; HTTP/1.0 does not.
  if ((request.http_major > 1 || request.http_minor >= 1) && request.hasBody()) {
    auto expect = request.headers.get(HeaderToken::kExpect);
    // Answer 100-continue here, as Envoy does by default: the upstream then never waits.
    if (expect && equalsIgnoreCase(*expect, "100-continue")) encoder_.encode100Continue();
  }
  tryUpstream();
  if (!active_) return;
  if (held_body_ && evbuffer_get_length(held_body_.get()) > 0) {
    size_t n = evbuffer_get_length(held_body_.get());
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(held_body_.get(), -1));
    forwardRequestBody(data, n);
    evbuffer_drain(held_body_.get(), n);
    encoder_.readDisable(false);
  }
  if (active_ && held_complete_) forwardRequestEnd(request_trailers_);
  if (active_ && upstream_) upstream_->flush();
}

void ProxyStream::refuseUpgrade() {
  // An HTTP/2 stream cannot switch protocols (RFC 9113 §8.6) and Remora does not speak extended
  // CONNECT (RFC 8441) upstream. Sent as a plain request the endpoint would answer it as one,
  // and the client, waiting for a 101, would hang or misread the answer: refuse it here. The
  // client may already be sending bytes of the new protocol, so the connection closes.
  runtime_->stats->protocol_errors[size_t(stats::ProtocolError::kUpgradeUnsupported)].inc();
  sendLocalReply(501,
                 "upgrade not supported: cluster " + cluster_->config().name +
                     " speaks HTTP/2, which cannot carry an Upgrade request\n",
                 true);
}

upstream::EndpointPool* ProxyStream::chooseOriginalDst() {
  const OriginalDst* dst = encoder_.originalDst();
  if (dst == nullptr) {
    sendLocalReply(503,
                   "no original destination: cluster " + cluster_->config().name +
                       " forwards to a redirected connection's destination; this connection "
                       "was not redirected to a listener with original_dst: true\n",
                   false, "UH");
    return nullptr;
  }
  if (dst->loops) {
    // A misconfiguration repeats on every request: log the first and then every 1000th.
    static thread_local uint64_t refused = 0;
    if (refused++ % 1000 == 0) {
      spdlog::warn(
          "refusing to forward to original destination {}: it is this proxy's own listener "
          "(the connection was not redirected, or iptables does not exclude the proxy's own "
          "traffic); {} refused on this worker",
          dst->text, refused);
    }
    sendLocalReply(
        508,
        "original destination " + dst->text + " is this proxy's own listener: refusing to loop\n",
        false, "LD");
    return nullptr;
  }
  upstream::EndpointPool* pool =
      cluster_->chooseOriginalDst(dst->text, dst->addr, dst->len, tried_);
  if (pool == nullptr) sendLocalReply(503, "too many original destinations in use\n", false, "UO");
  return pool;
}

void ProxyStream::tryUpstream() {
  const config::Cluster& cfg = cluster_->config();
  const bool attempts_left = attempts_ < cfg.max_connect_attempts + retries_;
  upstream::EndpointPool* pool = nullptr;
  if (attempts_left && cluster_->originalDst()) {
    // One destination: a retry (tried_ reset) goes there again, a failed connect does not.
    if (tried_ == 0 && (pool = chooseOriginalDst()) == nullptr) return;  // answered
  } else if (attempts_left) {
    pool = cluster_->choose(tried_);
  }
  if (pool == nullptr) {
    // After failed attempts, name the cause rather than only saying that none is left.
    if (last_failure_ == nullptr) return sendLocalReply(503, "no healthy upstream\n", false, "UH");
    return sendLocalReply(503, std::string(last_failure_) + "\n", false, "UH");
  }
  ++attempts_;
  pending_pool_ = pool;
  upstream::PendingAdmission admission = pool->acquire(*this, max_pending_);
  if (admission == upstream::PendingAdmission::kAdmitted) return;
  pending_pool_ = nullptr;
  if (admission == upstream::PendingAdmission::kStreamLimit) {
    limits_hit_ |= REMORA_LIMIT_HIT_PENDING;
    return sendLocalReply(503, "upstream overloaded\n", false, "UO", &kOverloadedHeader, 1);
  }
  sendLocalReply(503, "upstream overloaded: too many pending requests\n", false, "UO");
}

void ProxyStream::onUpstreamReady(upstream::UpstreamRequest& req) {
  pending_pool_ = nullptr;
  upstream_ = &req;
  upstream_address_ = &req.endpointName();
  req.setResponseExpectsNoBody(request_->method == HTTP_HEAD);
  uint32_t per_try = route_.per_try_timeout_ms ? route_.per_try_timeout_ms : route_.timeout_ms;
  req.setResponseTimeoutOverride(per_try);
  RequestRewrite rw{encoder_.peerAddress(), cluster_->config().name, upgrade_, request_chunked_,
                    grpc_};
  req.sendHeaders(*request_, rw, !request_->hasBody() && !upgrade_);
  if (request_buffer_ && evbuffer_get_length(request_buffer_.get()) > 0) {
    req.sendHeldBody(request_buffer_.get());
    encoder_.readDisable(false);
  }
  if (request_complete_) req.sendEnd(request_trailers_);
  if (req.aboveHighWatermark()) encoder_.readDisable(true);
  req.flush();  // last: a write error re-enters through onUpstreamFailure
}

void ProxyStream::onRequestBody(const char* data, size_t len) {
  // A local reply settled the stream: the rest of the body has nowhere to go. An upstream that
  // answers early (echo, streaming) still reads it, so it keeps flowing there.
  if (!active_ || (response_started_ && !upstream_)) return;
  request_bytes_ += len;
  if (!routed_) {
    // The chain is paused on the request head: hold the body (bounded by backpressure).
    if (!held_body_) held_body_.reset(evbuffer_new());
    evbuffer_add(held_body_.get(), data, len);
    if (evbuffer_get_length(held_body_.get()) > runtime_->config.limits.buffer_high_watermark)
      encoder_.readDisable(true);
    return;
  }
  forwardRequestBody(data, len);
}

void ProxyStream::forwardRequestBody(const char* data, size_t len) {
  if (filters_.active()) {
    plugin::ChainResult r = filters_.requestBody({data, len}, false);
    if (afterHook()) return;
    if (r == plugin::ChainResult::kError) return filterFailed();
    if (r == plugin::ChainResult::kReplied || !active_) return;
  }
  if (retain_body_) retainBody(data, len);
  if (upstream_) {
    upstream_->sendBody(data, len);
    if (upstream_->aboveHighWatermark()) encoder_.readDisable(true);
    return;
  }
  // Held raw: framing is the upstream's business once one is ready (sendHeldBody).
  if (!request_buffer_) request_buffer_.reset(evbuffer_new());
  evbuffer_add(request_buffer_.get(), data, len);
  if (evbuffer_get_length(request_buffer_.get()) > runtime_->config.limits.buffer_high_watermark)
    encoder_.readDisable(true);
}

void ProxyStream::onRequestComplete(HeaderMap& trailers) {
  if (!active_ || (response_started_ && !upstream_)) return;
  request_trailers_ = &trailers;
  if (!routed_) {
    held_complete_ = true;
    return;
  }
  forwardRequestEnd(&trailers);
}

void ProxyStream::forwardRequestEnd(HeaderMap* trailers) {
  if (filters_.active()) {
    plugin::ChainResult r = plugin::ChainResult::kContinue;
    if (request_->hasBody()) r = filters_.requestBody({}, true);
    if (r == plugin::ChainResult::kContinue && trailers && trailers->size() > 0)
      r = filters_.requestTrailers();
    if (afterHook()) return;
    if (r == plugin::ChainResult::kError) return filterFailed();
    if (r == plugin::ChainResult::kReplied || !active_) return;
  }
  request_complete_ = true;
  armRouteTimeout();
  // Without an upstream yet, onUpstreamReady sends the end (request_complete_).
  if (upstream_) upstream_->sendEnd(trailers);
}

void ProxyStream::onDownstreamTunnelData(const char* data, size_t len) {
  if (!upstream_) return;
  upstream_->sendRaw(data, len);
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

bool ProxyStream::retryable(uint32_t condition) {
  if ((route_.retry_on & condition) == 0 || retries_ >= route_.retry_max) return false;
  // Only what can be sent again: the body is not kept once it went upstream (except for a gRPC
  // retry, which keeps it: retainBody).
  if ((request_->hasBody() && !retain_body_) || upgrade_) return false;
  // A gRPC status says whether the server processed the call, whatever the (POST) method.
  if (!route_.retry_non_idempotent && !idempotent(request_->method) &&
      (condition & REMORA_RETRY_GRPC_MASK) == 0)
    return false;
  // Last, so only a retry that would happen takes a slot. Counted even without a bound, so a
  // bounded stream sees every retry in flight to the cluster on this worker.
  if (!retry_slot_) {
    if (!cluster_->tryAddRetry(max_retries_)) {
      limits_hit_ |= REMORA_LIMIT_HIT_RETRIES;
      return false;  // the caller answers with the failure as it is
    }
    retry_slot_ = true;
  }
  return true;
}

void ProxyStream::retry() {
  ++retries_;
  addFlag("URX");
  releaseUpstream();
  tried_ = 0;
  if (retain_body_) restoreRetainedBody();
  tryUpstream();
}

int ProxyStream::onResponseHeaders(MessageHead& head) {
  cluster_->stats().upstream_requests[stats::codeClassIndex(head.status)].inc();
  if (head.status >= 500 && retryable(REMORA_RETRY_5XX)) {
    retry();
    return -1;  // stop parsing: that connection is closed
  }
  if (grpc_ && grpcResponseHeaders(head)) {
    retry();
    return -1;
  }
  response_ = &head;
  response_status_ = head.status;
  if (head.status == 101 && upgrade_) {
    tunnel_ = true;
    if (route_timer_) route_timer_->cancel();  // a tunnel lasts as long as its peers want
  }
  if (filters_.active()) {
    plugin::ChainResult r = filters_.responseHeaders(false);
    if (afterHook()) return -1;
    if (r == plugin::ChainResult::kError) {
      filterFailed();
      return -1;
    }
    if (r == plugin::ChainResult::kReplied || !active_) return -1;
  }
  response_started_ = true;
  // Connection is hop-by-hop: the upstream closing its connection says nothing about the
  // client's, which the downstream codec keeps or closes on its own terms. The flag is put back
  // because the upstream connection reads it at the response's end to decide its reuse.
  bool upstream_keep_alive = head.keep_alive;
  head.keep_alive = true;
  encoder_.encodeHeaders(head, false);
  head.keep_alive = upstream_keep_alive;
  return 0;
}

void ProxyStream::onResponseBody(const char* data, size_t len) {
  response_bytes_ += len;
  if (filters_.active()) {
    plugin::ChainResult r = filters_.responseBody({data, len}, false);
    if (afterHook()) return;
    if (r == plugin::ChainResult::kError || r == plugin::ChainResult::kReplied) {
      // The response already started: the only honest thing left is to cut the connection.
      return abortStream();
    }
  }
  encoder_.encodeBody(data, len);
  if (upstream_ && encoder_.aboveWriteWatermark()) upstream_->readDisable(true);
}

void ProxyStream::onResponseComplete(HeaderMap& trailers) {
  if (tunnel_) {
    encoder_.encodeEnd(nullptr);  // switches the downstream connection to raw bytes
    return;
  }
  response_trailers_ = &trailers;
  if (grpc_) grpcResponseTrailers(trailers);
  if (filters_.active()) {
    filters_.responseBody({}, true);
    if (trailers.size() > 0) filters_.responseTrailers();
    if (afterHook()) return;
  }
  encoder_.encodeEnd(&trailers);
  finish();
}

void ProxyStream::onUpstreamReadComplete() {
  // Response bytes go out as they arrive, not when the response ends: a body larger than the
  // write watermark would otherwise pause the upstream with nothing left to drain it.
  encoder_.flush();
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
    addFlag("UC");
    return abortStream();
  }
  bool connect_failed =
      failure == UpstreamFailure::kConnectFailed || failure == UpstreamFailure::kConnectTimeout;
  // A kept-alive connection the upstream closed just as we reused it: nothing was processed, so
  // a request without a body is safe to send again.
  bool stale_reuse = failure == UpstreamFailure::kReset && reused && !request_->hasBody() &&
                     !upgrade_ && attempts_ < cluster_->config().max_connect_attempts;
  // HTTP/2 GOAWAY above the stream or REFUSED_STREAM: the upstream never processed it, so it
  // is sent again whatever its method (as Envoy does) — if its body is still ours to send.
  bool refused = failure == UpstreamFailure::kRefused && !request_->hasBody() &&
                 attempts_ < cluster_->config().max_connect_attempts + retries_;
  if (connect_failed || stale_reuse || refused) {
    last_failure_ = upstream::failureName(failure);
    if (stale_reuse || refused) tried_ = 0;
    if (connect_failed) addFlag("UF");
    return tryUpstream();
  }
  if (failure == UpstreamFailure::kReset && retryable(REMORA_RETRY_RESET)) return retry();
  if (failure == UpstreamFailure::kBadResponse)
    runtime_->stats->protocol_errors[size_t(stats::ProtocolError::kUpstreamBadResponse)].inc();
  if (failure == UpstreamFailure::kRefused)
    return sendLocalReply(503, "upstream refused the stream\n", false, "UF");
  int status = failure == UpstreamFailure::kResponseTimeout ? 504 : 502;
  std::string body = upstream::failureName(failure);
  body.push_back('\n');
  sendLocalReply(status, body, false, failure == UpstreamFailure::kResponseTimeout ? "UT" : "UC");
}

void ProxyStream::sendLocalReply(int status, std::string_view body, bool close, const char* flag,
                                 const remora_header_t* headers, size_t header_count) {
  if (!active_) return;
  releaseUpstream();
  if (flag) addFlag(flag);
  if (response_started_) return abortStream();
  if (grpc_) return sendGrpcLocalReply(status, body, close, flag, headers, header_count);
  response_started_ = true;
  response_status_ = status;
  MessageHead& h = local_head_;
  h.clear();
  h.status = status;
  h.has_content_length = true;
  h.content_length = body.size();
  bool has_type = false;
  for (size_t i = 0; i < header_count; ++i) {
    std::string_view name(headers[i].name.data, headers[i].name.len);
    if (!isValidHeaderName(name)) continue;
    std::string_view value(headers[i].value.data, headers[i].value.len);
    if (!isValidHeaderValue(value)) continue;
    HeaderToken t = classifyHeader(name);
    if (t == HeaderToken::kContentLength || t == HeaderToken::kTransferEncoding) continue;
    if (equalsIgnoreCase(name, "grpc-status")) continue;  // only for gRPC requests
    has_type |= equalsIgnoreCase(name, "content-type");
    h.headers.add(name, value);
  }
  if (!has_type) h.headers.add("content-type", "text/plain");
  std::string len;
  appendDecimal(len, body.size());
  h.headers.add("content-length", len);
  // Answered before the request body was read (no route, overload): the connection closes
  // after this reply, and the reply says so.
  bool body_unread = !request_complete_ && !held_complete_ && request_->hasBody();
  if (close || body_unread) h.keep_alive = false;
  response_ = &h;
  encoder_.encodeHeaders(h, body.empty());
  if (!body.empty()) encoder_.encodeBody(body.data(), body.size());
  response_bytes_ += body.size();
  encoder_.encodeEnd(nullptr);
  finish();
}

void ProxyStream::addFlag(const char* flag) {
  if (!flags_.empty()) flags_.push_back(',');
  flags_.append(flag);
}

void ProxyStream::finish() {
  releaseUpstream();
  active_ = false;
  finish_pending_ = true;
  notify_pending_ = true;
  // Inside a hook the chain is still on the stack: complete once it has returned.
  if (!filters_.inHook()) completeFinish();
}

void ProxyStream::adoptCallout(std::unique_ptr<plugin::Callout> callout) {
  callouts_.push_back(std::move(callout));
}

void ProxyStream::armRouteTimeout() {
  uint64_t ms = grpc_ ? grpcCappedTimeoutMs(route_.timeout_ms) : route_.timeout_ms;
  if (ms == 0) return;
  if (!route_timer_)
    route_timer_ = std::make_unique<LazyTimer>(encoder_.dispatcher().base(), onRouteTimeout, this);
  route_timer_->set(ms);
}

void ProxyStream::onRouteTimeout(void* arg) {
  auto* self = static_cast<ProxyStream*>(arg);
  if (!self->active_ || self->tunnel_) return;
  if (self->response_started_) {
    // The response began but did not finish in time: it cannot be completed honestly.
    self->addFlag("UT");
    return self->abortStream();
  }
  self->sendLocalReply(504, "upstream request timeout\n", false, "UT");
}

void ProxyStream::completeFinish() {
  finish_pending_ = false;
  if (route_timer_) route_timer_->cancel();
  if (grpc_) {
    recordGrpc();
    grpc_ = false;
  }
  for (auto& c : callouts_) {
    c->cancel();
    encoder_.dispatcher().deferDelete(std::move(c));  // it may be delivering right now
  }
  callouts_.clear();
  filters_.end(&handle_);
  if (retry_slot_) {
    cluster_->removeRetry();
    retry_slot_ = false;
  }
  cluster_.reset();
  if (request_buffer_)
    evbuffer_drain(request_buffer_.get(), evbuffer_get_length(request_buffer_.get()));
  if (held_body_) evbuffer_drain(held_body_.get(), evbuffer_get_length(held_body_.get()));
  if (notify_pending_) {
    notify_pending_ = false;
    encoder_.onStreamComplete();
  }
}

void ProxyStream::abortStream() {
  releaseUpstream();
  active_ = false;
  notify_pending_ = false;  // abort() settles the connection instead
  finish_pending_ = true;
  encoder_.abort();
  if (!filters_.inHook()) completeFinish();
}

void ProxyStream::releaseUpstream() {
  if (pending_pool_) {
    pending_pool_->cancel(*this);
    pending_pool_ = nullptr;
  }
  if (upstream_) {
    upstream::UpstreamRequest* u = upstream_;
    upstream_ = nullptr;
    u->release();
  }
}

void ProxyStream::reset() {
  if (!active_ && !upstream_ && !pending_pool_ && !filters_.active()) return;
  releaseUpstream();
  if (active_) addFlag("DC");
  active_ = false;
  notify_pending_ = false;  // the connection is gone: nothing to tell it
  finish_pending_ = true;
  if (!filters_.inHook()) completeFinish();
}

}  // namespace remora::http
