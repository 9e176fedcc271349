#include "http/downstream_connection.h"

#include <event2/buffer.h>

namespace remora::http {

bool writeOut(evbuffer* out, network::Transport& transport, event* write_ev, bool& write_pending,
              stats::ListenerStats& stats) {
  size_t len = evbuffer_get_length(out);
  ssize_t n = network::writeAvailable(transport, out, len);
  if (n < 0) return false;
  stats.bytes_sent.inc(uint64_t(n));
  bool pending = len > 0 || transport.wantsWrite();
  if (pending != write_pending) {
    pending ? event_add(write_ev, nullptr) : event_del(write_ev);
    write_pending = pending;
  }
  return true;
}

}  // namespace remora::http
