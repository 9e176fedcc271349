// socketRead/socketWrite on a real socket pair: one piece goes out with send, many with sendmsg
// (more than one call's worth of pieces too), a full socket gives EAGAIN and keeps the rest.

#include "network/socket_io.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/c_handles.h"

namespace remora::network {
namespace {

struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~Pair() {
    ::close(a);
    ::close(b);
  }
  std::string drain() {
    std::string out;
    char buf[65536];
    for (;;) {
      ssize_t n = socketRead(b, buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, size_t(n));
    }
    return out;
  }
};

TEST(SocketIoTest, OnePieceIsWrittenAndDrained) {
  Pair p;
  EvbufferPtr out(evbuffer_new());
  evbuffer_add(out.get(), "hello", 5);
  EXPECT_EQ(socketWrite(out.get(), p.a), 5);
  EXPECT_EQ(evbuffer_get_length(out.get()), 0u);
  EXPECT_EQ(p.drain(), "hello");
  EXPECT_EQ(socketWrite(out.get(), p.a), 0);  // nothing queued: no call
}

TEST(SocketIoTest, ManyPiecesLeaveInOrderAcrossCalls) {
  Pair p;
  EvbufferPtr out(evbuffer_new());
  std::string expected;
  // 40 separate chains: more than one sendmsg takes.
  for (int i = 0; i < 40; ++i) {
    EvbufferPtr piece(evbuffer_new());
    std::string s = "piece" + std::to_string(i) + ";";
    evbuffer_add(piece.get(), s.data(), s.size());
    evbuffer_add_buffer(out.get(), piece.get());
    expected += s;
  }
  size_t total = 0;
  for (int calls = 0; calls < 10 && evbuffer_get_length(out.get()) > 0; ++calls) {
    int n = socketWrite(out.get(), p.a);
    ASSERT_GT(n, 0);
    total += size_t(n);
  }
  EXPECT_EQ(total, expected.size());
  EXPECT_EQ(p.drain(), expected);
}

TEST(SocketIoTest, AFullSocketKeepsWhatWasNotWritten) {
  Pair p;
  EvbufferPtr out(evbuffer_new());
  std::string big(8 << 20, 'x');
  evbuffer_add(out.get(), big.data(), big.size());
  int n = socketWrite(out.get(), p.a);
  ASSERT_GT(n, 0);
  ASSERT_LT(size_t(n), big.size());
  EXPECT_EQ(evbuffer_get_length(out.get()), big.size() - size_t(n));
  while (socketWrite(out.get(), p.a) > 0) {
  }
  EXPECT_EQ(errno, EAGAIN);
  size_t left = evbuffer_get_length(out.get());
  EXPECT_GT(left, 0u);
  std::string got = p.drain();
  EXPECT_EQ(got.size() + left, big.size());
}

}  // namespace
}  // namespace remora::network
