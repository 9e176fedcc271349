#pragma once
// HealthProbe: one active health check of one endpoint — connect, `GET <path>` with
// `Connection: close`, read the status line, done. Runs on the main thread's event_base (DESIGN
// §2: the main thread runs health checks); workers never see it. Its bytes move through a
// network::Transport like every other connection's. The owner destroys the probe after its
// callback, through Dispatcher::deferDelete (the callback runs inside the probe's own libevent
// callbacks).

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>

#include "common/c_handles.h"
#include "config/config.h"
#include "event/dispatcher.h"
#include "network/tls_context.h"
#include "network/transport.h"
#include "upstream/connect_step.h"

namespace remora::upstream {

struct ProbeResult {
  enum class Kind { kPass, kBadStatus, kTimeout, kConnectFailed, kError };
  Kind kind = Kind::kError;
  int status = 0;      // the response's status, when one arrived
  std::string detail;  // "status 503", "timeout after 1000 ms", "connect refused", ...
};

// The metric label of a result kind: success, bad_status, timeout, connect_failed, error.
const char* probeResultLabel(ProbeResult::Kind kind);

class HealthProbe : public Deferrable {
 public:
  using Done = std::function<void(const ProbeResult&)>;

  // Starts the check at once; `done` runs exactly once, later, on `base`'s thread (never from
  // inside start). `address` is the endpoint (also the Host header). With `tls` (the cluster's
  // context) the check runs over TLS, verified as the cluster's requests are.
  static std::unique_ptr<HealthProbe> start(event_base* base, const config::SocketAddress& address,
                                            const config::HealthCheck& check,
                                            std::shared_ptr<const network::TlsClientContext> tls,
                                            Done done);
  ~HealthProbe() override;

 private:
  HealthProbe() = default;
  static void onSocket(evutil_socket_t, short what, void* arg);
  static void onTimeout(evutil_socket_t, short, void* arg);
  void onWritable();
  void onReadable();
  // Parses the status line once `in_` holds one; false while it is still incomplete.
  bool statusLineArrived();
  void finish(ProbeResult result);

  std::unique_ptr<network::Transport> transport_;
  EventPtr read_ev_;
  EventPtr write_ev_;
  EventPtr timer_;
  EvbufferPtr out_;  // the request, until it is sent
  std::string in_;   // the response's first bytes, until the status line is complete
  const config::HealthCheck* check_ = nullptr;  // owned by the checker, outlives the probe
  Done done_;
  bool connected_ = false;
  bool open_ = false;  // connected and, over TLS, handshake done
  bool write_pending_ = true;
  ConnectStep step_;
  stats::TlsStats tls_stats_;  // ConnectStep counts here; health checks report by result kind
  bool finished_ = false;
};

}  // namespace remora::upstream
