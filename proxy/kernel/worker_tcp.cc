// Worker: what an accepted connection becomes, by its listener's protocol (http, tcp, auto), and
// the TCP proxy's destinations. docs/architecture.md, "Protocol detection and TCP".
#include <algorithm>

#include "config/tcp_fields.h"
#include "http/original_dst.h"
#include "http/tls_handshake.h"
#include "kernel/worker.h"
#include "network/plain_transport.h"

namespace remora {
namespace {

using config::ListenerProtocol;
using stats::Detected;

bool opaque(const http::ListenerRuntime& rt, uint16_t port) {
  const auto& ports = rt.config.opaque_ports;
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

}  // namespace

void Worker::compileTcp(const config::Listener& l, http::ListenerRuntime& rt) {
  rt.stats->tcp.enabled.store(l.protocol != ListenerProtocol::kHttp, std::memory_order_relaxed);
  if (l.protocol == ListenerProtocol::kHttp) return;
  if (!l.tcp.cluster.empty()) {
    rt.tcp_cluster = clusters_.at(l.tcp.cluster);
  } else if (l.original_dst) {
    if (!passthrough_) {
      config::Cluster c;
      c.name = "original_dst_passthrough";
      c.type = config::ClusterType::kOriginalDst;
      passthrough_ = std::make_shared<upstream::WorkerCluster>(c, dispatcher_, store_, index_);
    }
    rt.tcp_cluster = passthrough_;
  }
  for (const config::SniRoute& r : l.tcp.sni_routes)
    rt.sni_routes.emplace_back(r.sni, clusters_.at(r.cluster));
}

void Worker::startConnection(const std::shared_ptr<http::ListenerSlot>& slot, Fd fd,
                             std::string peer) {
  const http::ListenerRuntime& rt = *slot->current;
  switch (rt.config.protocol) {
    case ListenerProtocol::kHttp:
      if (rt.tls) return startTlsHandshake(slot, std::move(fd), std::move(peer));
      return startHttp1(slot, std::move(fd), std::move(peer));
    case ListenerProtocol::kTcp:
      if (rt.tls) return startTlsHandshake(slot, std::move(fd), std::move(peer));
      return startTcp(slot, std::make_unique<network::PlainTransport>(std::move(fd)),
                      std::move(peer));
    case ListenerProtocol::kAuto:
      break;
  }
  if (!rt.config.opaque_ports.empty()) {
    // The port compared: the original destination's on an original_dst listener (recovered
    // once, and kept for the TCP proxy), else the listener's own.
    std::optional<http::OriginalDst> dst;
    if (rt.config.original_dst) dst = http::recoverOriginalDst(fd.get(), rt.own_addresses);
    if (opaque(rt, dst ? dst->port : rt.config.address.port)) {
      rt.stats->tcp.detected[size_t(Detected::kTcp)].inc();
      return startTcp(slot, std::make_unique<network::PlainTransport>(std::move(fd)),
                      std::move(peer), nullptr, stats::TcpClose::kNoRoute, std::move(dst));
    }
  }
  connections_.insert(
      new tcp::ProtocolDetector(dispatcher_, *this, slot, std::move(fd), std::move(peer)));
}

void Worker::startDetected(std::shared_ptr<http::ListenerSlot> slot, Fd fd, std::string peer,
                           tcp::Detection detection) {
  const http::ListenerRuntime& rt = *slot->current;
  stats::TcpStats& stats = rt.stats->tcp;
  auto plain = [&] { return std::make_unique<network::PlainTransport>(std::move(fd)); };
  switch (detection.kind) {
    case tcp::Sniffed::kHttp1:
    case tcp::Sniffed::kHttp2:
      // The HTTP/1 codec takes the h2c preface itself.
      stats
          .detected[size_t(detection.kind == tcp::Sniffed::kHttp1 ? Detected::kHttp1
                                                                  : Detected::kHttp2)]
          .inc();
      return startHttp1(slot, std::move(fd), std::move(peer));
    case tcp::Sniffed::kTls: {
      // Terminated when a certificate names the SNI; passed through when a route does; else the
      // listener's certificate (if any) answers, as on an http listener.
      const std::string& sni = detection.sni;
      const bool named = rt.tls && !sni.empty() && rt.tls->hasCertificateFor(sni);
      std::shared_ptr<upstream::WorkerCluster> route;
      if (!named) {
        for (const auto& [pattern, cluster] : rt.sni_routes)
          if (config::sniMatches(pattern, sni)) {
            route = cluster;
            break;
          }
      }
      if (named || (rt.tls && !route)) {
        stats.detected[size_t(Detected::kTlsTerminated)].inc();
        return startTlsHandshake(slot, std::move(fd), std::move(peer));
      }
      stats.detected[size_t(Detected::kTlsPassthrough)].inc();
      return startTcp(slot, plain(), std::move(peer), std::move(route));
    }
    case tcp::Sniffed::kNeedMore:
    case tcp::Sniffed::kOther:
      break;
  }
  if (detection.timed_out) stats.detection_timeouts.inc();
  stats.detected[size_t(Detected::kTcp)].inc();
  startTcp(slot, plain(), std::move(peer), nullptr,
           detection.timed_out ? stats::TcpClose::kDetectionTimeout : stats::TcpClose::kNoRoute);
}

void Worker::startHttp1(const std::shared_ptr<http::ListenerSlot>& slot, Fd fd, std::string peer) {
  connections_.insert(new http::ServerConnection(
      dispatcher_, *this, slot, std::make_unique<network::PlainTransport>(std::move(fd)),
      std::move(peer)));
}

void Worker::startTlsHandshake(const std::shared_ptr<http::ListenerSlot>& slot, Fd fd,
                               std::string peer) {
  const http::ListenerRuntime& rt = *slot->current;
  if (tls_handshakes_ >= rt.config.tls->max_handshakes) {
    // A handshake costs far more than a request: past the cap, new ones wait elsewhere rather
    // than slow every established connection of this worker.
    rt.stats->tls.failures[size_t(network::TlsFailure::kOverloaded)].inc();
    return;  // `fd` closes
  }
  connections_.insert(new http::TlsHandshake(
      dispatcher_, *this, slot, rt.tls->accept(std::move(fd)), std::move(peer), tls_handshakes_));
}

void Worker::startTcp(const std::shared_ptr<http::ListenerSlot>& slot,
                      std::unique_ptr<network::Transport> transport, std::string peer,
                      std::shared_ptr<upstream::WorkerCluster> cluster, stats::TcpClose refusal,
                      std::optional<http::OriginalDst> dst) {
  const http::ListenerRuntime& rt = *slot->current;
  tcp::TcpTarget target{cluster ? std::move(cluster) : rt.tcp_cluster, std::move(dst)};
  if (target.cluster && target.cluster->originalDst()) {
    if (!target.dst) target.dst = http::recoverOriginalDst(transport->fd(), rt.own_addresses);
    if (!target.dst || target.dst->loops) target.cluster = nullptr;  // nowhere, or back to us
  }
  if (!target.cluster) {
    rt.stats->tcp.closes[size_t(refusal)].inc();
    return;  // the transport closes the socket
  }
  connections_.insert(new tcp::TcpProxy(dispatcher_, *this, slot, std::move(transport),
                                        std::move(peer), std::move(target)));
}

}  // namespace remora
