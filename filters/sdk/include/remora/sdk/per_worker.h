#pragma once
// PerWorker<T>: one T per worker thread, owned by a Config, reached without a lock.
//
// Remora's rule is "no locks on the request path": state a filter mutates per request (token
// buckets, counters, caches) lives per worker. The ABI does not number workers, so PerWorker keys
// instances by thread: the first call on a thread takes a mutex once and creates that thread's T;
// later calls hit a small thread-local cache (a few compares, no lock, no allocation).
//
// Lifetime: the T's live as long as the PerWorker (normally a member of the immutable Config),
// which the kernel frees only when no stream uses that Config any more, so no worker can be
// inside local() while it is destroyed. The thread-local cache is trivially destructible on
// purpose: a thread_local with a destructor would pin the plugin in memory (dlclose would do
// nothing until every worker exits), defeating hot swap.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "remora/sdk/host.h"

namespace remora::sdk {

namespace detail {
struct WorkerCacheEntry {
  uint64_t owner;  // PerWorker id; ids are never reused, so a stale entry never matches
  void* instance;
};
struct WorkerCache {
  static constexpr unsigned kSize = 8;
  WorkerCacheEntry entries[kSize];
  unsigned next;
};
REMORA_SDK_HIDDEN inline thread_local WorkerCache t_worker_cache{};
REMORA_SDK_HIDDEN inline std::atomic<uint64_t> g_next_per_worker_id{1};
}  // namespace detail

template <typename T>
class PerWorker {
 public:
  using Factory = std::function<std::unique_ptr<T>()>;

  // `factory` builds a thread's T on its first local() call, on that thread. It must be safe to
  // call from any worker (it normally captures only immutable config).
  explicit PerWorker(Factory factory)
      : id_(detail::g_next_per_worker_id.fetch_add(1, std::memory_order_relaxed)),
        factory_(std::move(factory)) {}
  PerWorker() : PerWorker([] { return std::make_unique<T>(); }) {}
  PerWorker(const PerWorker&) = delete;
  PerWorker& operator=(const PerWorker&) = delete;

  // This thread's T (worker thread). Never shared with another thread, so T needs no locks.
  T& local() const {
    detail::WorkerCache& cache = detail::t_worker_cache;
    for (const detail::WorkerCacheEntry& e : cache.entries) {
      if (e.owner == id_) return *static_cast<T*>(e.instance);
    }
    T* t = slowLocal();
    cache.entries[cache.next] = detail::WorkerCacheEntry{id_, t};
    cache.next = (cache.next + 1) % detail::WorkerCache::kSize;
    return *t;
  }

  // How many threads have an instance (any thread; for tests and introspection).
  size_t threadCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return slots_.size();
  }

 private:
  // First use on this thread, or the cache evicted this owner: look the slot up under the lock.
  T* slowLocal() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<T>& slot = slots_[std::this_thread::get_id()];
    if (!slot) slot = factory_();
    return slot.get();
  }

  const uint64_t id_;
  const Factory factory_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::thread::id, std::unique_ptr<T>> slots_;
};

}  // namespace remora::sdk
