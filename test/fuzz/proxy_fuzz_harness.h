#pragma once
// Shared pieces of the fuzz targets that drive whole proxied connections on a real Dispatcher
// (http2_server_fuzz, http2_upstream_fuzz): the libFuzzer entry points, local sockets, the
// worker's part as connection owner, and the client side's reads. Include it from exactly one
// translation unit per target (it defines the entry points), which defines runOne().

#include <arpa/inet.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "event/dispatcher.h"
#include "http/downstream_connection.h"
#include "network/plain_transport.h"

namespace remora::http::fuzz {

// Defined by each target: one input's run, which builds, exercises and tears down everything it
// uses but process-wide state (sockets made once, on first use).
void runOne(const uint8_t* data, size_t size);

inline void setNonBlocking(int fd) {
  evutil_make_socket_nonblocking(fd);
}

// A listening (or, with listen == false, only bound: connections to it are refused) TCP socket
// on 127.0.0.1 and an ephemeral port.
inline Fd localSocket(bool listen, uint16_t& port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
      (listen && ::listen(fd.get(), 128) != 0) ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    abort();
  port = ntohs(sa.sin_port);
  return fd;
}

// The downstream connection's socket pair: returns the client's end and puts the other, for the
// connection under test, in `server`. With small_buffer, the server end's send buffer holds
// 4 KiB, so a client that does not read soon stalls the connection's write path.
inline Fd clientSocketPair(int& server, bool small_buffer) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) abort();
  if (small_buffer) {
    int bytes = 4096;
    ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
  }
  server = fds[1];
  return Fd(fds[0]);
}

// The worker's part: owns the one downstream connection, as Worker does.
class Owner : public ConnectionOwner {
 public:
  explicit Owner(Dispatcher& d) : dispatcher_(d) {}
  bool draining() const override { return draining_; }
  void onConnectionClosed(DownstreamConnection& conn) override {
    if (&conn != conn_) abort();
    conn_ = nullptr;
    if (!stopping_) dispatcher_.deferDelete(std::unique_ptr<Deferrable>(&conn));
  }
  void startHttp2(std::shared_ptr<ListenerSlot>, std::unique_ptr<network::Transport>, std::string,
                  std::string_view) override {
    abort();  // the targets build their HTTP/2 connections themselves
  }
  void startCodec(std::shared_ptr<ListenerSlot>, std::unique_ptr<network::Transport>, std::string,
                  bool) override {
    abort();  // no TLS in the targets
  }
  // Deletes the connection if it is still open (as ~Worker does).
  void stop() {
    stopping_ = true;
    delete conn_;
    conn_ = nullptr;
  }

  Dispatcher& dispatcher_;
  DownstreamConnection* conn_ = nullptr;
  bool draining_ = false;
  bool stopping_ = false;
};

// Byte 0 of an input holds the target's flags; the rest are the bytes it sends.
struct Input {
  uint8_t flags = 0;
  std::string_view bytes;
};

inline Input splitInput(const uint8_t* data, size_t size) {
  if (size == 0) return {};
  return {data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

// Reads what is readable on `fd` and drops it. With the environment variable `dump_var` set to
// a file name, appends it to that file, to check by hand what an input got back. (The file is
// opened once: one variable per target.)
inline void discardReads(int fd, const char* dump_var) {
  static FILE* dump = [&] {
    const char* path = getenv(dump_var);
    return path ? fopen(path, "ab") : nullptr;
  }();
  char buf[16384];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
    if (dump) fwrite(buf, 1, size_t(n), dump), fflush(dump);
}

inline void runPasses(Dispatcher& d, int passes) {
  for (int pass = 0; pass < passes; ++pass) event_base_loop(d.base(), EVLOOP_NONBLOCK);
}

// After the client hung up: the upstream side goes (`closeUpstream`), then the downstream
// connection if it is still open, then the runtime with its clusters (pools, connections), each
// step followed by `passes` event-loop passes so that the others see it; last the event loop.
// What an input left behind is then a leak LeakSanitizer reports.
template <typename CloseUpstream>
void tearDown(std::unique_ptr<Dispatcher>& dispatcher, Owner& owner,
              std::shared_ptr<ListenerSlot>& slot, CloseUpstream closeUpstream, int passes) {
  runPasses(*dispatcher, passes);
  closeUpstream();
  runPasses(*dispatcher, passes);
  owner.stop();
  runPasses(*dispatcher, passes);
  // The runtime holds the clusters, which need the dispatcher.
  slot.reset();
  runPasses(*dispatcher, passes);
  dispatcher.reset();
}

}  // namespace remora::http::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::signal(SIGPIPE, SIG_IGN);
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  remora::http::fuzz::runOne(data, size);
  return 0;
}
