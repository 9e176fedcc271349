#include "tcp/tcp_proxy.h"

#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>

#include "network/transport.h"

namespace remora::tcp {
namespace {

// Reads per readiness event before yielding to other connections of the worker.
constexpr int kReadsPerEvent = 16;
// The smallest queue bound: a watermark below one scratch read would pause after every read.
constexpr size_t kMinWatermark = 16 * 1024;

// Frees the side's events before its socket closes, and forgets its queue and state.
void resetSide(TcpProxy::Side& side) {
  side.read_ev.reset();
  side.write_ev.reset();
  side.transport.reset();
  evbuffer_drain(side.out.get(), evbuffer_get_length(side.out.get()));
  side.reading = side.write_armed = side.eof_seen = side.shut = false;
}

}  // namespace

TcpProxy::TcpProxy(Dispatcher& dispatcher, http::ConnectionOwner& owner,
                   std::shared_ptr<http::ListenerSlot> slot,
                   std::unique_ptr<network::Transport> client, std::string peer, TcpTarget target)
    : dispatcher_(dispatcher),
      owner_(owner),
      slot_(std::move(slot)),
      runtime_(slot_->current),
      peer_(std::move(peer)),
      target_(std::move(target)),
      stats_(runtime_->stats->tcp),
      timer_(dispatcher.base(), onTimer, this),
      high_watermark_(
          std::max<size_t>(runtime_->config.limits.buffer_high_watermark, kMinWatermark)) {
  stats_.cx_total.inc();
  stats_.cx_active.add();
  target_.cluster->stats().tcp.enabled.store(true, std::memory_order_relaxed);
  client_.transport = std::move(client);
  const int fd = client_.transport->fd();
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  event_base* base = dispatcher.base();
  client_.read_ev.reset(event_new(base, fd, EV_READ | EV_PERSIST, onClientEvent, this));
  client_.write_ev.reset(event_new(base, fd, EV_WRITE | EV_PERSIST, onClientEvent, this));
  connectNext();
}

TcpProxy::~TcpProxy() {
  if (closed_) return;
  // The worker is stopping (the drain deadline passed) with the connection still open.
  closed_ = true;
  stats_.closes[size_t(stats::TcpClose::kDrain)].inc();
  stats_.cx_active.sub();
  if (open_) target_.cluster->stats().tcp.cx_active.sub();
}

void TcpProxy::connectNext() {
  upstream::WorkerCluster& cluster = *target_.cluster;
  while (attempts_ < runtime_->config.tcp.max_connect_attempts) {
    ++attempts_;
    upstream::EndpointPool* pool =
        cluster.originalDst()
            ? (target_.dst ? cluster.chooseOriginalDst(target_.dst->text, target_.dst->addr,
                                                       target_.dst->len, tried_)
                           : nullptr)
            : cluster.choose(tried_);
    if (pool == nullptr) break;  // every endpoint tried
    resetSide(upstream_);
    connect_ = upstream::ConnectStep{};
    if (pool->startConnect(upstream_.transport, upstream_.read_ev, upstream_.write_ev,
                           onUpstreamEvent, this)) {
      upstream_.write_armed = true;
      timer_.set(uint64_t(cluster.config().connect_timeout.count()));
      return;
    }
    cluster.stats().connect_failures.inc();
  }
  spdlog::debug("listener {}: TCP connection from {}: no endpoint of cluster {} accepted it",
                runtime_->config.name, peer_, cluster.config().name);
  close(stats::TcpClose::kConnectFailed);
}

void TcpProxy::onClientEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<TcpProxy*>(arg);
  if (what & EV_READ) self->pump(self->client_, self->upstream_, true);
  if (!self->closed_ && (what & EV_WRITE)) self->flush(self->client_, self->upstream_);
}

void TcpProxy::onUpstreamEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<TcpProxy*>(arg);
  if (!self->open_) return self->onConnecting();
  if (what & EV_READ) self->pump(self->upstream_, self->client_, false);
  if (!self->closed_ && (what & EV_WRITE)) self->flush(self->upstream_, self->client_);
}

void TcpProxy::onConnecting() {
  upstream::WorkerCluster& cluster = *target_.cluster;
  switch (connect_.advance(*upstream_.transport, upstream_.read_ev.get(), upstream_.write_ev.get(),
                           upstream_.write_armed, cluster.stats().tls)) {
    case upstream::ConnectStep::Result::kWaiting:
      return;
    case upstream::ConnectStep::Result::kOpen:
      return connected();
    case upstream::ConnectStep::Result::kConnectFailed:
      cluster.stats().connect_failures.inc();
      break;
    case upstream::ConnectStep::Result::kTlsFailed:
      break;  // counted by reason in the cluster's TLS stats
  }
  connectNext();  // resets the upstream side first
}

void TcpProxy::connected() {
  open_ = true;
  stats::UpstreamTcpStats& up = target_.cluster->stats().tcp;
  up.cx_total.inc();
  up.cx_active.add();
  // The connect step left whichever event the handshake waited on armed: start from none.
  event_del(upstream_.read_ev.get());
  event_del(upstream_.write_ev.get());
  upstream_.reading = upstream_.write_armed = false;
  timer_.set(uint64_t(runtime_->config.tcp.idle.count()));
  setReading(client_, true);
  setReading(upstream_, true);
  // A TLS client's first records may already sit inside its transport.
  if (client_.transport->readPending()) pump(client_, upstream_, true);
}

void TcpProxy::pump(Side& from, Side& to, bool from_client) {
  if (closed_ || from.eof_seen) return;
  size_t queued = evbuffer_get_length(to.out.get());
  char* scratch = dispatcher_.scratch();
  uint64_t got = 0;
  for (int i = 0; i < kReadsPerEvent && queued < high_watermark_; ++i) {
    const ssize_t n = from.transport->read(scratch, Dispatcher::kScratchSize);
    if (n > 0) {
      evbuffer_add(to.out.get(), scratch, size_t(n));
      queued += size_t(n);
      got += uint64_t(n);
      continue;
    }
    if (n == 0) {
      from.eof_seen = true;
      setReading(from, false);
      break;
    }
    if (errno == EAGAIN || errno == EINTR) break;
    return close(from_client ? stats::TcpClose::kDownstreamReset : stats::TcpClose::kUpstreamReset);
  }
  if (got > 0) {
    stats::UpstreamTcpStats& up = target_.cluster->stats().tcp;
    (from_client ? stats_.bytes_received : stats_.bytes_sent).inc(got);
    (from_client ? up.bytes_sent : up.bytes_received).inc(got);
    timer_.set(uint64_t(runtime_->config.tcp.idle.count()));
  }
  if (queued >= high_watermark_ && !from.transport->wantsRead()) {
    setReading(from, false);  // backpressure: resumed by flush below half the watermark
  } else if (!from.eof_seen && from.transport->readPending()) {
    event_active(from.read_ev.get(), EV_READ, 0);  // records read ahead: no socket event comes
  }
  flush(to, from);
}

void TcpProxy::flush(Side& to, Side& from) {
  size_t len = evbuffer_get_length(to.out.get());
  if (len > 0 && network::writeAvailable(*to.transport, to.out.get(), len) < 0) {
    return close(&to == &client_ ? stats::TcpClose::kDownstreamReset
                                 : stats::TcpClose::kUpstreamReset);
  }
  setWriting(to, len > 0 || to.transport->wantsWrite());
  if (!from.eof_seen && !from.reading && len <= high_watermark_ / 2) setReading(from, true);
  if (from.eof_seen && len == 0 && !to.shut) {
    to.shut = true;
    to.transport->shutdownWrite();  // the FIN goes on; the other direction stays open
  }
  checkDone();
}

void TcpProxy::setReading(Side& side, bool on) {
  if (side.reading == on) return;
  side.reading = on;
  on ? event_add(side.read_ev.get(), nullptr) : event_del(side.read_ev.get());
}

void TcpProxy::setWriting(Side& side, bool on) {
  if (side.write_armed == on) return;
  side.write_armed = on;
  on ? event_add(side.write_ev.get(), nullptr) : event_del(side.write_ev.get());
}

void TcpProxy::checkDone() {
  if (closed_ || !client_.shut || !upstream_.shut) return;
  if (!client_.eof_seen || !upstream_.eof_seen) return;
  close(stats::TcpClose::kDone);
}

void TcpProxy::onTimer(void* arg) {
  auto* self = static_cast<TcpProxy*>(arg);
  if (self->open_) return self->close(stats::TcpClose::kIdleTimeout);
  upstream::WorkerCluster& cluster = *self->target_.cluster;
  cluster.stats().connect_timeouts.inc();
  self->connect_.timedOut(cluster.stats().tls);
  self->connectNext();
}

void TcpProxy::close(stats::TcpClose why) {
  if (closed_) return;
  closed_ = true;
  stats_.closes[size_t(why)].inc();
  stats_.cx_active.sub();
  if (open_)
    target_.cluster->stats().tcp.cx_active.sub();
  else
    connect_.abandoned(target_.cluster->stats().tls);
  timer_.cancel();
  for (Side* side : {&client_, &upstream_}) {
    side->read_ev.reset();
    side->write_ev.reset();
    if (side->transport) side->transport->close();
  }
  owner_.onConnectionClosed(*this);
}

}  // namespace remora::tcp
