#pragma once
// Per-worker gRPC request counters of one listener, by (service, method, grpc_status).
//
// Service and method come from the request path, i.e. from the client: to keep the series count
// bounded, each worker gives its own series to the first kMaxMethods distinct pairs it sees and
// files every later pair under ("other", "other"). Statuses are 0..16 plus "unknown". Only the
// worker writes; the scraper reads names published with release/acquire, so no lock is taken on
// the request path.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "stats/stats.h"

namespace remora::stats {

class GrpcStats {
 public:
  static constexpr size_t kMaxMethods = 64;
  static constexpr size_t kOtherSlot = kMaxMethods;
  static constexpr size_t kStatusSlots = 18;  // 0..16, then "unknown"

  // Worker thread. The slot of `service`/`method` (kOtherSlot past the budget, or when either is
  // empty). Allocates only when a new pair gets a slot.
  size_t slot(std::string_view service, std::string_view method);
  void inc(size_t slot, size_t status_slot) { counts_[slot][status_slot].inc(); }

  // Scrape side (any thread): pairs [0, methodCount()) have their names published.
  size_t methodCount() const { return published_.load(std::memory_order_acquire); }
  const std::string& service(size_t slot) const { return names_[slot].service; }
  const std::string& method(size_t slot) const { return names_[slot].method; }
  uint64_t count(size_t slot, size_t status_slot) const {
    return counts_[slot][status_slot].value();
  }

 private:
  struct Name {
    std::string service;
    std::string method;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::array<Name, kMaxMethods> names_;
  std::atomic<size_t> published_{0};
  // "service/method" → slot; the worker's own, never read by the scraper.
  std::unordered_map<std::string, size_t, KeyHash, std::equal_to<>> index_;
  std::string key_;  // scratch for lookups
  std::array<std::array<Counter, kStatusSlots>, kMaxMethods + 1> counts_;
};

// The listener's gRPC block, made by its worker at the first gRPC request (most listeners never
// see one, so they never pay for the table).
GrpcStats& grpcStatsOf(ListenerStats& listener);

}  // namespace remora::stats
