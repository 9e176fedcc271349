// Fuzzes the downstream HTTP/2 codec as a client reaches it: a real Http2ServerConnection on one
// end of a socketpair, on a real libevent Dispatcher, with a ListenerRuntime whose routes lead
// to a local HTTP/1.1 upstream ("/u..."), to an endpoint that refuses connections ("/r...", 503)
// or nowhere (404). Every stream goes through Http2Stream and ProxyStream; responses come back
// through the data provider, flow control and the socket write path.
//
// Input: byte 0 holds flags (kFlag*), the rest is what the client sends after the connection
// preface, which the harness always sends first so that the fuzzer explores frames. The event
// loop runs a bounded number of non-blocking passes; then the client hangs up and everything
// (connection, streams, upstream connections, clusters, event loop) is torn down, so
// LeakSanitizer sees any object an input leaves behind.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event/dispatcher.h"
#include "http/http2_server_connection.h"
#include "http/listener_runtime.h"
#include "proxy_fuzz_harness.h"
#include "stats/stats.h"
#include "upstream/worker_cluster.h"

namespace remora::http {
namespace {

using fuzz::localSocket;
using fuzz::Owner;
using fuzz::setNonBlocking;

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Byte 0 of the input.
constexpr uint8_t kFlagSmallLimits = 0x01;  // tiny header limits, windows and flood budgets
constexpr uint8_t kFlagDrain = 0x02;        // closeWhenIdle() halfway through (worker drain)
constexpr uint8_t kFlagSplit = 0x04;        // client bytes go out in pieces, one per pass
constexpr uint8_t kFlagNoRead = 0x08;       // the client reads nothing until the end, and the
                                            // server's socket buffer is small
constexpr uint8_t kFlagTimers = 0x10;       // 1 ms idle and request timeouts, and a pause
                                            // halfway that lets them expire
// Bits 5-7: piece size for kFlagSplit, in units of 16 bytes (0 means 1 byte).

constexpr int kPasses = 48;      // event-loop passes with the client connected
constexpr int kDrainPasses = 8;  // after the client hangs up
// <file> in this variable collects what the server sent, to check an input by hand.
constexpr const char* kDumpVar = "REMORA_FUZZ_H2_DUMP";

// Process-wide: the stats store and the two upstream addresses.
struct Env {
  stats::Store store{1};
  uint16_t upstream_port = 0;
  uint16_t refused_port = 0;
  Fd upstream_listen = localSocket(true, upstream_port);
  Fd refused = localSocket(false, refused_port);
};

Env& env() {
  static Env* e = new Env();
  return *e;
}

// The "/u" cluster's endpoint: answers each request head it reads with a response picked by
// the request path, on the same event loop as the proxy.
class StubUpstream {
 public:
  explicit StubUpstream(Dispatcher& d) : base_(d.base()) {
    accept_ev_.reset(
        event_new(base_, env().upstream_listen.get(), EV_READ | EV_PERSIST, onAccept, this));
    event_add(accept_ev_.get(), nullptr);
  }
  ~StubUpstream() {
    for (Conn* c : conns_) delete c;
    // Connections the proxy opened that were never accepted.
    for (int fd; (fd = ::accept(env().upstream_listen.get(), nullptr, nullptr)) >= 0;) ::close(fd);
  }

 private:
  struct Conn {
    StubUpstream* owner;
    Fd fd;
    EventPtr ev;
    std::string in;
  };

  static void onAccept(evutil_socket_t lfd, short, void* arg) {
    auto* self = static_cast<StubUpstream*>(arg);
    int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0) return;
    setNonBlocking(fd);
    auto* c = new Conn{self, Fd(fd), nullptr, {}};
    c->ev.reset(event_new(self->base_, fd, EV_READ | EV_PERSIST, onRead, c));
    event_add(c->ev.get(), nullptr);
    self->conns_.push_back(c);
  }

  static void onRead(evutil_socket_t fd, short, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      event_del(c->ev.get());
      c->fd.reset();
      return;
    }
    c->in.append(buf, size_t(n));
    // One response per request head; body bytes are read and dropped.
    for (size_t end; c->fd.valid() && (end = c->in.find("\r\n\r\n")) != std::string::npos;) {
      respond(*c, std::string_view(c->in).substr(0, end));
      c->in.erase(0, end + 4);
    }
    if (c->in.size() > 8192) c->in.erase(0, c->in.size() - 3);
  }

  static void respond(Conn& c, std::string_view head) {
    std::string_view line = head.substr(0, head.find("\r\n"));
    auto has = [&](std::string_view word) { return line.find(word) != std::string_view::npos; };
    std::string out;
    bool close = false;
    if (has("stall")) {
      // Reads nothing more and never answers: the request body backs up into the proxy
      // (readDisable, held stream windows).
      event_del(c.ev.get());
      return;
    }
    if (has("cut")) {
      // Closes mid-body: the response cannot complete, the stream is reset.
      out = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
      close = true;
    } else if (has("big")) {
      // Larger than the client's default stream window: the rest waits for WINDOW_UPDATE.
      out = "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n" + std::string(70000, 'b');
    } else if (has("chunk")) {
      out =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-t\r\nConnection: "
          "x-hop\r\nx-hop: 1\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\r\n\r\n";
    } else if (has("close")) {
      out = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
      close = true;
    } else if (has("empty")) {
      out = "HTTP/1.1 204 No Content\r\n\r\n";
    } else if (has("bad")) {
      out = "HTTP/1.1 2xx\r\n\r\n";
      close = true;
    } else if (has("grpc")) {
      out =
          "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: 0\r\n"
          "Content-Length: 0\r\n\r\n";
    } else {
      out = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-up: 1\r\n\r\nhello";
    }
    ssize_t rc = ::write(c.fd.get(), out.data(), out.size());
    (void)rc;  // a short write truncates the response: another case for the proxy
    if (close) {
      event_del(c.ev.get());
      c.fd.reset();
    }
  }

  event_base* base_;
  EventPtr accept_ev_;
  std::vector<Conn*> conns_;
};

config::Listener listenerConfig(uint8_t flags) {
  config::Listener l;
  l.name = "fuzz";
  l.address = {"127.0.0.1", 1};
  l.routes = {{"/u", "up"}, {"/r", "refused"}};
  if (flags & kFlagSmallLimits) {
    l.limits.max_request_headers_bytes = 256;
    l.limits.max_request_headers = 8;
    l.limits.buffer_high_watermark = 4096;
    l.http2.max_concurrent_streams = 4;
    l.http2.initial_stream_window = 1024;
    l.http2.max_resets = 4;
    l.http2.max_settings_frames = 4;
    l.http2.max_ping_frames = 4;
    l.http2.max_empty_data_frames = 4;
    l.http2.max_continuation_frames = 2;
  }
  if (flags & kFlagTimers) {
    l.timeouts.idle = config::Duration(1);
    l.timeouts.request = config::Duration(1);
  }
  return l;
}

std::shared_ptr<ListenerRuntime> runtime(Dispatcher& d, uint8_t flags) {
  auto rt = std::make_shared<ListenerRuntime>();
  rt->config = listenerConfig(flags);
  rt->stats = &env().store.listener(0, rt->config.name);
  config::Cluster up;
  up.name = "up";
  up.endpoints = {{"127.0.0.1", env().upstream_port}};
  config::Cluster refused;
  refused.name = "refused";
  refused.endpoints = {{"127.0.0.1", env().refused_port}};
  for (const config::Cluster& c : {up, refused})
    rt->clusters.emplace(c.name, std::make_shared<upstream::WorkerCluster>(c, d, env().store, 0));
  for (const config::Route& r : rt->config.routes)
    rt->routes.push_back({r.prefix, rt->clusters.at(r.cluster)});
  return rt;
}

}  // namespace

void fuzz::runOne(const uint8_t* data, size_t size) {
  auto [flags, input] = fuzz::splitInput(data, size);
  size_t piece = (flags & kFlagSplit) ? std::max<size_t>(1, size_t(flags >> 5) * 16) : input.size();

  auto dispatcher = std::make_unique<Dispatcher>();
  auto slot = std::make_shared<ListenerSlot>();
  slot->current = runtime(*dispatcher, flags);
  auto upstream = std::make_unique<StubUpstream>(*dispatcher);
  Owner owner(*dispatcher);

  // kFlagNoRead: the socket buffer fills after a few frames, the connection's write path
  // stalls and nghttp2's output waits (NGHTTP2_ERR_WOULDBLOCK above the watermark).
  int server_fd = -1;
  Fd client = fuzz::clientSocketPair(server_fd, flags & kFlagNoRead);
  auto* conn = new Http2ServerConnection(
      *dispatcher, owner, slot, std::make_unique<network::PlainTransport>(Fd(server_fd)), "fuzz");
  owner.conn_ = conn;
  conn->start(kPreface);

  event_base* base = dispatcher->base();
  size_t sent = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    if (sent < input.size() && client.valid()) {
      size_t n = std::min(piece, input.size() - sent);
      ssize_t w = ::send(client.get(), input.data() + sent, n, MSG_NOSIGNAL);
      if (w > 0) sent += size_t(w);
    }
    event_base_loop(base, EVLOOP_NONBLOCK);
    if (!(flags & kFlagNoRead)) fuzz::discardReads(client.get(), kDumpVar);
    if ((flags & kFlagDrain) && pass == kPasses / 2 && owner.conn_) {
      owner.draining_ = true;
      owner.conn_->closeWhenIdle();
    }
    // LazyTimer reads a coarse clock (4 ms steps here): sleep past one step.
    if ((flags & kFlagTimers) && pass == kPasses / 2) ::usleep(6000);
  }
  // The client hangs up: the connection sees EOF (also while lingering) and closes.
  fuzz::discardReads(client.get(), kDumpVar);
  client.reset();
  fuzz::tearDown(
      dispatcher, owner, slot, [&] { upstream.reset(); }, kDrainPasses);
}

}  // namespace remora::http
