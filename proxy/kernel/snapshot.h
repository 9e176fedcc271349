#pragma once
// A config in service: immutable, versioned, shared by every worker. Workers compile their own
// per-thread runtime (routes with per-worker clusters) from it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <map>

#include "config/config.h"
#include "kernel/tls_material.h"
#include "plugin/filter_chain.h"

namespace remora {

struct Snapshot {
  uint64_t version = 0;
  std::shared_ptr<const config::Config> config;
  // Compiled filter chains by listener name (listeners with a `filters` list only).
  std::map<std::string, std::shared_ptr<const plugin::FilterChain>> chains;
  // TLS contexts by listener and cluster name (those with a `tls:` block only).
  TlsContexts tls;
  std::string source;  // "file", "sighup", ...
  std::chrono::system_clock::time_point applied_at;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace remora
