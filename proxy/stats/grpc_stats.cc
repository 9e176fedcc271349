#include "stats/grpc_stats.h"

namespace remora::stats {

size_t GrpcStats::slot(std::string_view service, std::string_view method) {
  if (service.empty() || method.empty()) return kOtherSlot;
  key_.assign(service).push_back('/');
  key_.append(method);
  auto it = index_.find(std::string_view(key_));
  if (it != index_.end()) return it->second;
  size_t n = published_.load(std::memory_order_relaxed);
  if (n == kMaxMethods) return kOtherSlot;
  names_[n].service.assign(service);
  names_[n].method.assign(method);
  index_.emplace(key_, n);
  published_.store(n + 1, std::memory_order_release);  // names first, then the count
  return n;
}

GrpcStats& grpcStatsOf(ListenerStats& listener) {
  GrpcStats* g = listener.grpc.load(std::memory_order_relaxed);
  if (g == nullptr) {
    g = new GrpcStats();
    listener.grpc.store(g, std::memory_order_release);
  }
  return *g;
}

ListenerStats::~ListenerStats() {
  delete grpc.load(std::memory_order_relaxed);
}

}  // namespace remora::stats
