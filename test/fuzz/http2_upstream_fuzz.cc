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
// opened yet). Connections Remora opens after the first one (a retry after GOAWAY or
// REFUSED_STREAM) get SETTINGS and a plain 200 on stream 1. The event loop runs a bounded number
// of non-blocking passes; then the client hangs up, the upstream closes, and everything is torn
// down, so LeakSanitizer sees any object an input leaves behind.

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

#include "http/http2_server_connection.h"
#include "http/listener_runtime.h"
#include "http/server_connection.h"
#include "kernel/dispatcher.h"
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
constexpr uint8_t kFlagSmall = 0x08;       // cluster max_concurrent_streams 1 and smallest window;
                                           // the upstream's SETTINGS allow 1 stream, 8-byte windows
constexpr uint8_t kFlagTimers = 0x10;      // 1 ms response/idle timeouts and keepalive PINGs, and
                                           // a pause halfway that lets them expire
constexpr uint8_t kFlagSlowClient = 0x20;  // the client reads nothing until the end, and the
                                           // downstream socket buffer is small
// Bits 6-7: piece size for kFlagSplit.
constexpr size_t kPieceSizes[] = {1, 9, 64, 512};

constexpr int kPasses = 64;      // event-loop passes with the client connected
constexpr int kDrainPasses = 8;  // after each teardown step
// <file> in this variable collects what the client got back, to check an input by hand.
constexpr const char* kDumpVar = "REMORA_FUZZ_H2UP_DUMP";

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

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
std::string downstreamBytes(uint8_t mode) {
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
      return frame(4, 0, 0, "") + frame(1, 0x05, 1, get) + frame(1, 0x05, 3, get) +
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
    c.http2.max_concurrent_streams = 1;
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

// The upstream server: accepts Remora's connections, reads and drops what they send (watching
// for the first request HEADERS), and answers the first one with the input.
class Upstream {
 public:
  Upstream(std::string_view input, uint8_t flags) : input_(input), flags_(flags) {
    piece_ = (flags & kFlagSplit) ? kPieceSizes[flags >> 6] : input.size();
  }
  ~Upstream() { drainBacklog(); }

  // One pass: new connections, their reads, the next piece of the input.
  void pump() {
    for (int fd; (fd = ::accept(env().listen.get(), nullptr, nullptr)) >= 0;) {
      fuzz::setNonBlocking(fd);
      // Each piece leaves at once: Nagle would hold small pieces for Remora's delayed ACK.
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      conns_.push_back({Fd(fd), {}, false, false});
      send(conns_.back(), settings());
    }
    for (Conn& c : conns_) readFrom(c);
    // Later connections carry retries: a plain 200 on stream 1 lets them finish.
    for (size_t i = 1; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      if (c.headers_seen && !c.answered) send(c, frame(1, 0x05, 1, "\x88"));
      c.answered = c.headers_seen;
    }
    if (conns_.empty() || !conns_[0].headers_seen || sent_ >= input_.size()) return;
    size_t n = std::min(piece_, input_.size() - sent_);
    ssize_t w = ::send(conns_[0].fd.get(), input_.data() + sent_, n, MSG_NOSIGNAL);
    if (w > 0) sent_ += size_t(w);
  }

  // The upstream hangs up.
  void close() { conns_.clear(); }

  // Connections Remora opened that were never accepted.
  static void drainBacklog() {
    for (int fd; (fd = ::accept(env().listen.get(), nullptr, nullptr)) >= 0;) ::close(fd);
  }

 private:
  struct Conn {
    Fd fd;
    std::string in;     // Remora's bytes not yet parsed into frames
    bool headers_seen;  // Remora's first request HEADERS arrived
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
    for (ssize_t n; (n = ::read(c.fd.get(), buf, sizeof(buf))) > 0;) {
      if (c.headers_seen) continue;
      c.in.append(buf, size_t(n));
      size_t pos = c.in.size() >= kPreface.size() ? kPreface.size() : c.in.size();
      while (pos + 9 <= c.in.size()) {
        auto len = size_t(uint8_t(c.in[pos])) << 16 | size_t(uint8_t(c.in[pos + 1])) << 8 |
                   size_t(uint8_t(c.in[pos + 2]));
        if (c.in[pos + 3] == 1) c.headers_seen = true;
        pos += 9 + len;
      }
      if (c.headers_seen) c.in.clear();
    }
  }

  std::string_view input_;
  uint8_t flags_;
  size_t piece_;
  size_t sent_ = 0;
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
  // path stalls, the upstream stream is read-disabled and its window is not given back.
  int server_fd = -1;
  Fd client = fuzz::clientSocketPair(server_fd, flags & kFlagSlowClient);
  if (mode == kModeHttp2) {
    auto* conn = new Http2ServerConnection(*dispatcher, owner, slot, Fd(server_fd), "fuzz");
    owner.conn_ = conn;
    conn->start(kPreface);
  } else {
    owner.conn_ = new ServerConnection(*dispatcher, owner, slot, server_fd, nullptr);
  }
  std::string request = downstreamBytes(mode);
  if (::send(client.get(), request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
    abort();

  for (int pass = 0; pass < kPasses; ++pass) {
    event_base_loop(dispatcher->base(), EVLOOP_NONBLOCK);
    upstream->pump();
    if (!(flags & kFlagSlowClient)) fuzz::discardReads(client.get(), kDumpVar);
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
