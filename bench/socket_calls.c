// Cost of one small write + read pair on a loopback TCP connection, made with writev/read
// (what evbuffer_write and read(2) use) and with send/recv (what Remora uses): the process's
// CPU time per pair, four rounds of 200,000 pairs each, the two ways interleaved.
//
//   cc -O2 -o /tmp/socket_calls bench/socket_calls.c && /tmp/socket_calls
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double cpuSeconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
  enum { kPairs = 200000, kBytes = 150 };
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (bind(l, (struct sockaddr*)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr*)&a, &al) != 0)
    return perror("listen"), 1;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr*)&a, sizeof a) != 0) return perror("connect"), 1;
  int s = accept(l, NULL, NULL);
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char buf[kBytes], in[65536];
  memset(buf, 'x', sizeof buf);
  for (int round = 0; round < 4; ++round) {
    for (int mode = 0; mode < 2; ++mode) {
      double t0 = cpuSeconds();
      for (int i = 0; i < kPairs; ++i) {
        if (mode == 0) {
          struct iovec v = {buf, kBytes};
          if (writev(c, &v, 1) != kBytes || read(s, in, sizeof in) <= 0) return 1;
        } else {
          if (send(c, buf, kBytes, MSG_NOSIGNAL) != kBytes || recv(s, in, sizeof in, 0) <= 0)
            return 1;
        }
      }
      printf("round %d %-12s %.3f us per pair\n", round, mode ? "send/recv" : "writev/read",
             (cpuSeconds() - t0) / kPairs * 1e6);
    }
  }
  return 0;
}
