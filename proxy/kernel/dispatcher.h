#pragma once
// Dispatcher: one worker's event loop and the per-worker services the request path uses.
//
// Only its own thread touches the event_base: libevent runs without its locking layer
// (evthread_use_pthreads is never called), so event_add/del cost no mutex. Other threads reach a
// worker only through post(), a mutex-guarded queue drained on an eventfd wake-up.

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "common/c_handles.h"
#include "config/config.h"

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

  // Any thread: runs `fn` on this dispatcher's thread soon.
  void post(std::function<void()> fn);

  // Owning thread: destroys `obj` after the current event callback returns.
  void deferDelete(std::unique_ptr<Deferrable> obj);

  // A timeval for event_add that libevent files in an O(1) queue per duration.
  const timeval* commonTimeout(config::Duration d);

  // Runs the loop until exit() is called from this thread (or via post()).
  void run();
  void exit();

  // 64 KiB read scratch reused by every connection on this thread.
  static constexpr size_t kScratchSize = 64 * 1024;
  char* scratch() { return scratch_.get(); }

  uint64_t random() { return rng_(); }

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
  std::map<int64_t, const timeval*> common_timeouts_;
  std::unique_ptr<char[]> scratch_;
  std::mt19937_64 rng_;
  std::string header_scratch_;
};

}  // namespace remora
