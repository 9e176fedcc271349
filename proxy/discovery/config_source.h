#pragma once
// EtcdConfigSource: the sidecar's config from etcd (DESIGN §6). It mirrors `<prefix>config`,
// submits each new value through the same path as a reload, and writes its answer to
// `<prefix>status/<instance>` — like an xDS ACK/NACK:
//   {"instance":"web-1","state":"ACK","version":7,"revision":"42","applied_revision":"42"}
//   {"instance":"web-1","state":"NACK","revision":"43","errors":["clusters[0]..."],
//    "version":7,"applied_revision":"42"}
// with one "path: message" string per error of the refusal (FieldError::str()).
// While etcd is unreachable the running config stays in service; the mirror reconnects and
// resumes. Main thread only.

#include <functional>
#include <memory>
#include <string>

#include "common/field_error.h"
#include "config/config.h"
#include "etcd/mirror.h"

namespace remora::discovery {

// What applying a config text gave: the version now in service, or why it was refused.
struct Outcome {
  bool ok = false;
  uint64_t version = 0;  // the applied version (ok) or the one still in service (refused)
  FieldErrors errors;
};
using SubmitFn = std::function<Outcome(const std::string& yaml, const std::string& source)>;

class EtcdConfigSource {
 public:
  EtcdConfigSource(etcd::Client& client, const config::EtcdSource& source, SubmitFn submit);
  void start() { mirror_.start(); }
  std::string configKey() const { return source_.prefix + "config"; }
  std::string statusKey() const { return source_.prefix + "status/" + source_.instance; }

 private:
  static void onRetry(evutil_socket_t, short, void* arg);
  void onChange(const etcd::Mirror::State& state);
  void writeStatus();

  etcd::Client& client_;
  config::EtcdSource source_;
  SubmitFn submit_;
  etcd::Mirror mirror_;
  int64_t seen_revision_ = 0;     // the config key's mod_revision last submitted
  int64_t applied_revision_ = 0;  // the one in service
  std::string status_;            // the JSON to write; rewritten until a put succeeds
  bool status_dirty_ = false;
  etcd::Backoff backoff_;
  EventPtr retry_timer_;
  etcd::ExchangeHandle put_;
};

}  // namespace remora::discovery
