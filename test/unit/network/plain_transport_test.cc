// PlainTransport and writeAvailable on real sockets: bytes both ways, a full socket keeps the
// rest in the caller's buffer, shutdownWrite gives the peer its EOF while reading goes on, a
// closed peer is an error, and the client connect helpers report success and refusal.

#include "network/plain_transport.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/c_handles.h"
#include "network/client_socket.h"
#include "network/socket_address.h"

namespace remora::network {
namespace {

struct Pair {
  std::unique_ptr<PlainTransport> a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    a = std::make_unique<PlainTransport>(Fd(fds[0]));
    b = std::make_unique<PlainTransport>(Fd(fds[1]));
  }
};

// writeAvailable as a connection calls it, checking that the length it hands back is what is
// left in the buffer.
ssize_t sendOut(Transport& t, evbuffer* out) {
  size_t len = evbuffer_get_length(out);
  ssize_t n = writeAvailable(t, out, len);
  if (n >= 0) {
    EXPECT_EQ(len, evbuffer_get_length(out));
  }
  return n;
}

std::string readAll(Transport& t) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = t.read(buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  return out;
}

TEST(PlainTransport, MovesBytesBothWaysAndWantsNothingOfItsOwn) {
  Pair p;
  EvbufferPtr out(evbuffer_new());
  evbuffer_add(out.get(), "hello", 5);
  EXPECT_EQ(sendOut(*p.a, out.get()), 5);
  EXPECT_EQ(evbuffer_get_length(out.get()), 0u);
  EXPECT_EQ(readAll(*p.b), "hello");
  evbuffer_add(out.get(), "back", 4);
  EXPECT_EQ(sendOut(*p.b, out.get()), 4);
  EXPECT_EQ(readAll(*p.a), "back");
  EXPECT_FALSE(p.a->wantsRead());
  EXPECT_FALSE(p.a->wantsWrite());
  EXPECT_FALSE(p.a->handshakePending());
  EXPECT_EQ(p.a->peerIdentity(), nullptr);
}

TEST(PlainTransport, AFullSocketKeepsTheRestInTheCallersBuffer) {
  Pair p;
  EvbufferPtr out(evbuffer_new());
  std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 64; ++i) evbuffer_add(out.get(), chunk.data(), chunk.size());
  const size_t total = evbuffer_get_length(out.get());
  ssize_t n = sendOut(*p.a, out.get());
  ASSERT_GT(n, 0);
  EXPECT_EQ(size_t(n) + evbuffer_get_length(out.get()), total);
  EXPECT_GT(evbuffer_get_length(out.get()), 0u) << "a 4 MiB write should not fit a socket pair";
  std::string got = readAll(*p.b);
  EXPECT_EQ(got.size(), size_t(n));
}

TEST(PlainTransport, ShutdownWriteGivesThePeerEofAndKeepsReading) {
  Pair p;
  p.a->shutdownWrite();
  char buf[8];
  EXPECT_EQ(p.b->read(buf, sizeof(buf)), 0);  // EOF
  EvbufferPtr out(evbuffer_new());
  evbuffer_add(out.get(), "late", 4);
  EXPECT_EQ(sendOut(*p.b, out.get()), 4);
  EXPECT_EQ(p.a->read(buf, sizeof(buf)), 4);
}

TEST(PlainTransport, NothingToReadIsEagainAndAClosedPeerIsAnError) {
  Pair p;
  char buf[8];
  errno = 0;
  EXPECT_EQ(p.a->read(buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, EAGAIN);
  p.b->close();
  p.b->close();  // idempotent
  EXPECT_EQ(p.b->fd(), -1);
  EvbufferPtr out(evbuffer_new());
  evbuffer_add(out.get(), "x", 1);
  EXPECT_EQ(sendOut(*p.a, out.get()), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(ClientSocket, ConnectsToAListenerAndReportsARefusal) {
  Fd listener(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t sl = sizeof(sin);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sin), &sl), 0);
  const uint16_t port = ntohs(sin.sin_port);

  sockaddr_storage ss{};
  socklen_t len = 0;
  ASSERT_TRUE((SocketAddress{"127.0.0.1", port}.toSockaddr(ss, len)));
  Fd fd;
  ASSERT_TRUE(startConnect(ss, len, fd));
  pollfd pfd{fd.get(), POLLOUT, 0};
  ASSERT_EQ(::poll(&pfd, 1, 2000), 1);
  EXPECT_EQ(connectError(fd.get()), 0);

  listener.reset();  // nothing listens on the port any more
  Fd refused;
  bool started = startConnect(ss, len, refused);
  ASSERT_TRUE(refused.valid());
  if (started) {
    pfd = {refused.get(), POLLOUT, 0};
    ASSERT_EQ(::poll(&pfd, 1, 2000), 1);
    EXPECT_EQ(connectError(refused.get()), ECONNREFUSED);
  } else {
    EXPECT_EQ(errno, ECONNREFUSED);
  }
}

TEST(SocketAddress, ToSockaddrTakesNumericHostsOnly) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  EXPECT_TRUE((SocketAddress{"::1", 80}.toSockaddr(ss, len)));
  EXPECT_EQ(ss.ss_family, AF_INET6);
  EXPECT_EQ(len, socklen_t(sizeof(sockaddr_in6)));
  EXPECT_FALSE((SocketAddress{"localhost", 80}.toSockaddr(ss, len)));
}

}  // namespace
}  // namespace remora::network
