#pragma once
// ProtocolDetector: a connection on a `protocol: auto` listener before anything has read from it.
// It peeks (recv MSG_PEEK, never consuming) at the first bytes as they arrive, on an
// edge-triggered event so bytes left in the socket do not wake it again, until tcp/sniff.h can
// tell the protocol, or until the listener's detection_timeout — then a connection that sent
// nothing (a server-speaks-first protocol) is opaque TCP. It hands the socket, every byte still
// in it, to its owner and goes away.

#include <memory>
#include <string>

#include "common/c_handles.h"
#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "http/downstream_connection.h"
#include "tcp/sniff.h"

namespace remora::tcp {

struct Detection {
  Sniffed kind = Sniffed::kOther;  // kOther: opaque TCP
  std::string sni;                 // kTls: the server name asked for
  bool timed_out = false;          // nothing arrived within detection_timeout
};

class DetectionOwner : public http::ConnectionOwner {
 public:
  // The protocol of the connection on `fd` is known: the owner starts its handler.
  virtual void startDetected(std::shared_ptr<http::ListenerSlot> slot, Fd fd, std::string peer,
                             Detection detection) = 0;
};

class ProtocolDetector final : public http::DownstreamConnection {
 public:
  ProtocolDetector(Dispatcher& dispatcher, DetectionOwner& owner,
                   std::shared_ptr<http::ListenerSlot> slot, Fd fd, std::string peer);
  ~ProtocolDetector() override;

  // Nothing was read: drain closes it at once.
  void closeWhenIdle() override { finish(false); }

 private:
  static void onReadable(evutil_socket_t, short, void* arg);
  static void onTimeout(void* arg);
  void peek();
  // Hands the socket on with `detection` (`handoff`), or closes it.
  void finish(bool handoff, Detection detection = {});

  Dispatcher& dispatcher_;
  DetectionOwner& owner_;
  std::shared_ptr<http::ListenerSlot> slot_;
  Fd fd_;
  std::string peer_;
  EventPtr read_ev_;
  LazyTimer timer_;
  bool done_ = false;
};

}  // namespace remora::tcp
