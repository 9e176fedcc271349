// Fuzzes the upstream HTTP/2 client codec as an HTTP/2 upstream reaches it: a downstream request
// enters a real ServerConnection (or Http2ServerConnection) over a socketpair, its listener
// routes it to a `protocol: http2` cluster whose endpoint is a listening socket the harness owns,
// and the harness, playing the upstream server, answers Remora's connection with a SETTINGS
// frame and then the input's bytes: frames for streams 1, 3, ... Every response goes through
// Http2Connection, Http2UpstreamStream, the HTTP/2 endpoint pool, ProxyStream and the
// downstream codec's write path.
//
// Input: byte 0 holds flags (kFlag*, kMode*), the rest is what the upstream sends once Remora's
// first request HEADERS reached it (frames sent earlier would name a stream nghttp2 has not
// opened yet); each kWaitMarker in it holds what follows until Remora's next HEADERS, and a
// kCloseMarker closes the connection there. Connections Remora opens after the first one (a
// retry after GOAWAY or REFUSED_STREAM) get SETTINGS and a plain 200 on stream 1. The event loop
// runs a bounded number of non-blocking passes; then the client hangs up, the upstream closes, and
// everything is torn down, so LeakSanitizer sees any object an input leaves behind.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event/dispatcher.h"
#include "http/http2_server_connection.h"
#include "http/listener_runtime.h"
#include "http/server_connection.h"
#include "proxy_fuzz_harness.h"
#include "stats/stats.h"
#include "upstream/worker_cluster.h"

namespace remora::http {
namespace {

// Byte 0 of the input. Bits 0-1: the downstream requests (kMode*).
constexpr uint8_t kModeMask = 0x03;
constexpr uint8_t kModeGet = 0;            // one HTTP/1.1 GET
constexpr uint8_t kModePipeline = 1;       // three pipelined HTTP/1.1 requests, one with a body
constexpr uint8_t kModeHttp2 = 2;          // HTTP/2 downstream: three concurrent streams
constexpr uint8_t kModeChunked = 3;        // HTTP/1.1 gRPC-style POST, chunked body, te: trailers
constexpr uint8_t kFlagSplit = 0x04;       // upstream bytes go out in pieces, one per pass
constexpr uint8_t kFlagSmall = 0x08;       // one connection per endpoint, 2 streams on it, smallest
                                           // window; the upstream's SETTINGS allow 1 stream and
                                           // 8-byte windows: requests queue and are requeued
constexpr uint8_t kFlagTimers = 0x10;      // 1 ms response/idle timeouts and keepalive PINGs, and
                                           // a pause halfway that lets them expire
constexpr uint8_t kFlagSlowClient = 0x20;  // the client reads only halfway and at the end, its
                                           // socket buffer is small and, over HTTP/2, its
                                           // stream windows are 0
// Bits 6-7: piece size for kFlagSplit.
constexpr size_t kPieceSizes[] = {1, 9, 64, 512};

constexpr int kPasses = 64;      // event-loop passes with the client connected
constexpr int kDrainPasses = 8;  // after each teardown step
// <file> in this variable collects what the client got back, to check an input by hand.
constexpr const char* kDumpVar = "REMORA_FUZZ_H2UP_DUMP";

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// Markers in the input, empty frames of unassigned types the harness never sends. After a wait
// marker, the bytes go only once Remora sent one more request HEADERS (opened the next stream)
// on the connection; at a close marker, the upstream closes the connection.
constexpr std::string_view kWaitMarker("\x00\x00\x00\xfe\x00\x00\x00\x00\x00", 9);
constexpr std::string_view kCloseMarker("\x00\x00\x00\xff\x00\x00\x00\x00\x00", 9);

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string f;
  f.reserve(9 + payload.size());
  uint32_t len = uint32_t(payload.size());
  f += char(len >> 16), f += char(len >> 8), f += char(len);
  f += char(type), f += char(flags);
  f += char(stream >> 24), f += char(stream >> 16), f += char(stream >> 8), f += char(stream);
  f.append(payload);
  return f;
}

std::string setting(uint16_t id, uint32_t value) {
  const char b[6] = {char(id >> 8),     char(id),         char(value >> 24),
                     char(value >> 16), char(value >> 8), char(value)};
  return std::string(b, sizeof(b));
}

// What the downstream client sends.
std::string downstreamBytes(uint8_t mode, bool slow_client) {
  switch (mode) {
    case kModePipeline:
      return "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
             "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    case kModeHttp2: {
      // After the preface (given to start()): SETTINGS, GET on streams 1 and 3, a POST with a
      // body on 5. HPACK: static-table :method/:scheme/:path, literal :authority "x".
      const std::string get = "\x82\x86\x84\x01\x01x";
      const std::string post = "\x83\x86\x84\x01\x01x";
      // A slow client's SETTINGS shut its stream windows: response bodies pile up in the
      // streams' buffers until the upstream streams are read-disabled.
      std::string settings = slow_client ? setting(4, 0) : "";
      return frame(4, 0, 0, settings) + frame(1, 0x05, 1, get) + frame(1, 0x05, 3, get) +
             frame(1, 0x04, 5, post) + frame(0, 0x01, 5, "hello");
    }
    case kModeChunked:
      return "POST /g HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n"
             "Content-Type: application/grpc\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    case kModeGet:
    default:
      return "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  }
}

// Process-wide: the stats store and the upstream's listening socket.
struct Env {
  stats::Store store{1};
  uint16_t port = 0;
  Fd listen = fuzz::localSocket(true, port);
};

Env& env() {
  static Env* e = new Env();
  return *e;
}

std::shared_ptr<ListenerRuntime> runtime(Dispatcher& d, uint8_t flags) {
  auto rt = std::make_shared<ListenerRuntime>();
  rt->config.name = "fuzz";
  rt->config.address = {"127.0.0.1", 1};
  rt->config.routes = {{"/", "h2"}};
  if (flags & kFlagSlowClient) rt->config.limits.buffer_high_watermark = 4096;
  rt->stats = &env().store.listener(0, rt->config.name);
  config::Cluster c;
  c.name = "h2";
  c.protocol = config::UpstreamProtocol::kHttp2;
  c.endpoints = {{"127.0.0.1", env().port}};
  if (flags & kFlagSmall) {
    c.max_connections_per_endpoint = 1;
    c.http2.max_concurrent_streams = 2;
    c.http2.initial_window_size = 65535;
  }
  if (flags & kFlagTimers) {
    c.response_timeout = config::Duration(1);
    c.idle_timeout = config::Duration(1);
    c.http2.keepalive_interval = config::Duration(1);
    c.http2.keepalive_timeout = config::Duration(1);
  }
  rt->clusters.emplace(c.name, std::make_shared<upstream::WorkerCluster>(c, d, env().store, 0));
  rt->routes.push_back({"/", rt->clusters.at(c.name)});
  return rt;
}

// The upstream server: accepts Remora's connections, reads and drops what they send (counting
// its request HEADERS), and answers the first one with the input, segment by segment.
class Upstream {
 public:
  Upstream(std::string_view input, uint8_t flags) : flags_(flags) {
    piece_ = (flags & kFlagSplit) ? kPieceSizes[flags >> 6] : input.size();
    uint32_t need = 1;
    for (;;) {
      size_t wait = input.find(kWaitMarker), close = input.find(kCloseMarker);
      size_t at = std::min(wait, close);
      segments_.push_back({input.substr(0, at), need, at == close && at != input.npos});
      if (at == input.npos) break;
      if (at == wait) ++need;
      input.remove_prefix(at + kWaitMarker.size());
    }
  }
  ~Upstream() { drainBacklog(); }

  // One pass: new connections, their reads, the next piece of the input.
  void pump() {
    for (int fd; (fd = ::accept(env().listen.get(), nullptr, nullptr)) >= 0;) {
      fuzz::setNonBlocking(fd);
      // Each piece leaves at once: Nagle would hold small pieces for Remora's delayed ACK.
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      conns_.push_back({Fd(fd), {}, 0, false, false});
      send(conns_.back(), settings());
    }
    for (Conn& c : conns_) readFrom(c);
    // Later connections carry retries: a plain 200 on stream 1 lets them finish.
    for (size_t i = 1; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      if (c.requests > 0 && !c.answered) send(c, frame(1, 0x05, 1, "\x88"));
      c.answered = c.requests > 0;
    }
    if (conns_.empty()) return;
    // A segment goes once Remora sent as many request HEADERS on this connection as it needs.
    Conn& first = conns_[0];
    for (size_t budget = piece_; budget > 0 && segment_ < segments_.size() && first.fd.valid() &&
                                 first.requests >= segments_[segment_].need;) {
      const Segment& seg = segments_[segment_];
      std::string_view rest = seg.bytes.substr(offset_);
      if (rest.empty()) {
        if (seg.close_after) first.fd.reset();
        ++segment_;
        offset_ = 0;
        continue;
      }
      ssize_t w = ::send(first.fd.get(), rest.data(), std::min(budget, rest.size()), MSG_NOSIGNAL);
      if (w <= 0) break;
      offset_ += size_t(w);
      budget -= size_t(w);
    }
  }

  // The upstream hangs up.
  void close() { conns_.clear(); }

  // Connections Remora opened that were never accepted.
  static void drainBacklog() {
    for (int fd; (fd = ::accept(env().listen.get(), nullptr, nullptr)) >= 0;) ::close(fd);
  }

 private:
  struct Segment {
    std::string_view bytes;
    uint32_t need;  // request HEADERS Remora must have sent first
    bool close_after;
  };
  struct Conn {
    Fd fd;
    std::string in;     // Remora's bytes not yet parsed into frames
    uint32_t requests;  // HEADERS frames Remora sent
    bool preface_seen;
    bool answered;
  };

  std::string settings() const {
    if (!(flags_ & kFlagSmall)) return frame(4, 0, 0, "");
    // One stream at a time, and request bodies stall after 8 bytes.
    return frame(4, 0, 0, setting(3, 1) + setting(4, 8));
  }

  static void send(Conn& c, const std::string& out) {
    if (!c.fd.valid()) return;
    ssize_t w = ::send(c.fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
    (void)w;  // a fresh socket takes a few hundred bytes
  }

  // Reads what Remora sent: its preface, then frames, of which only the types matter.
  static void readFrom(Conn& c) {
    if (!c.fd.valid()) return;
    char buf[16384];
    for (ssize_t n; (n = ::read(c.fd.get(), buf, sizeof(buf))) > 0;) c.in.append(buf, size_t(n));
    size_t pos = 0;
    if (!c.preface_seen) {
      if (c.in.size() < kPreface.size()) return;
      c.preface_seen = true;
      pos = kPreface.size();
    }
    for (;;) {
      if (pos + 9 > c.in.size()) break;
      auto len = size_t(uint8_t(c.in[pos])) << 16 | size_t(uint8_t(c.in[pos + 1])) << 8 |
                 size_t(uint8_t(c.in[pos + 2]));
      if (pos + 9 + len > c.in.size()) break;
      if (c.in[pos + 3] == 1) ++c.requests;
      pos += 9 + len;
    }
    c.in.erase(0, pos);
  }

  uint8_t flags_;
  size_t piece_;
  std::vector<Segment> segments_;
  size_t segment_ = 0;  // the segment being sent
  size_t offset_ = 0;   // into it
  std::vector<Conn> conns_;
};

}  // namespace

void fuzz::runOne(const uint8_t* data, size_t size) {
  auto [flags, input] = fuzz::splitInput(data, size);
  uint8_t mode = flags & kModeMask;

  auto dispatcher = std::make_unique<Dispatcher>();
  auto slot = std::make_shared<ListenerSlot>();
  slot->current = runtime(*dispatcher, flags);
  auto upstream = std::make_unique<Upstream>(input, flags);
  fuzz::Owner owner(*dispatcher);

  // kFlagSlowClient: the socket buffer fills after a few response bytes, the downstream write
  // path stalls, the upstream stream is read-disabled and its window is not given back until
  // the client reads.
  int server_fd = -1;
  Fd client = fuzz::clientSocketPair(server_fd, flags & kFlagSlowClient);
  if (mode == kModeHttp2) {
    auto* conn = new Http2ServerConnection(
        *dispatcher, owner, slot, std::make_unique<network::PlainTransport>(Fd(server_fd)), "fuzz");
    owner.conn_ = conn;
    conn->start(kPreface);
  } else {
    owner.conn_ = new ServerConnection(
        *dispatcher, owner, slot, std::make_unique<network::PlainTransport>(Fd(server_fd)), "fuzz");
  }
  std::string request = downstreamBytes(mode, flags & kFlagSlowClient);
  if (::send(client.get(), request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
    abort();

  for (int pass = 0; pass < kPasses; ++pass) {
    event_base_loop(dispatcher->base(), EVLOOP_NONBLOCK);
    upstream->pump();
    if (!(flags & kFlagSlowClient)) {
      fuzz::discardReads(client.get(), kDumpVar);
    } else if (pass == kPasses / 2) {
      // The slow client catches up once: the streams drain and their upstream windows reopen.
      fuzz::discardReads(client.get(), kDumpVar);
      std::string open = frame(4, 0, 0, setting(4, 65535));
      if (mode == kModeHttp2) ::send(client.get(), open.data(), open.size(), MSG_NOSIGNAL);
    }
    // LazyTimer reads a coarse clock (4 ms steps here): sleep past one step.
    if ((flags & kFlagTimers) && pass == kPasses / 2) ::usleep(6000);
  }
  // The client hangs up, then the upstream; each side's close is seen while the other is gone.
  fuzz::discardReads(client.get(), kDumpVar);
  client.reset();
  fuzz::tearDown(
      dispatcher, owner, slot, [&] { upstream->close(); }, kDrainPasses);
}

}  // namespace remora::http
