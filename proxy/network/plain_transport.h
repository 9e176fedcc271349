#pragma once
// PlainTransport: a connected TCP socket with nothing in between. Reads with recv and writes with
// send/sendmsg (socket_io.h); keeps nothing of its own, so it never wants an event its owner did
// not ask for.

#include "common/c_handles.h"
#include "network/transport.h"

namespace remora::network {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(Fd fd) : fd_(std::move(fd)) {}

  int fd() const override { return fd_.get(); }
  ssize_t read(char* buf, size_t len) override;
  int write(evbuffer* out) override;
  void shutdownWrite() override;
  void close() override { fd_.reset(); }
  bool wantsWrite() const override { return false; }
  bool wantsRead() const override { return false; }

 private:
  Fd fd_;
};

}  // namespace remora::network
