#pragma once
// Dispatcher: one worker's event loop and the per-worker services the request path uses.
//
// Only its own thread touches the event_base: libevent runs without its locking layer
// (evthread_use_pthreads is never called), so event_add/del cost no mutex. Other threads reach a
// worker only through post(), a mutex-guarded queue drained on an eventfd wake-up.

#include <event2/event.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/c_handles.h"

namespace remora {

// Something whose destruction must wait until the current callback has unwound.
class Deferrable {
 public:
  virtual ~Deferrable() = default;
};

class Dispatcher {
 public:
  Dispatcher();
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  event_base* base() const { return base_.get(); }

  // Which worker this is (0..n-1); the main thread's dispatcher says 0 and is never asked.
  size_t workerIndex() const { return worker_index_; }
  void setWorkerIndex(size_t i) { worker_index_ = i; }

  // Any thread: runs `fn` on this dispatcher's thread soon. Posted work runs before the
  // connection events that are ready in the same loop pass, and a pass runs at most
  // kMaxCallbacksPerPass connection callbacks before the loop polls again, so a loaded worker
  // gets to it within that many callbacks.
  void post(std::function<void()> fn);

  // libevent runs the active events of the lowest-numbered priority first.
  static constexpr int kPriorities = 2;
  static constexpr int kPostedPriority = 0;
  static constexpr int kDefaultPriority = kPriorities / 2;  // what event_new gives every event
  static constexpr int kMaxCallbacksPerPass = 16;

  // Owning thread: destroys `obj` after the current event callback returns.
  void deferDelete(std::unique_ptr<Deferrable> obj);

  // Runs the loop until exit() is called from this thread (or via post()). The calling thread
  // becomes the dispatcher's own.
  void run();
  // Any thread: whether the caller is this dispatcher's thread (the one that made it, until
  // run() is called on another).
  bool onOwnThread() const {
    return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }
  void exit();

  // 64 KiB read scratch reused by every connection on this thread.
  static constexpr size_t kScratchSize = 64 * 1024;
  char* scratch() { return scratch_.get(); }

  // splitmix64: fast, and a bijection of its counter, so ids built from it do not repeat.
  uint64_t random() {
    uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // A string reused to assemble message heads before one evbuffer_add.
  std::string& headerScratch() { return header_scratch_; }

 private:
  static void onWake(evutil_socket_t fd, short, void* arg);
  static void onDeferred(evutil_socket_t, short, void* arg);

  EventBasePtr base_;
  Fd wake_fd_;
  EventPtr wake_event_;
  EventPtr deferred_event_;
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::unique_ptr<Deferrable>> deferred_;
  std::unique_ptr<char[]> scratch_;
  uint64_t rng_state_;
  size_t worker_index_ = 0;
  std::string header_scratch_;
  std::atomic<std::thread::id> owner_{std::this_thread::get_id()};
};

}  // namespace remora
