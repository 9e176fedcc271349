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
  // Each part from its default (stream_state.h): nothing of the request before survives. What
  // they held beyond values (upstream, retry slot, callouts) was released by completeFinish.
  progress_.reset();
  request_.reset();
  response_.reset();
  upstream_ = {};
  grpc_.reset();
  runtime_ = std::move(runtime);
  progress_.active = true;
  request_.head = &request;
  request_.chunked = request.chunked;
  request_.upgrade = request.upgrade;
  if (request.method == HTTP_POST) detectGrpc();  // gRPC calls are always POSTs
  if (request.headers.count(HeaderToken::kXRequestId) == 0) {
    std::string& id = encoder_.dispatcher().headerScratch();
    id.clear();
    appendRequestId(id, encoder_.dispatcher());
    request.headers.add(HeaderToken::kXRequestId, "x-request-id", id);
  }
  if (runtime_->chain) {
    progress_.start_unix_us = unixMicros();
    filters_.begin(runtime_->chain, encoder_.dispatcher().workerIndex(), &handle_, request.url);
    return runRequestHeaderFilters();
  }
  std::string_view path(request.url);
  const RouteTarget* route = runtime_->match(path.substr(0, path.find('?')));
  if (route != nullptr) upstream_.cluster = route->cluster;
  onRouted();
}

void ProxyStream::runRequestHeaderFilters() {
  bool end_stream = !request_.head->hasBody() && !request_.upgrade;
  plugin::ChainResult r = filters_.requestHeaders(end_stream);
  if (afterHook()) return;
  switch (r) {
    case plugin::ChainResult::kContinue:
      return onRouted();
    case plugin::ChainResult::kStop:
      return;  // a filter resumes us (resumeFilters) or replies
    case plugin::ChainResult::kReplied:
      if (progress_.active) sendLocalReply(500, "filter replied without a response\n");
      return;
    case plugin::ChainResult::kError:
      return filterFailed();
  }
}

void ProxyStream::resumeFilters() {
  if (!progress_.active || progress_.routed || !filters_.pausedOnHeaders()) return;
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
  if (!progress_.finish_pending || filters_.inHook()) return progress_.finish_pending;
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
  upstream_.cluster = it->second;
  upstream_.route.timeout_ms = route.timeout_ms;
  upstream_.route.per_try_timeout_ms = route.per_try_timeout_ms;
  upstream_.route.retry_max = route.retry_max;
  upstream_.route.retry_on = route.retry_on;
  upstream_.route.retry_non_idempotent = route.retry_non_idempotent != 0;
  if (route.path.len > 0) {
    MessageHead& head = *request_.head;
    if (head.original_url.empty()) head.original_url = head.url;  // the access log's original
    head.url.assign(route.path.data, route.path.len);
  }
  if (route.host.len > 0)
    request_.head->headers.set("host", std::string_view(route.host.data, route.host.len));
  return true;
}

void ProxyStream::onRouted() {
  progress_.routed = true;
  if (!upstream_.cluster) return sendLocalReply(404, "no route matched the request\n", false, "NR");
  if (request_.upgrade && upstream_.cluster->config().protocol != config::UpstreamProtocol::kHttp1)
    return refuseUpgrade();
  if (grpc_.on) startGrpc();
  const MessageHead& request = *request_.head;
  // HTTP/1.1 and HTTP/2 know 1xx answers; HTTP/1.0 does not.
  if ((request.http_major > 1 || request.http_minor >= 1) && request.hasBody()) {
    auto expect = request.headers.get(HeaderToken::kExpect);
    // Answer 100-continue here, as Envoy does by default: the upstream then never waits.
    if (expect && equalsIgnoreCase(*expect, "100-continue")) encoder_.encode100Continue();
  }
  tryUpstream();
  if (!progress_.active) return;
  if (request_.held_body && evbuffer_get_length(request_.held_body.get()) > 0) {
    size_t n = evbuffer_get_length(request_.held_body.get());
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(request_.held_body.get(), -1));
    forwardRequestBody(data, n);
    evbuffer_drain(request_.held_body.get(), n);
    encoder_.readDisable(false);
  }
  if (progress_.active && request_.held_complete) forwardRequestEnd(request_.trailers);
  if (progress_.active && upstream_.request) upstream_.request->flush();
}

void ProxyStream::refuseUpgrade() {
  // An HTTP/2 stream cannot switch protocols (RFC 9113 §8.6) and Remora does not speak extended
  // CONNECT (RFC 8441) upstream. Sent as a plain request the endpoint would answer it as one,
  // and the client, waiting for a 101, would hang or misread the answer: refuse it here. The
  // client may already be sending bytes of the new protocol, so the connection closes.
  runtime_->stats->protocol_errors[size_t(stats::ProtocolError::kUpgradeUnsupported)].inc();
  sendLocalReply(501,
                 "upgrade not supported: cluster " + upstream_.cluster->config().name +
                     " speaks HTTP/2, which cannot carry an Upgrade request\n",
                 true);
}

upstream::EndpointPool* ProxyStream::chooseOriginalDst() {
  const OriginalDst* dst = encoder_.originalDst();
  if (dst == nullptr) {
    sendLocalReply(503,
                   "no original destination: cluster " + upstream_.cluster->config().name +
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
      upstream_.cluster->chooseOriginalDst(dst->text, dst->addr, dst->len, upstream_.tried);
  if (pool == nullptr) sendLocalReply(503, "too many original destinations in use\n", false, "UO");
  return pool;
}

void ProxyStream::tryUpstream() {
  const config::Cluster& cfg = upstream_.cluster->config();
  const bool attempts_left = upstream_.attempts < cfg.max_connect_attempts + upstream_.retries;
  upstream::EndpointPool* pool = nullptr;
  if (attempts_left && upstream_.cluster->originalDst()) {
    // One destination: a retry (upstream_.tried reset) goes there again, a failed connect does not.
    if (upstream_.tried == 0 && (pool = chooseOriginalDst()) == nullptr) return;  // answered
  } else if (attempts_left) {
    pool = upstream_.cluster->choose(upstream_.tried);
  }
  if (pool == nullptr) {
    // After failed attempts, name the cause rather than only saying that none is left.
    if (upstream_.last_failure == nullptr)
      return sendLocalReply(503, "no healthy upstream\n", false, "UH");
    return sendLocalReply(503, std::string(upstream_.last_failure) + "\n", false, "UH");
  }
  ++upstream_.attempts;
  upstream_.pending_pool = pool;
  upstream::PendingAdmission admission = pool->acquire(*this, upstream_.max_pending);
  if (admission == upstream::PendingAdmission::kAdmitted) return;
  upstream_.pending_pool = nullptr;
  if (admission == upstream::PendingAdmission::kStreamLimit) {
    upstream_.limits_hit |= REMORA_LIMIT_HIT_PENDING;
    return sendLocalReply(503, "upstream overloaded\n", false, "UO", &kOverloadedHeader, 1);
  }
  sendLocalReply(503, "upstream overloaded: too many pending requests\n", false, "UO");
}

void ProxyStream::onUpstreamReady(upstream::UpstreamRequest& req) {
  upstream_.pending_pool = nullptr;
  upstream_.request = &req;
  upstream_.address = &req.endpointName();
  req.setResponseExpectsNoBody(request_.head->method == HTTP_HEAD);
  uint32_t per_try = upstream_.route.per_try_timeout_ms ? upstream_.route.per_try_timeout_ms
                                                        : upstream_.route.timeout_ms;
  req.setResponseTimeoutOverride(per_try);
  RequestRewrite rw{encoder_.peerAddress(), upstream_.cluster->config().name, request_.upgrade,
                    request_.chunked, grpc_.on};
  req.sendHeaders(*request_.head, rw, !request_.head->hasBody() && !request_.upgrade);
  if (request_.buffer && evbuffer_get_length(request_.buffer.get()) > 0) {
    req.sendHeldBody(request_.buffer.get());
    encoder_.readDisable(false);
  }
  if (request_.complete) req.sendEnd(request_.trailers);
  if (req.aboveHighWatermark()) encoder_.readDisable(true);
  req.flush();  // last: a write error re-enters through onUpstreamFailure
}

void ProxyStream::onRequestBody(const char* data, size_t len) {
  // A local reply settled the stream: the rest of the body has nowhere to go. An upstream that
  // answers early (echo, streaming) still reads it, so it keeps flowing there.
  if (!progress_.active || (response_.started && !upstream_.request)) return;
  request_.bytes += len;
  if (!progress_.routed) {
    // The chain is paused on the request head: hold the body (bounded by backpressure).
    if (!request_.held_body) request_.held_body.reset(evbuffer_new());
    evbuffer_add(request_.held_body.get(), data, len);
    if (evbuffer_get_length(request_.held_body.get()) >
        runtime_->config.limits.buffer_high_watermark)
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
    if (r == plugin::ChainResult::kReplied || !progress_.active) return;
  }
  if (grpc_.retain_body) retainBody(data, len);
  if (upstream_.request) {
    upstream_.request->sendBody(data, len);
    if (upstream_.request->aboveHighWatermark()) encoder_.readDisable(true);
    return;
  }
  // Held raw: framing is the upstream's business once one is ready (sendHeldBody).
  if (!request_.buffer) request_.buffer.reset(evbuffer_new());
  evbuffer_add(request_.buffer.get(), data, len);
  if (evbuffer_get_length(request_.buffer.get()) > runtime_->config.limits.buffer_high_watermark)
    encoder_.readDisable(true);
}

void ProxyStream::onRequestComplete(HeaderMap& trailers) {
  if (!progress_.active || (response_.started && !upstream_.request)) return;
  request_.trailers = &trailers;
  if (!progress_.routed) {
    request_.held_complete = true;
    return;
  }
  forwardRequestEnd(&trailers);
}

void ProxyStream::forwardRequestEnd(HeaderMap* trailers) {
  if (filters_.active()) {
    plugin::ChainResult r = plugin::ChainResult::kContinue;
    if (request_.head->hasBody()) r = filters_.requestBody({}, true);
    if (r == plugin::ChainResult::kContinue && trailers && trailers->size() > 0)
      r = filters_.requestTrailers();
    if (afterHook()) return;
    if (r == plugin::ChainResult::kError) return filterFailed();
    if (r == plugin::ChainResult::kReplied || !progress_.active) return;
  }
  request_.complete = true;
  armRouteTimeout();
  // Without an upstream yet, onUpstreamReady sends the end (request_.complete).
  if (upstream_.request) upstream_.request->sendEnd(trailers);
}

void ProxyStream::onDownstreamTunnelData(const char* data, size_t len) {
  if (!upstream_.request) return;
  upstream_.request->sendRaw(data, len);
  if (upstream_.request->aboveHighWatermark()) encoder_.readDisable(true);
}

void ProxyStream::onDownstreamReadComplete() {
  if (upstream_.request) upstream_.request->flush();
}

void ProxyStream::onDownstreamWritable() {
  if (upstream_.request) upstream_.request->readDisable(false);
}

void ProxyStream::onUpstreamWritable() {
  encoder_.readDisable(false);
}

bool ProxyStream::retryable(uint32_t condition) {
  if ((upstream_.route.retry_on & condition) == 0 || upstream_.retries >= upstream_.route.retry_max)
    return false;
  // Only what can be sent again: the body is not kept once it went upstream (except for a gRPC
  // retry, which keeps it: retainBody).
  if ((request_.head->hasBody() && !grpc_.retain_body) || request_.upgrade) return false;
  // A gRPC status says whether the server processed the call, whatever the (POST) method.
  if (!upstream_.route.retry_non_idempotent && !idempotent(request_.head->method) &&
      (condition & REMORA_RETRY_GRPC_MASK) == 0)
    return false;
  // Last, so only a retry that would happen takes a slot. Counted even without a bound, so a
  // bounded stream sees every retry in flight to the cluster on this worker.
  if (!upstream_.retry_slot) {
    if (!upstream_.cluster->tryAddRetry(upstream_.max_retries)) {
      upstream_.limits_hit |= REMORA_LIMIT_HIT_RETRIES;
      return false;  // the caller answers with the failure as it is
    }
    upstream_.retry_slot = true;
  }
  return true;
}

void ProxyStream::retry() {
  ++upstream_.retries;
  addFlag("URX");
  releaseUpstream();
  upstream_.tried = 0;
  if (grpc_.retain_body) restoreRetainedBody();
  tryUpstream();
}

int ProxyStream::onResponseHeaders(MessageHead& head) {
  upstream_.cluster->stats().upstream_requests[stats::codeClassIndex(head.status)].inc();
  if (head.status >= 500 && retryable(REMORA_RETRY_5XX)) {
    retry();
    return -1;  // stop parsing: that connection is closed
  }
  if (grpc_.on && grpcResponseHeaders(head)) {
    retry();
    return -1;
  }
  response_.head = &head;
  response_.status = head.status;
  if (head.status == 101 && request_.upgrade) {
    response_.tunnel = true;
    if (route_timer_) route_timer_->cancel();  // a tunnel lasts as long as its peers want
  }
  if (filters_.active()) {
    plugin::ChainResult r = filters_.responseHeaders(false);
    if (afterHook()) return -1;
    if (r == plugin::ChainResult::kError) {
      filterFailed();
      return -1;
    }
    if (r == plugin::ChainResult::kReplied || !progress_.active) return -1;
  }
  response_.started = true;
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
  response_.bytes += len;
  if (filters_.active()) {
    plugin::ChainResult r = filters_.responseBody({data, len}, false);
    if (afterHook()) return;
    if (r == plugin::ChainResult::kError || r == plugin::ChainResult::kReplied) {
      // The response already started: the only honest thing left is to cut the connection.
      return abortStream();
    }
  }
  encoder_.encodeBody(data, len);
  if (upstream_.request && encoder_.aboveWriteWatermark()) upstream_.request->readDisable(true);
}

void ProxyStream::onResponseComplete(HeaderMap& trailers) {
  if (response_.tunnel) {
    encoder_.encodeEnd(nullptr);  // switches the downstream connection to raw bytes
    return;
  }
  response_.trailers = &trailers;
  if (grpc_.on) grpcResponseTrailers(trailers);
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
  if (upstream_.request && encoder_.aboveWriteWatermark()) upstream_.request->readDisable(true);
}

void ProxyStream::onUpstreamFailure(upstream::UpstreamFailure failure, bool reused) {
  using upstream::UpstreamFailure;
  upstream_.request = nullptr;
  upstream_.pending_pool = nullptr;
  if (response_.tunnel) return finish();  // either side closing ends a tunnel
  if (response_.started) {
    addFlag("UC");
    return abortStream();
  }
  bool connect_failed = failure == UpstreamFailure::kConnectFailed ||
                        failure == UpstreamFailure::kConnectTimeout ||
                        failure == UpstreamFailure::kTlsFailed;
  // A kept-alive connection the upstream closed just as we reused it: nothing was processed, so
  // a request without a body is safe to send again.
  bool stale_reuse = failure == UpstreamFailure::kReset && reused && !request_.head->hasBody() &&
                     !request_.upgrade &&
                     upstream_.attempts < upstream_.cluster->config().max_connect_attempts;
  // HTTP/2 GOAWAY above the stream or REFUSED_STREAM: the upstream never processed it, so it
  // is sent again whatever its method (as Envoy does) — if its body is still ours to send.
  bool refused =
      failure == UpstreamFailure::kRefused && !request_.head->hasBody() &&
      upstream_.attempts < upstream_.cluster->config().max_connect_attempts + upstream_.retries;
  if (connect_failed || stale_reuse || refused) {
    upstream_.last_failure = upstream::failureName(failure);
    if (stale_reuse || refused) upstream_.tried = 0;
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
  if (!progress_.active) return;
  releaseUpstream();
  if (flag) addFlag(flag);
  if (response_.started) return abortStream();
  if (grpc_.on) return sendGrpcLocalReply(status, body, close, flag, headers, header_count);
  response_.started = true;
  response_.status = status;
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
  bool body_unread = !request_.complete && !request_.held_complete && request_.head->hasBody();
  if (close || body_unread) h.keep_alive = false;
  response_.head = &h;
  encoder_.encodeHeaders(h, body.empty());
  if (!body.empty()) encoder_.encodeBody(body.data(), body.size());
  response_.bytes += body.size();
  encoder_.encodeEnd(nullptr);
  finish();
}

void ProxyStream::addFlag(const char* flag) {
  if (!response_.flags.empty()) response_.flags.push_back(',');
  response_.flags.append(flag);
}

void ProxyStream::finish() {
  releaseUpstream();
  progress_.active = false;
  progress_.finish_pending = true;
  progress_.notify_pending = true;
  // Inside a hook the chain is still on the stack: complete once it has returned.
  if (!filters_.inHook()) completeFinish();
}

void ProxyStream::adoptCallout(std::unique_ptr<plugin::Callout> callout) {
  callouts_.push_back(std::move(callout));
}

void ProxyStream::armRouteTimeout() {
  uint64_t ms =
      grpc_.on ? grpcCappedTimeoutMs(upstream_.route.timeout_ms) : upstream_.route.timeout_ms;
  if (ms == 0) return;
  if (!route_timer_)
    route_timer_ = std::make_unique<LazyTimer>(encoder_.dispatcher().base(), onRouteTimeout, this);
  route_timer_->set(ms);
}

void ProxyStream::onRouteTimeout(void* arg) {
  auto* self = static_cast<ProxyStream*>(arg);
  if (!self->progress_.active || self->response_.tunnel) return;
  if (self->response_.started) {
    // The response began but did not finish in time: it cannot be completed honestly.
    self->addFlag("UT");
    return self->abortStream();
  }
  self->sendLocalReply(504, "upstream request timeout\n", false, "UT");
}

void ProxyStream::completeFinish() {
  progress_.finish_pending = false;
  if (route_timer_) route_timer_->cancel();
  if (grpc_.on) {
    recordGrpc();
    grpc_.on = false;
  }
  for (auto& c : callouts_) {
    c->cancel();
    encoder_.dispatcher().deferDelete(std::move(c));  // it may be delivering right now
  }
  callouts_.clear();
  filters_.end(&handle_);
  if (upstream_.retry_slot) {
    upstream_.cluster->removeRetry();
    upstream_.retry_slot = false;
  }
  upstream_.cluster.reset();
  // Emptied now rather than at the next begin: an idle connection holds no body bytes.
  emptyKept(request_.buffer);
  emptyKept(request_.held_body);
  if (progress_.notify_pending) {
    progress_.notify_pending = false;
    encoder_.onStreamComplete();
  }
}

void ProxyStream::abortStream() {
  releaseUpstream();
  progress_.active = false;
  progress_.notify_pending = false;  // abort() settles the connection instead
  progress_.finish_pending = true;
  encoder_.abort();
  if (!filters_.inHook()) completeFinish();
}

void ProxyStream::releaseUpstream() {
  if (upstream_.pending_pool) {
    upstream_.pending_pool->cancel(*this);
    upstream_.pending_pool = nullptr;
  }
  if (upstream_.request) {
    upstream::UpstreamRequest* u = upstream_.request;
    upstream_.request = nullptr;
    u->release();
  }
}

void ProxyStream::reset() {
  if (!progress_.active && !upstream_.request && !upstream_.pending_pool && !filters_.active())
    return;
  releaseUpstream();
  if (progress_.active) addFlag("DC");
  progress_.active = false;
  progress_.notify_pending = false;  // the connection is gone: nothing to tell it
  progress_.finish_pending = true;
  if (!filters_.inHook()) completeFinish();
}

}  // namespace remora::http
